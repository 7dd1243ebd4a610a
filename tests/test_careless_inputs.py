"""Careless inputs found by attacking the SDK from outside: refused before anything is sent.

- A request body with NaN or an infinity (no JSON form: sent as ``NaN`` it is invalid JSON,
  as ``null`` it silently changes the caller's data) or a lone surrogate (not Unicode).
- A download destination that is a device, named pipe or socket, which the rename into
  place would replace with a regular file.
"""

from __future__ import annotations

import math
import os
import socket
import stat
from pathlib import Path
from typing import Any

import pytest
from _support import API_KEY, BASE_URL
from hypothesis import given, settings
from hypothesis import strategies as st

from floimg_async import FloImg
from floimg_async.transports import MockResponse, MockTransport

NON_FINITE = st.sampled_from([math.nan, math.inf, -math.inf])
FINITE_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(alphabet=st.characters(blacklist_categories=["Cs"]), max_size=5),
    lambda inner: (
        st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=3), inner, max_size=3)
    ),
    max_leaves=8,
)


def _plant(value: Any, bad: Any, path: list[int]) -> Any:
    """``value`` with ``bad`` placed somewhere inside it (a new leaf, keyed by ``path``)."""
    if isinstance(value, dict):
        return {**value, f"k{len(path)}": bad}
    if isinstance(value, list):
        return [*value, bad]
    return [value, bad]


def _transport() -> MockTransport:
    return MockTransport(
        lambda request: MockResponse(200, json={"executionId": "e", "status": "completed"})
    )


@settings(max_examples=60, deadline=None)
@given(base=FINITE_JSON, bad=NON_FINITE | st.sampled_from(["\ud800", "a\udfffb"]))
async def test_a_body_json_cannot_carry_is_refused_before_sending(base: Any, bad: Any) -> None:
    transport = _transport()
    parameters = {"p": _plant(base, bad, [])}
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport) as client:
        for call in (client.workflows.execute, client.workflows.submit):
            with pytest.raises(ValueError, match=r"NaN or infinite|lone surrogate"):
                await call("wf_1", parameters)
        with pytest.raises(ValueError, match=r"NaN or infinite|lone surrogate"):
            await client.request("POST", "/projects", json=parameters)
        results = [r async for r in client.workflows.run_many("wf_1", [parameters])]
    assert not results[0].ok and isinstance(results[0].error, ValueError)
    assert transport.requests == []


@settings(max_examples=40, deadline=None)
@given(body=FINITE_JSON)
async def test_finite_bodies_are_sent_exactly(body: Any) -> None:
    import json

    transport = _transport()
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport) as client:
        await client.workflows.execute("wf_1", {"p": body})
    sent = json.loads(transport.requests[0].body)
    assert sent["parameters"] == {"p": body}


def _special_files(tmp_path: Path) -> list[tuple[Path, str]]:
    fifo = tmp_path / "pipe.png"
    os.mkfifo(fifo)
    sock_path = tmp_path / "s.png"
    sock = socket.socket(socket.AF_UNIX)
    sock.bind(str(sock_path))
    sock.close()
    found = [(fifo, "named pipe"), (sock_path, "socket")]
    if os.path.exists("/dev/null"):
        found.append((Path("/dev/null"), "character device"))
    return found


async def test_a_device_pipe_or_socket_at_the_destination_is_refused_and_kept(
    tmp_path: Path,
) -> None:
    transport = MockTransport(lambda request: MockResponse(200, body=b"\x89PNG"))
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport) as client:
        for target, kind in _special_files(tmp_path):
            mode = stat.S_IFMT(os.lstat(target).st_mode)
            with pytest.raises(ValueError, match=kind):
                await client.images.download("https://cdn.example.com/x.png", target)
            # Inside a folder, under the image's own name, too.
            with pytest.raises(ValueError, match=kind):
                await client.images.download(
                    f"https://cdn.example.com/{target.name}", target.parent
                )
            assert stat.S_IFMT(os.lstat(target).st_mode) == mode
        # A regular file is still replaced, as documented.
        regular = tmp_path / "ok.png"
        regular.write_bytes(b"old")
        await client.images.download("https://cdn.example.com/ok.png", regular)
        assert regular.read_bytes() == b"\x89PNG"
    assert len(transport.requests) == 1


# A server's careless answers: a JSON null, true or false where the API documents a
# string. str() would invent "None" or "True"; the SDK refuses the body instead.
_GOOD = {
    "workflows.get": {"id": "wf_1", "name": "Card", "projectId": "p", "parameters": []},
    "executions.get": {"executionId": "exec_1", "status": "running", "workflowId": "wf_1"},
    "images.get": {"id": "img_1", "url": "https://cdn.example.com/a.png", "name": "a.png"},
}


@pytest.mark.parametrize(
    ("call", "field"),
    [
        ("workflows.get", "id"),
        ("workflows.get", "name"),  # optional: null is None, but true is no name
        ("executions.get", "executionId"),
        ("images.get", "id"),
        ("images.get", "url"),
    ],
)
@pytest.mark.parametrize("bad", [None, True, False])
async def test_a_non_string_where_a_string_belongs_is_a_decode_error(
    call: str, field: str, bad: Any
) -> None:
    from floimg_async import ResponseDecodeError

    body = {**_GOOD[call], field: bad}
    transport = MockTransport(lambda request: MockResponse(200, json=body))
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport, max_retries=0) as client:
        resource, method = call.split(".")
        fetch = getattr(getattr(client, resource), method)
        if bad is None and field not in ("id", "executionId"):
            # An optional field: null is the documented "absent".
            model = await fetch("x_1")
            assert getattr(model, field) is None
            return
        with pytest.raises(ResponseDecodeError, match=r"expected str( \| None)? @ \$\.") as info:
            await fetch("x_1")
        assert "'None'" not in str(info.value) and "'True'" not in str(info.value)


async def test_a_number_where_a_string_belongs_reads_as_its_text() -> None:
    body = {**_GOOD["workflows.get"], "id": 42, "name": 3.5}
    transport = MockTransport(lambda request: MockResponse(200, json=body))
    async with FloImg(API_KEY, base_url=BASE_URL, transport=transport) as client:
        workflow = await client.workflows.get("wf_1")
    assert (workflow.id, workflow.name) == ("42", "3.5")


@pytest.mark.parametrize("bad", [math.inf, -math.inf, math.nan, 0, -1, True, "30"])
async def test_a_timeout_that_is_not_a_finite_positive_number_is_refused(bad: Any) -> None:
    import aiohttp

    with pytest.raises(ValueError, match="timeout"):
        FloImg(API_KEY, base_url=BASE_URL, timeout=bad)
    async with FloImg(API_KEY, base_url=BASE_URL, transport=_transport()) as client:
        with pytest.raises(ValueError, match="timeout"):
            client.with_options(timeout=bad)
    if isinstance(bad, float):
        with pytest.raises(ValueError, match="timeout"):
            FloImg(API_KEY, base_url=BASE_URL, timeout=aiohttp.ClientTimeout(total=bad))
