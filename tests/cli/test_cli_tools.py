"""``floimg emulator`` and ``floimg demo`` are click commands like the rest; one timestamp
format; separated multi-item output (issue 13 finding 8)."""

from __future__ import annotations

import inspect
import os
import re
import signal
import subprocess
import sys
from pathlib import Path

import click
import pytest
from _cli_support import Floimg
from PIL import Image

from floimg_async.cli._app import cli
from floimg_async.cli._cmd_tools import EMULATOR_DEFAULTS
from floimg_async.emulator import Emulator


@pytest.mark.parametrize("name", ["emulator", "demo"])
def test_cli_tool_help_is_a_floimg_screen_with_help_for_every_option(
    floimg_offline: Floimg, name: str
) -> None:
    result = floimg_offline(name, "--help")
    assert result.code == 0
    assert result.stdout.startswith(f"Usage: floimg {name} [OPTIONS]")
    assert "python -m" not in result.stdout and "usage:" not in result.stdout
    assert not re.search(r"default: ['\"(]", result.stdout)  # no Python-quoted defaults
    command = cli.commands[name]
    for param in command.params:
        if isinstance(param, click.Option):
            assert param.help, f"floimg {name} {param.opts[0]} has no help"
            assert param.opts[-1] in result.stdout


def test_cli_emulator_defaults_shown_are_the_emulators_own() -> None:
    signature = inspect.signature(Emulator)
    for name, shown in EMULATOR_DEFAULTS.items():
        assert signature.parameters[name].default == shown, name


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--fault-kinds", "500,bogus"], "unknown fault kind(s) bogus"),
        (["--key", "no-equals"], "KEY=ACCOUNT:SCOPE"),
        (["--port", "70000"], "--port"),
    ],
)
def test_cli_emulator_bad_options_are_usage_errors(
    floimg_offline: Floimg, args: list[str], message: str
) -> None:
    result = floimg_offline("emulator", *args)
    assert result.code == 2
    assert result.stderr.startswith("error: usage: ") and message in result.stderr


def test_cli_emulator_serves_until_ctrl_c(tmp_path: Path) -> None:
    proc = subprocess.Popen(
        [sys.executable, "-m", "floimg_async.cli", "emulator", "--port", "0",
         "--execution-time", "0.01", "--data-dir", str(tmp_path / "data")],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "FLOIMG_API_KEY": "", "FLOIMG_BASE_URL": ""},
    )  # fmt: skip
    with proc:
        try:
            assert proc.stdout is not None
            lines = [proc.stdout.readline().strip() for _ in range(3)]
            env = dict(line.split("=", 1) for line in lines)
            assert set(env) == {"FLOIMG_BASE_URL", "FLOIMG_API_KEY", "FLOIMG_EMULATOR_ORIGIN"}
            listed = Floimg({k: v for k, v in env.items()})(
                "--json", "workflows", "list", "--max-items", "1"
            )
            assert listed.code == 0 and listed.json_lines()[0]["id"].startswith("wf_")
            proc.send_signal(signal.SIGINT)
            _, err = proc.communicate(timeout=30)
        finally:
            if proc.poll() is None:
                proc.kill()
    assert proc.returncode == 0, err
    assert "FloImg emulator on http://127.0.0.1:" in err


def test_cli_demo_runs_end_to_end(floimg_offline: Floimg, tmp_path: Path) -> None:
    out = tmp_path / "demo"
    result = floimg_offline("demo", "--out", str(out), "--cards", "2", "--concurrency", "2")
    assert result.code == 0, result.stderr
    assert "summary:" in result.stdout
    assert len(list(out.glob("card-*.png"))) == 2


_STAMP = re.compile(r"\d{4}-\d\d-\d\d[T ][0-9:.,]+(?:Z|[+-]\d\d:?\d\d)?")


def test_cli_text_output_has_one_timestamp_format(floimg: Floimg, tmp_path: Path) -> None:
    photo = tmp_path / "p.png"
    Image.new("RGB", (4, 4)).save(photo, "PNG")
    image_id = floimg("--json", "images", "upload", str(photo)).json_lines()[0]["id"]
    outputs = [
        floimg("-v", "images", "get", image_id),
        floimg("images", "list"),
        floimg("workflows", "list"),
        floimg("projects", "list"),
        floimg("workflows", "get", "wf_social_card"),
    ]
    stamps = [s for o in outputs for s in _STAMP.findall(o.stdout + o.stderr)]
    assert len(stamps) > 5
    bad = [s for s in stamps if not re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", s)]
    assert bad == []


def test_cli_several_images_are_separated(floimg: Floimg, tmp_path: Path) -> None:
    files = []
    for n in range(3):
        files.append(tmp_path / f"f{n}.png")
        Image.new("RGB", (4, 4)).save(files[-1], "PNG")
    result = floimg("images", "upload", *map(str, files))
    assert result.code == 0
    blocks = result.stdout.strip("\n").split("\n\n")
    assert [b.splitlines()[0].split()[0] for b in blocks] == ["id"] * 3
