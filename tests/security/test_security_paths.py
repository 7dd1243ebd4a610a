"""Ids cannot reach another endpoint, base URLs cannot leak the key, downloads stay put."""

from __future__ import annotations

import contextlib
import os
from pathlib import Path
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest
from _faultkit import API_KEY, IMAGE, HttpFaultServer, settle

from floimg_async import FloImg, NotFoundError

HOSTILE_IDS = [
    "../projects",
    "../../v1/projects",
    "a/b",
    "wf?limit=1000",
    "wf#fragment",
    "%2e%2e",
    "..%2Fprojects",
    "wf 1",
    "wf\\..\\x",
    "ünïcødé",
    "wf;drop",
    "...",
]


def client_for(server: HttpFaultServer) -> FloImg:
    return FloImg(api_key=API_KEY, base_url=server.base_url, timeout=2.0, max_retries=0)


@pytest.mark.parametrize("workflow_id", HOSTILE_IDS)
@pytest.mark.parametrize("call", ["workflows.get", "executions.get", "images.get", "images.delete"])
async def test_security_ids_are_one_encoded_segment(
    http_server: HttpFaultServer, workflow_id: str, call: str
) -> None:
    prefix = {
        "workflows.get": "/v1/workflows/",
        "executions.get": "/v1/workflows/executions/",
        "images.get": "/v1/storage/images/",
        "images.delete": "/v1/storage/images/",
    }[call]
    async with client_for(http_server) as client:
        namespace, method = call.split(".")
        # The fake API may not know the route: only the path sent matters.
        with contextlib.suppress(NotFoundError):
            await getattr(getattr(client, namespace), method)(workflow_id)
    assert len(http_server.seen) == 1
    sent = http_server.seen[0].path
    assert sent.startswith(prefix), sent
    # One segment: no slash, query or fragment was smuggled in, and it decodes to the id.
    # (aiohttp's URL library may leave harmless sub-delimiters such as "=" or ";" unescaped.)
    tail = sent[len(prefix) :]
    assert "/" not in tail and "?" not in tail and "#" not in tail, sent
    assert unquote(tail) == workflow_id, sent
    assert tail.replace("=", "%3D").replace(";", "%3B") == quote(workflow_id, safe=""), sent
    await settle(http_server)


async def test_security_dot_dot_get_requests_encoded_path(http_server: HttpFaultServer) -> None:
    """The headline case: ``get("../projects")`` asks for ``workflows/..%2Fprojects``."""
    async with client_for(http_server) as client:
        workflow = await client.workflows.get("../projects")
    assert http_server.paths() == ["/v1/workflows/..%2Fprojects"]
    assert workflow.id == "../projects"
    await settle(http_server)


@pytest.mark.parametrize("bad", [".", "..", "", "   "])
async def test_security_dot_and_empty_ids_refused(tripwire: HttpFaultServer, bad: str) -> None:
    async with client_for(tripwire) as client:
        for call in (
            client.workflows.get,
            client.executions.get,
            client.images.get,
            client.images.delete,
            client.workflows.execute,
            client.workflows.submit,
        ):
            with pytest.raises(ValueError):
                await call(bad)
        with pytest.raises(ValueError):
            await client.executions.wait(bad)


async def test_security_query_values_cannot_inject_parameters(http_server: HttpFaultServer) -> None:
    async with client_for(http_server) as client:
        await client.workflows.list(project_id="p&limit=1000&offset=-1#x").to_list()
    query = parse_qs(urlsplit(http_server.seen[0].path).query)
    assert query == {"limit": ["20"], "offset": ["0"], "projectId": ["p&limit=1000&offset=-1#x"]}
    await settle(http_server)


async def test_security_upload_filename_cannot_break_the_multipart_header(
    http_server: HttpFaultServer,
) -> None:
    # (Names with CR/LF are refused outright: tests/security/test_security_hostile.py.)
    evil = 'evil".png; filename="x.html'
    async with client_for(http_server) as client:
        await client.images.upload(b"\x89PNG data", name=evil)
    body = http_server.seen[0].body
    disposition = [line for line in body.split(b"\r\n") if line.startswith(b"Content-Disposition")]
    file_line = next(line for line in disposition if b'name="file"' in line)
    # The filename stays one quoted parameter on one header line.
    assert file_line.count(b'"') == 4, file_line
    assert b"\r\nContent-Type: text/html\r\n" not in body.split(b"\r\n\r\n", 1)[0]
    await settle(http_server)


