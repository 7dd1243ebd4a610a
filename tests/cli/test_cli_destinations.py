"""A download destination that can never be written fails before anything is sent,
and a device, pipe or socket at the destination is never replaced.

``workflows run|execute --download`` checked its destination only after the paid
work ran (then printed a resume command repeating the same bad path), and every
command that saves images replaced whatever sat at the destination with a regular
file: ``images download ID -o /dev/null`` run as root would replace the device.
Each command here meets each kind of unusable destination; it must exit 2 with one
``error: file_error:`` line naming the path, send no request (no execution is
created), and leave the pipe or socket where it was.
"""

from __future__ import annotations

import os
import socket
import stat
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from _cli_support import EmulatorThread, Floimg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from PIL import Image


def _fifo(base: Path) -> str:
    path = base / "pipe.png"
    os.mkfifo(path)
    return str(path)


def _socket(base: Path) -> str:
    path = base / "sock.png"
    with socket.socket(socket.AF_UNIX) as sock:
        sock.bind(str(path))
    return str(path)


def _file(base: Path) -> Path:
    path = base / "a-file"
    path.write_bytes(b"keep me")
    return path


# Each builds, under a fresh folder, a destination that can never receive an image.
BAD: dict[str, Callable[[Path], str]] = {
    "folder missing": lambda base: str(base / "missing" / "x.png"),
    "parent is a file": lambda base: str(_file(base) / "x.png"),
    "folder spelled with / is a file": lambda base: str(_file(base)) + "/",
    "under a file, as a folder": lambda base: str(_file(base) / "sub") + "/",
    "a named pipe": _fifo,
    "a socket": _socket,
}


@pytest.fixture(scope="module")
def image_and_execution(
    emulator: EmulatorThread, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[str, str]]:
    floimg = Floimg(dict(emulator.env))
    source = tmp_path_factory.mktemp("src") / "photo.png"
    Image.new("RGB", (6, 4), (9, 9, 9)).save(source, "PNG")
    image = floimg("--json", "images", "upload", str(source)).json_lines()[0]
    done = floimg("--json", "workflows", "execute", "wf_social_card", "-p", "prompt=x")
    yield image["id"], done.json_lines()[0]["executionId"]


COMMANDS = {
    "workflows run": lambda ids, dest: [
        "workflows", "run", "wf_social_card", "-p", "prompt=x", "--download", dest,
    ],
    "workflows execute": lambda ids, dest: [
        "workflows", "execute", "wf_social_card", "-p", "prompt=x", "--download", dest,
    ],
    "executions wait": lambda ids, dest: ["executions", "wait", ids[1], "--download", dest],
    "images download": lambda ids, dest: ["images", "download", ids[0], "-o", dest],
}  # fmt: skip


def _requests(emulator: EmulatorThread) -> int:
    return int(emulator.admin("stats")["requests"])


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    command=st.sampled_from(sorted(COMMANDS)), bad=st.sampled_from(sorted(BAD)), json=st.booleans()
)
def test_cli_unwritable_destinations_fail_before_any_request(
    floimg: Floimg,
    emulator: EmulatorThread,
    image_and_execution: tuple[str, str],
    tmp_path_factory: pytest.TempPathFactory,
    command: str,
    bad: str,
    json: bool,
) -> None:
    base = tmp_path_factory.mktemp("dest")
    dest = BAD[bad](base)
    before_mode = os.lstat(dest).st_mode if os.path.lexists(dest) else None
    sent = _requests(emulator)
    result = floimg(*(["--json"] if json else []), *COMMANDS[command](image_and_execution, dest))
    assert result.code == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: file_error:"), result.stderr
    assert dest.rstrip("/") in lines[0]
    assert result.stdout == ""
    assert _requests(emulator) == sent + 1  # the stats request itself: no paid work ran
    if before_mode is not None:
        assert os.lstat(dest).st_mode == before_mode  # the pipe, socket or file is untouched
    if "file" in bad:
        assert (base / "a-file").read_bytes() == b"keep me"


@pytest.mark.parametrize("make", [_fifo, _socket])
def test_cli_a_pipe_inside_the_download_folder_is_not_replaced(
    floimg: Floimg,
    image_and_execution: tuple[str, str],
    tmp_path: Path,
    make: Callable[[Path], str],
) -> None:
    """In folder mode the name comes from the URL: what sits at that name is checked too."""
    image_id = image_and_execution[0]
    url = floimg("--json", "images", "get", image_id).json_lines()[0]["url"]
    special = Path(make(tmp_path))
    special.rename(tmp_path / url.rsplit("/", 1)[1])
    target = tmp_path / url.rsplit("/", 1)[1]
    result = floimg("images", "download", image_id, "-o", f"{tmp_path}/")
    assert result.code == 2, result.stderr
    assert "not a regular file" in result.stderr
    assert not stat.S_ISREG(os.lstat(target).st_mode)


def test_cli_a_completed_execution_whose_download_failed_is_not_still_running(
    floimg: Floimg, image_and_execution: tuple[str, str], tmp_path: Path
) -> None:
    """When saving fails after the work finished, the hint says it finished."""
    execution_id = image_and_execution[1]
    folder = tmp_path / "out"
    folder.mkdir()
    url = floimg("--json", "executions", "get", execution_id).json_lines()[0]["output"]["url"]
    os.mkfifo(folder / url.rsplit("/", 1)[1])  # passes the up-front check, fails at saving
    result = floimg("executions", "wait", execution_id, "--download", f"{folder}/")
    assert result.code == 2, result.stderr
    assert f"execution {execution_id} finished (completed)" in result.stderr
    assert "may still be running" not in result.stderr
