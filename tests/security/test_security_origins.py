"""The key goes to the API's origin only: not to other hosts, ports, or redirect targets.

Two local servers on different ports are two origins (scheme, host, port).
"""

from __future__ import annotations

import shutil
import ssl
import subprocess
from collections.abc import AsyncIterator
from pathlib import Path

import aiohttp
import pytest
from _faultkit import API_KEY, IMAGE, HttpFaultServer, settle

from floimg_async import APIConnectionError, ExecutionOutput, FloImg, Image


@pytest.fixture
async def other_origin() -> AsyncIterator[HttpFaultServer]:
    """A second server: same host, another port, so another origin (a CDN, an attacker)."""
    async with HttpFaultServer() as server:
        yield server


def client_for(server: HttpFaultServer) -> FloImg:
    return FloImg(api_key=API_KEY, base_url=server.base_url, timeout=2.0)


def assert_no_key(server: HttpFaultServer) -> None:
    assert server.seen, "the other origin got no request: the test proves nothing"
    for seen in server.seen:
        assert "Authorization" not in seen.headers, seen
        assert all(API_KEY not in value for value in seen.headers.values()), seen


@pytest.mark.parametrize("form", ["url", "image", "output"])
@pytest.mark.parametrize("to_file", [False, True])
async def test_security_download_from_other_origin_sends_no_key(
    http_server: HttpFaultServer,
    other_origin: HttpFaultServer,
    tmp_path: Path,
    form: str,
    to_file: bool,
) -> None:
    url = f"{other_origin.origin}/files/cdn.png"
    target: str | Image | ExecutionOutput = {
        "url": url,
        "image": Image(id="img_1", url=url),
        "output": ExecutionOutput(url=url),
    }[form]
    async with client_for(http_server) as client:
        result = await client.images.download(target, dest=tmp_path if to_file else None)
    if to_file:
        assert isinstance(result, Path) and result.read_bytes() == IMAGE
    else:
        assert result == IMAGE
    assert_no_key(other_origin)
    assert http_server.seen == []
    await settle(http_server, other_origin)


async def test_security_callers_session_gets_the_key_per_request_only(
    http_server: HttpFaultServer, other_origin: HttpFaultServer
) -> None:
    """With the caller's own session the key goes with each API request, never into the
    session: the caller's other requests and the SDK's off-origin downloads go without it."""
    async with aiohttp.ClientSession() as session:
        async with FloImg(api_key=API_KEY, base_url=http_server.base_url, session=session) as c:
            await c.images.download(f"{other_origin.origin}/files/cdn.png")
            await c.images.download("/files/own.png")
        async with session.get(f"{other_origin.origin}/files/theirs.png") as resp:
            await resp.read()
        assert not session.closed
    assert_no_key(other_origin)
    assert len(other_origin.seen) == 2
    assert [s.headers.get("Authorization") for s in http_server.seen] == [f"Bearer {API_KEY}"]
    await settle(http_server, other_origin)


async def test_security_off_origin_session_shares_the_pool_and_closes_with_it(
    http_server: HttpFaultServer, other_origin: HttpFaultServer
) -> None:
    """The key-less session for other origins rides on the client's one connection pool,
    and closing the client closes both sessions and the pool."""
    client = client_for(http_server)
    async with client:
        await client.images.download("/files/own.png")
        await client.images.download(f"{other_origin.origin}/files/cdn.png")
        pool = client._sender.shared.transport
        api, public = pool.get_session(), pool.get_public_session()
        assert api is not public and api.connector is public.connector
        assert "Authorization" in api.headers and "Authorization" not in public.headers
    assert api.closed and public.closed and api.connector is None
    assert_no_key(other_origin)
    await settle(http_server, other_origin)


async def test_security_download_on_api_origin_sends_key(http_server: HttpFaultServer) -> None:
    """The positive control: the API's own origin (absolute or relative URL) gets the key."""
    async with client_for(http_server) as client:
        await client.images.download(f"{http_server.origin}/files/a.png")
        await client.images.download("/files/b.png")
    assert [s.headers.get("Authorization") for s in http_server.seen] == [f"Bearer {API_KEY}"] * 2
    await settle(http_server)


@pytest.mark.parametrize("path", ["/files/moved.png", "/v1/workflows/wf_moved"])
async def test_security_redirect_to_other_origin_strips_key(
    http_server: HttpFaultServer, other_origin: HttpFaultServer, tmp_path: Path, path: str
) -> None:
    """The API origin redirects (302) to another origin: the key stays behind."""
    http_server.redirects[path] = f"{other_origin.origin}{path}"
    async with client_for(http_server) as client:
        if path.startswith("/files/"):
            await client.images.download(f"{http_server.origin}{path}", dest=tmp_path)
        else:
            await client.workflows.get("wf_moved")
    assert http_server.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"
    assert_no_key(other_origin)
    await settle(http_server, other_origin)


async def test_security_redirect_from_other_origin_back_to_api_origin(
    http_server: HttpFaultServer, other_origin: HttpFaultServer
) -> None:
    """A CDN URL that redirects onto the API's origin: the request started off-origin, so
    the SDK attached no key, and nothing adds one on the way."""
    other_origin.redirects["/files/bounce.png"] = f"{http_server.origin}/files/landing.png"
    async with client_for(http_server) as client:
        await client.images.download(f"{other_origin.origin}/files/bounce.png")
    assert_no_key(other_origin)
    assert http_server.seen and all("Authorization" not in s.headers for s in http_server.seen)
    await settle(http_server, other_origin)


# -- TLS ----------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def self_signed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A throwaway self-signed certificate for 127.0.0.1 (made with the openssl CLI)."""
    if shutil.which("openssl") is None:
        pytest.skip("the openssl command is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "1",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
        timeout=30,
    )
    return cert, key


@pytest.fixture
async def tls_server(self_signed: tuple[Path, Path]) -> AsyncIterator[HttpFaultServer]:
    cert, key = self_signed
    context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    context.load_cert_chain(cert, key)
    async with HttpFaultServer(ssl_context=context) as server:
        yield server


async def test_security_tls_is_verified_by_default(tls_server: HttpFaultServer) -> None:
    """An https API whose certificate is not trusted: the call fails before any HTTP request,
    so the key never reaches a peer that could not prove who it is."""
    assert tls_server.base_url.startswith("https://")
    async with FloImg(api_key=API_KEY, base_url=tls_server.base_url, max_retries=0) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.workflows.get("wf_1")
    assert "certificate" in str(info.value).lower() or "ssl" in str(info.value).lower()
    assert tls_server.seen == []
    assert API_KEY not in str(info.value)


async def test_security_tls_trust_is_the_callers_choice(
    tls_server: HttpFaultServer, self_signed: tuple[Path, Path]
) -> None:
    """Trusting a private CA is done with the caller's own session, never by turning
    verification off inside the SDK."""
    context = ssl.create_default_context(cafile=str(self_signed[0]))
    async with (
        aiohttp.ClientSession(connector=aiohttp.TCPConnector(ssl=context)) as session,
        FloImg(api_key=API_KEY, base_url=tls_server.base_url, session=session) as client,
    ):
        workflow = await client.workflows.get("wf_1")
    assert workflow.id == "wf_1"
    assert tls_server.seen[0].headers["Authorization"] == f"Bearer {API_KEY}"
