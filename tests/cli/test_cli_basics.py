"""``floimg --version``, shell completion and ``NO_COLOR`` (issue 13 finding 9)."""

from __future__ import annotations

import re
from collections.abc import Iterator

import pytest
from _cli_support import EmulatorThread, Floimg

from floimg_async import __version__


@pytest.mark.parametrize("flag", ["--version", "-V"])
def test_cli_version(floimg_offline: Floimg, flag: str) -> None:
    result = floimg_offline(flag)
    assert result.code == 0
    assert result.stdout.strip() == f"floimg, version {__version__}"


@pytest.mark.parametrize("shell", ["bash", "zsh", "fish"])
def test_cli_completion_script(floimg_offline: Floimg, shell: str) -> None:
    result = floimg_offline(_FLOIMG_COMPLETE=f"{shell}_source")
    assert result.code == 0
    assert "_FLOIMG_COMPLETE" in result.stdout  # the script calls floimg back
    assert "floimg" in result.stdout


@pytest.mark.parametrize(
    ("words", "expected"),
    [
        ("floimg work", "workflows"),
        ("floimg workflows l", "list"),
        ("floimg workflows list --js", "--json"),  # global options complete after the command
        ("floimg images download --o", "--out"),
    ],
)
def test_cli_completion_candidates(floimg_offline: Floimg, words: str, expected: str) -> None:
    result = floimg_offline(
        _FLOIMG_COMPLETE="bash_complete",
        COMP_WORDS=words,
        COMP_CWORD=str(len(words.split()) - 1),
    )
    assert result.code == 0
    assert expected in [line.split(",", 1)[1] for line in result.stdout.splitlines()]


@pytest.fixture(scope="module")
def slowish() -> Iterator[EmulatorThread]:
    server = EmulatorThread(execution_time=0.6).start()
    try:
        yield server
    finally:
        server.stop()


_COLOUR = {*range(30, 39), *range(40, 49), *range(90, 98), *range(100, 108)}


def _colours(text: str) -> set[int]:
    found = set()
    for params in re.findall(r"\x1b\[([0-9;]*)m", text):
        found |= {int(p) for p in params.split(";") if p.isdigit()} & _COLOUR
    return found


@pytest.mark.parametrize("no_color", [False, True], ids=["colour", "NO_COLOR"])
def test_cli_no_color_is_respected(slowish: EmulatorThread, no_color: bool) -> None:
    floimg = Floimg(dict(slowish.env))
    pending = floimg(
        "--json", "workflows", "run", "wf_social_card", "-p", "prompt=c", "--no-wait"
    ).json_lines()[0]
    env = {"FORCE_COLOR": "1", "TERM": "xterm-256color", "COLUMNS": "120"}
    if no_color:
        env["NO_COLOR"] = "1"
    # stderr "is a terminal": the wait draws its spinner there.
    result = floimg("executions", "wait", pending["executionId"], "--poll-interval", "0.05", **env)
    assert result.code == 0, result.stderr
    if no_color:
        assert _colours(result.stdout + result.stderr) == set()
    else:
        assert _colours(result.stderr)  # the spinner is coloured unless NO_COLOR is set


@pytest.mark.parametrize("path", [[], ["workflows"], ["images"]], ids=["floimg", "group", "images"])
def test_cli_a_bare_group_shows_its_help_screen(floimg_offline: Floimg, path: list[str]) -> None:
    result = floimg_offline(*path)
    assert result.code == 0
    assert result.stdout.startswith("Usage: floimg")
    assert "\nCommands:\n" in result.stdout  # a screen, not one flattened error line
    assert result.stderr == ""
