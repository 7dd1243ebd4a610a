"""Hostile requests: whatever a client sends, the emulator answers 4xx with the envelope, never 5xx.

Hypothesis builds query strings, JSON bodies and multipart bodies (well-formed, broken,
truncated, with control characters or undecodable bytes in a part's headers) and sends
them with raw aiohttp to one real emulator on 127.0.0.1. Every answer must be a success
the API documents, or an error in the API's envelope with a documented code; the only
5xx allowed is ``500 workflow_failed`` for an execution that ran and failed.
"""

from __future__ import annotations

import asyncio
import io
import json
import re
import string
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import quote

import aiohttp
import pytest
from floimg_emulator import EmulatorThread
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image

SETTINGS = settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
    database=None,
)
MAX_UPLOAD = 4096
CODES = {
    400: "invalid_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    429: "rate_limited",
}


@dataclass
class Answer:
    status: int
    headers: Any
    raw: bytes

    def json(self) -> Any:
        return json.loads(self.raw)


class Raw:
    """Send raw requests to one emulator from synchronous hypothesis tests."""

    def __init__(self, emu: EmulatorThread) -> None:
        self.emu = emu
        self.loop = asyncio.new_event_loop()
        self.session = self.loop.run_until_complete(self._session())
        self.auth = {"Authorization": f"Bearer {emu.api_key}"}

    @staticmethod
    async def _session() -> aiohttp.ClientSession:
        return aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=20))

    def send(
        self,
        method: str,
        path: str,
        *,
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        query: str = "",
    ) -> Answer:
        url = self.emu.base_url + path + (f"?{query}" if query else "")

        async def go() -> Answer:
            async with self.session.request(
                method,
                aiohttp.client.URL(url, encoded=True),
                data=io.BytesIO(data) if data is not None else None,
                headers={**self.auth, **(headers or {})},
            ) as resp:
                return Answer(resp.status, resp.headers, await resp.read())

        return self.loop.run_until_complete(go())

    def close(self) -> None:
        self.loop.run_until_complete(self.session.close())
        self.loop.close()


@pytest.fixture(scope="module")
def raw() -> Iterator[Raw]:
    with EmulatorThread(execution_time=0.0, max_upload_bytes=MAX_UPLOAD) as emu:
        client = Raw(emu)
        try:
            yield client
        finally:
            client.close()


def assert_no_server_error(answer: Answer, *, allow_workflow_failed: bool = False) -> None:
    """Assert a documented answer: a 2xx, or an error envelope with the status's code."""
    assert answer.headers["Content-Type"].startswith("application/json"), answer
    body = answer.json()
    if answer.status < 300:
        assert isinstance(body, dict) and not isinstance(body.get("error"), dict), body
        return
    if answer.status == 500 and allow_workflow_failed:
        assert body["error"]["code"] == "workflow_failed", body
    else:
        assert answer.status in CODES, (answer.status, body)
        assert body["error"]["code"] == CODES[answer.status], body
    error = body["error"]
    assert set(error) >= {"code", "message", "details"}
    assert isinstance(error["message"], str) and error["message"]
    assert isinstance(error["details"], dict)


# -- query strings ------------------------------------------------------------------------

LISTINGS = ["/workflows", "/storage/images", "/projects"]
numbers = st.one_of(
    st.integers().map(str),
    st.integers(min_value=2**53 - 3, max_value=2**70).map(str),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.sampled_from(
        ["1e20", "NaN", "-0", "+5", "1_0", "0x10", " 5", "\uff15", "\u0661", "", "20.0"]
    ),
    st.text(max_size=12),
    st.text(alphabet=string.digits, min_size=15, max_size=400),
)


@SETTINGS
@given(path=st.sampled_from(LISTINGS), limit=st.none() | numbers, offset=st.none() | numbers)
def test_any_paging_values_get_a_page_or_a_400(
    raw: Raw, path: str, limit: str | None, offset: str | None
) -> None:
    pairs = [(k, v) for k, v in (("limit", limit), ("offset", offset)) if v is not None]
    answer = raw.send("GET", path, query="&".join(f"{k}={quote(v)}" for k, v in pairs))
    assert_no_server_error(answer)
    plain = {k: v for k, v in pairs}
    ok = all(re.fullmatch("-?[0-9]+", v) for v in plain.values())
    ok = ok and 1 <= int(plain.get("limit", "20")) <= 100
    ok = ok and 0 <= int(plain.get("offset", "0")) <= 2**53 - 1
    if ok:
        assert answer.status == 200, answer
        body = answer.json()
        items = next(v for v in body.values() if isinstance(v, list))
        assert len(items) <= int(plain.get("limit", "20"))
        assert body["hasMore"] is (int(plain.get("offset", "0")) + len(items) < body["total"])
    else:
        assert answer.status == 400, answer
        assert answer.json()["error"]["details"]["field"] in plain


