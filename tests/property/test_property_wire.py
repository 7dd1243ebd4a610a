"""Hostile bodies over a real connection: each call ends in the documented FloImgError.

The pure-function properties say the parsers never crash; these check the
same bodies end to end, where a crash would escape the SDK as a raw Python
exception (or be mislabelled).
"""

from __future__ import annotations

import pytest
from _faultkit import API_KEY, HttpFaultServer, SleepRecorder, settle

from floimg_async import (
    APIError,
    FloImg,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
)

DEEP = b"[" * 100_000 + b"]" * 100_000
HUGE_RETRY_AFTER = (
    b'{"error": {"code": "rate_limited", "message": "slow down", "retryAfter": 1'
    + b"0" * 400
    + b"}}"
)

CASES = [
    pytest.param(200, DEEP, ResponseDecodeError, id="200-deeply-nested"),
    pytest.param(500, DEEP, ServerError, id="500-deeply-nested"),
    pytest.param(429, HUGE_RETRY_AFTER, RateLimitedError, id="429-huge-retryAfter"),
    pytest.param(200, b"\xff\xfe\x00garbage", ResponseDecodeError, id="200-not-utf8"),
    pytest.param(200, b"", ResponseDecodeError, id="200-empty"),
    pytest.param(200, b"null", ResponseDecodeError, id="200-null"),
    pytest.param(200, b"NaN", ResponseDecodeError, id="200-nan"),
    pytest.param(418, b"I'm a teapot", APIError, id="418-text"),
]


@pytest.mark.parametrize(("status", "body", "expected"), CASES)
@pytest.mark.parametrize("call", ["get", "list", "execute"])
async def test_property_wire_hostile_bodies(
    http_server: HttpFaultServer,
    sleeps: SleepRecorder,
    status: int,
    body: bytes,
    expected: type[Exception],
    call: str,
) -> None:
    http_server.set_fault("custom")
    http_server.custom = (status, body, "application/json")
    async with FloImg(
        api_key=API_KEY, base_url=http_server.base_url, max_retries=1, sleep=sleeps
    ) as client:
        with pytest.raises(expected) as info:
            if call == "get":
                await client.workflows.get("wf_1")
            elif call == "list":
                await client.workflows.list().to_list()
            else:
                await client.workflows.execute("wf_1")
    assert type(info.value) is expected, repr(info.value)
    assert API_KEY not in str(info.value)
    await settle(http_server)
