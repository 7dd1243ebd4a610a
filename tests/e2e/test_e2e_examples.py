"""The README's runnable examples and the demo keep working (each a subprocess)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from PIL import Image

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.parametrize(
    ("script", "expect"),
    [
        ("web_handler.py", "200 {'url': 'http://127.0.0.1:"),
        ("bulk_generate.py", "96 completed, 4 failed"),
        ("stream_listing.py", "more: False"),
        ("sync_script.py", "7 completed, 1 failed"),
    ],
)
def test_example_runs(script: str, expect: str) -> None:
    done = subprocess.run(
        [sys.executable, str(ROOT / "examples" / script)],
        capture_output=True, text=True, timeout=120, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert expect in done.stdout


def test_demo_leaves_real_images(tmp_path: Path) -> None:
    out = tmp_path / "demo-output"
    done = subprocess.run(
        [sys.executable, "-m", "floimg_async.demo", "--out", str(out), "--cards", "6"],
        capture_output=True, text=True, timeout=120, check=False, cwd=tmp_path,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "summary: 8 executions, 0 failed, 8 images saved" in done.stdout
    assert "1.0 API requests per card execution" in done.stdout
    cards = sorted(out.glob("card-*.png"))
    assert len(cards) == 6
    with Image.open(cards[0]) as card:
        assert card.size == (1200, 630) and card.format == "PNG"
    with Image.open(out / "thumbnail.webp") as thumb:
        assert thumb.size == (320, 320)