@pytest.mark.parametrize(
    "query",
    [
        "offset=1e20",
        "offset=100000000000000000000",
        "offset=-1",
        "offset=NaN",
        "offset=1.5",
        "limit=0",
        "limit=101",
        "limit=%EF%BC%95",
        "limit=" + "9" * 5000,
    ],
)
def test_odd_paging_values_are_400_naming_the_field(raw: Raw, query: str) -> None:
    answer = raw.send("GET", "/workflows", query=query)
    assert answer.status == 400
    assert answer.json()["error"]["details"]["field"] == query.split("=")[0]


@SETTINGS
@given(
    path=st.sampled_from(["/workflows/", "/storage/images/", "/workflows/executions/"]),
    ident=st.text(max_size=40),
    params=st.dictionaries(st.text(max_size=8), st.text(max_size=20), max_size=3),
)
def test_any_ids_and_query_parameters(
    raw: Raw, path: str, ident: str, params: dict[str, str]
) -> None:
    query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params.items())
    answer = raw.send("GET", path + quote(ident, safe=""), query=query)
    assert_no_server_error(answer)


# -- JSON bodies --------------------------------------------------------------------------

json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(max_size=30),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner),
    max_leaves=12,
)
workflow_ids = st.sampled_from(["wf_flaky", "wf_social_card", "wf_thumbnail", "nope"]) | st.text()
execute_bodies = st.fixed_dictionaries(
    {},
    optional={
        "workflowId": workflow_ids | json_values,
        "parameters": st.dictionaries(
            st.sampled_from(["prompt", "fail", "width", "imageId", "caption", "x"]), json_values
        )
        | json_values,
        "async": st.booleans() | json_values,
    },
)
hostile_bytes = st.one_of(
    st.binary(max_size=200),
    st.sampled_from(
        [
            b"[" * 50_000 + b"]" * 50_000,
            b'{"name": "\\ud800"}',
            b'{"workflowId": "wf_flaky", "parameters": {"prompt": "\\udfff"}}',
            b'{"name": NaN}',
            b'{"workflowId": "wf_flaky", "parameters": {"width": 1e400}}',
            b'{"workflowId": "wf_flaky", "parameters": {"prompt": Infinity}}',
            b'{"name": "x"',
            b"\xff\xfe{}",
            b"",
            b"null",
            b"{" + b'"a":' * 40 + b"1" + b"}" * 40,
        ]
    ),
)


@SETTINGS
@given(
    path=st.sampled_from(["/projects", "/workflows/execute"]),
    body=st.one_of(
        json_values.map(lambda v: json.dumps(v).encode()),
        execute_bodies.map(lambda v: json.dumps(v).encode()),
        hostile_bytes,
    ),
    content_type=st.sampled_from(["application/json", "text/plain", "application/x-nonsense"]),
)
def test_any_json_body_gets_a_documented_answer(
    raw: Raw, path: str, body: bytes, content_type: str
) -> None:
    answer = raw.send("POST", path, data=body, headers={"Content-Type": content_type})
    assert_no_server_error(answer, allow_workflow_failed=path.endswith("execute"))


def test_json_body_over_the_limit_is_400_not_413(raw: Raw) -> None:
    answer = raw.send("POST", "/projects", data=b" " * (1024**2 + 10))
    assert answer.status == 400
    assert answer.json()["error"]["details"]["reason"] == "too_large"


# -- multipart ---------------------------------------------------------------------------


def png(size: int = 8) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", (size, size), "green").save(buf, format="PNG")
    return buf.getvalue()


header_text = st.text(alphabet=st.characters(max_codepoint=0x2FF), max_size=20)
header_bytes = st.one_of(
    header_text.map(lambda t: t.encode("utf-8", "surrogatepass")),
    st.binary(max_size=20),
    st.sampled_from([b"\x00", b"\x01", b"\x7f", b"\x1b[31m", b"\xed\xa0\x80", b"\x85", b"\r"]),
)


