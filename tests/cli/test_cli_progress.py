"""Transfer bars are fed by the SDK's public ``on_progress(bytes_done, bytes_total)``.

Rich draws on a terminal only; ``FORCE_COLOR=1`` makes the captured stderr one.
Each bar must end at the real size of the file sent or received.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

from _cli_support import Floimg
from PIL import Image

TERMINAL = {"FORCE_COLOR": "1", "TERM": "xterm", "COLUMNS": "200"}


def _last_bar(stderr: str) -> str:
    """The bar's final text: "done/total unit" of the last frame drawn."""
    plain = re.sub(r"\x1b\[[0-9;?]*[A-Za-z]", "", stderr)
    frames = re.findall(r"(\d+(?:\.\d+)?)/(\d+(?:\.\d+)?) (bytes|kB|MB)", plain)
    assert frames, f"no progress bar drawn: {plain!r}"
    done, total, unit = frames[-1]
    return f"{done}/{total} {unit}"


def test_cli_upload_and_download_bars_end_at_the_file_size(floimg: Floimg, tmp_path: Path) -> None:
    source = tmp_path / "noise.png"
    Image.frombytes("RGB", (200, 200), os.urandom(200 * 200 * 3)).save(source, "PNG")
    size_kb = f"{source.stat().st_size / 1000:.1f}"

    uploaded = floimg("--json", "images", "upload", str(source), **TERMINAL)
    assert uploaded.code == 0, uploaded.stderr
    assert _last_bar(uploaded.stderr) == f"{size_kb}/{size_kb} kB"

    image_id = uploaded.json_lines()[0]["id"]
    out = tmp_path / "back.png"
    downloaded = floimg("--json", "images", "download", image_id, "-o", str(out), **TERMINAL)
    assert downloaded.code == 0, downloaded.stderr
    assert out.read_bytes() == source.read_bytes()
    assert _last_bar(downloaded.stderr) == f"{size_kb}/{size_kb} kB"


def test_cli_no_bar_when_stderr_is_not_a_terminal(floimg: Floimg, tmp_path: Path) -> None:
    source = tmp_path / "small.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(source, "PNG")
    uploaded = floimg("--json", "images", "upload", str(source))
    assert uploaded.code == 0 and uploaded.stderr == ""