# -- base URLs and plain http ---------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "http://api.floimg.com/v1",
        "http://10.0.0.5:8080/v1",
        "http://127.0.0.1.nip.io/v1",
        "http://localhost.evil.example/v1",
        "http://[2001:db8::1]/v1",
    ],
)
def test_security_plain_http_to_remote_host_refused(url: str) -> None:
    with pytest.raises(ValueError) as info:
        FloImg(api_key=API_KEY, base_url=url)
    assert "allow_insecure_http" in str(info.value)
    assert API_KEY not in str(info.value)
    # Opting in is explicit, and only then accepted (no request is made here).
    FloImg(api_key=API_KEY, base_url=url, allow_insecure_http=True)


def test_security_plain_http_from_env_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("FLOIMG_BASE_URL", "http://api.floimg.com/v1")
    with pytest.raises(ValueError):
        FloImg(api_key=API_KEY)


@pytest.mark.parametrize(
    "url",
    ["http://127.0.0.1:8080/v1", "http://localhost:8080/v1", "http://[::1]:8080/v1/"],
)
def test_security_plain_http_to_loopback_allowed(url: str) -> None:
    assert FloImg(api_key=API_KEY, base_url=url).base_url == url.rstrip("/")


@pytest.mark.parametrize(
    "url",
    [
        "ftp://api.floimg.com/v1",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "api.floimg.com/v1",
        "https://",
        "https://api.floimg.com/v1?key=x",
        "https://api.floimg.com/v1#x",
    ],
)
def test_security_bad_base_urls_refused(url: str) -> None:
    with pytest.raises(ValueError):
        FloImg(api_key=API_KEY, base_url=url)


def test_security_https_default_base_url(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("FLOIMG_BASE_URL", raising=False)
    assert FloImg(api_key=API_KEY).base_url == "https://api.floimg.com/v1"


async def test_security_download_non_http_url_refused(tripwire: HttpFaultServer) -> None:
    async with client_for(tripwire) as client:
        for url in ("file:///etc/passwd", "ftp://example.invalid/a.png", "data:,hello"):
            with pytest.raises(ValueError):
                await client.images.download(url)


# -- download destinations ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "name",
    [
        "..%2F..%2Fevil.png",
        "%2e%2e%2F%2e%2e%2Fevil.png",
        "..%5C..%5Cevil.png",
        "%2Ftmp%2Fevil.png",
        "%2e%2e",
        "..",
        "evil.png%00.txt",
    ],
)
async def test_security_download_writes_only_inside_dest_dir(
    http_server: HttpFaultServer, tmp_path: Path, name: str
) -> None:
    """A URL whose file name tries to climb out of ``dest`` writes inside ``dest`` or is
    refused; nothing is ever written outside it."""
    dest = tmp_path / "a" / "b" / "downloads"
    dest.mkdir(parents=True)
    before = {p for p in tmp_path.rglob("*")}
    url = f"{http_server.origin}/files/{name}"
    async with client_for(http_server) as client:
        try:
            result = await client.images.download(url, dest=dest)
        except ValueError:
            result = None
    created = {p for p in tmp_path.rglob("*")} - before
    for path in created:
        assert path.resolve().parent == dest.resolve(), f"written outside dest: {path}"
    if result is not None:
        assert isinstance(result, Path)
        assert result.resolve().parent == dest.resolve()
        assert result.read_bytes() == IMAGE
    assert not (tmp_path / "evil.png").exists()
    assert not (tmp_path / "a" / "evil.png").exists()
    await settle(http_server)


async def test_security_download_replaces_a_symlink_not_its_target(
    http_server: HttpFaultServer, tmp_path: Path
) -> None:
    """A planted symlink at the destination name is replaced; its target is untouched."""
    outside = tmp_path / "precious.txt"
    outside.write_text("keep me")
    dest = tmp_path / "downloads"
    dest.mkdir()
    (dest / "img.png").symlink_to(outside)
    async with client_for(http_server) as client:
        result = await client.images.download(f"{http_server.origin}/files/img.png", dest=dest)
    assert result == dest / "img.png"
    assert not os.path.islink(result)
    assert result.read_bytes() == IMAGE
    assert outside.read_text() == "keep me"
    await settle(http_server)


async def test_security_download_to_missing_folder_refused(
    tripwire: HttpFaultServer, tmp_path: Path
) -> None:
    async with client_for(tripwire) as client:
        with pytest.raises(ValueError):
            await client.images.download(
                f"{tripwire.origin}/files/a.png", dest=tmp_path / "nope" / "a.png"
            )
    assert not (tmp_path / "nope").exists()