@st.composite
def multipart_bodies(draw: st.DrawFn) -> tuple[bytes, str]:
    boundary = draw(st.sampled_from(["b0undary", "XyZ", "a" * 70]))
    parts = []
    for _ in range(draw(st.integers(0, 3))):
        name = draw(st.sampled_from([b"file", b"name", b"projectId", b"other"]) | header_bytes)
        disposition = b'form-data; name="' + name + b'"'
        if draw(st.booleans()):
            disposition += b'; filename="' + draw(header_bytes) + b'"'
        if draw(st.booleans()):
            disposition += b"; filename*=" + draw(header_bytes)
        lines = [b"Content-Disposition: " + disposition]
        if draw(st.booleans()):
            lines.append(draw(header_bytes) + b": " + draw(header_bytes))
        content = draw(st.sampled_from([png(), png(40), b"", b"not an image"]) | st.binary())
        parts.append(b"\r\n".join(lines) + b"\r\n\r\n" + content)
    sep = b"--" + boundary.encode()
    body = b"".join(sep + b"\r\n" + p + b"\r\n" for p in parts) + sep + b"--\r\n"
    cut = draw(st.none() | st.integers(0, len(body)))
    if cut is not None:
        body = body[:cut]
    declared = draw(st.sampled_from([boundary, boundary, "other", ""]))
    content_type = "multipart/form-data" + (f"; boundary={declared}" if declared else "")
    return body, content_type


@SETTINGS
@given(upload=multipart_bodies())
def test_any_multipart_body_gets_a_documented_answer(raw: Raw, upload: tuple[bytes, str]) -> None:
    body, content_type = upload
    answer = raw.send("POST", "/storage/upload", data=body, headers={"Content-Type": content_type})
    assert_no_server_error(answer)
    assert answer.status in (201, 400), answer


def multipart(*parts: bytes, boundary: bytes = b"XX") -> bytes:
    sep = b"--" + boundary
    return b"".join(sep + b"\r\n" + p + b"\r\n" for p in parts) + sep + b"--\r\n"


FILE = b'Content-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n'


@pytest.mark.parametrize(
    ("case", "body"),
    [
        ("truncated inside the file", (b"--XX\r\n" + FILE + png())[:-5]),
        ("truncated in the headers", b'--XX\r\nContent-Disposition: form-data; na'),
        ("no closing boundary", b"--XX\r\n" + FILE + png()),
        ("NUL in the filename", multipart(FILE.replace(b"a.png", b"a\x00.png") + png())),
        ("ESC in the filename", multipart(FILE.replace(b"a.png", b"\x1b[2Ja.png") + png())),
        ("DEL in a header", multipart(b"X-Note: a\x7fb\r\n" + FILE + png())),
        ("not UTF-8 in the filename", multipart(FILE.replace(b"a.png", b"\xed\xa0\x80") + png())),
        ("a line that is no header", multipart(b"not a header\r\n" + FILE + png())),
        ("bad filename*", multipart(FILE.replace(b'"a.png"', b"x; filename*=q''%ZZ") + png())),
        ("control character in a field", multipart(FILE + png(), b'Content-Disposition: '
                                                   b'form-data; name="name"\r\n\r\na\x07b')),
    ],
)  # fmt: skip
def test_broken_multipart_is_400_invalid_request(raw: Raw, case: str, body: bytes) -> None:
    answer = raw.send(
        "POST",
        "/storage/upload",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert answer.status == 400, (case, answer)
    assert answer.json()["error"]["code"] == "invalid_request"


def test_upload_over_the_limit_is_the_documented_400(raw: Raw) -> None:
    body = multipart(FILE + bytes(MAX_UPLOAD + 1))
    answer = raw.send(
        "POST",
        "/storage/upload",
        data=body,
        headers={"Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert answer.status == 400
    error = answer.json()["error"]
    assert error["code"] == "invalid_request"
    assert (error["details"]["reason"], error["details"]["maxBytes"]) == ("too_large", MAX_UPLOAD)


def test_a_well_formed_upload_still_works(raw: Raw) -> None:
    answer = raw.send(
        "POST",
        "/storage/upload",
        data=multipart(FILE + png()),
        headers={"Content-Type": "multipart/form-data; boundary=XX"},
    )
    assert answer.status == 201, answer
    assert answer.json()["name"] == "a.png"


@pytest.mark.parametrize("key", ["k\tz", "ключ", "a" * 256])
def test_odd_idempotency_keys_are_400(raw: Raw, key: str) -> None:
    answer = raw.send(
        "POST",
        "/projects",
        data=b'{"name": "p"}',
        headers={"Idempotency-Key": key.encode("utf-8").decode("latin-1")},
    )
    assert answer.status == 400
    assert answer.json()["error"]["details"]["field"] == "Idempotency-Key"


@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "HEAD"])
def test_execute_answers_other_methods_with_405_allowing_post(raw: Raw, method: str) -> None:
    """``/workflows/{workflowId}`` must not claim ``/workflows/execute`` for GET."""
    answer = raw.send(method, "/workflows/execute")
    assert answer.status == 405
    assert answer.headers["Allow"] == "POST"
