"""Against the emulator: its X-Request-Id and X-RateLimit-* headers reach raw responses."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from floimg_async import FloImg

ROOT = Path(__file__).resolve().parents[2]


async def test_the_emulator_headers_reach_raw_response_and_rate_limit(
    floimg_client: FloImg,
) -> None:
    first = await floimg_client.raw_response(floimg_client.workflows.get("wf_social_card"))
    second = await floimg_client.with_raw_response.workflows.get("wf_social_card")
    assert first.parse() == second.parse()
    assert first.request_id and second.request_id and first.request_id != second.request_id
    assert first.request_id.startswith("req_")
    assert first.rate_limit is not None and first.rate_limit.limit is not None
    assert first.rate_limit.reset_at is not None
    assert floimg_client.rate_limit == second.rate_limit


def test_the_readme_example_paces_without_a_429() -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / "response_headers.py")],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "Social card: status 200, request id req_" in done.stdout
    assert "17 requests, 0 answered 429" in done.stdout
