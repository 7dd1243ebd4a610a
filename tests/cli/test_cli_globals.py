"""Global options work anywhere on the line and every help lists them (issue 13 finding 2)."""

from __future__ import annotations

from collections.abc import Iterator

import click
import pytest
from _cli_support import EmulatorThread, Floimg

from floimg_async.cli._app import cli

GLOBALS = ["--api-key", "--base-url", "--timeout", "--max-retries", "--json", "-v, --verbose"]


def _paths(command: click.Command, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, click.Group):
        for name, sub in command.commands.items():
            yield from _paths(sub, (*path, name))


@pytest.mark.parametrize("path", list(_paths(cli)), ids=lambda p: " ".join(p) or "floimg")
def test_cli_every_help_lists_the_global_options(floimg_offline: Floimg, path: tuple[str]) -> None:
    result = floimg_offline(*path, "--help")
    assert result.code == 0, result.stderr
    if path == ("emulator",):  # it serves the API: no client option means anything to it
        assert "Global options" not in result.stdout
        return
    assert "Global options" in result.stdout
    section = result.stdout.split("Global options", 1)[1]
    for name in GLOBALS:
        assert name in section, f"{name} missing from 'floimg {' '.join(path)} --help'"


def test_cli_globals_after_the_command(floimg_offline: Floimg, emulator: EmulatorThread) -> None:
    env = emulator.env
    result = floimg_offline(
        "workflows", "list", "--max-items", "2",
        "--api-key", env["FLOIMG_API_KEY"], "--base-url", env["FLOIMG_BASE_URL"],
        "--timeout", "5", "--max-retries", "0", "--json", "-v",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    assert len(result.json_lines()) == 2
    assert "GET /workflows" in result.stderr  # -v after the command turned logging on
    assert env["FLOIMG_API_KEY"] not in result.stderr + result.stdout


def test_cli_globals_between_group_and_command(floimg: Floimg) -> None:
    result = floimg("workflows", "--json", "get", "wf_social_card")
    assert result.code == 0, result.stderr
    assert result.json_lines()[0]["id"] == "wf_social_card"


def test_cli_a_later_global_overrides_an_earlier_one(floimg: Floimg) -> None:
    result = floimg(
        "--base-url", "http://127.0.0.1:9/v1", "workflows", "list",
        "--base-url", floimg.env["FLOIMG_BASE_URL"] or "", "--max-items", "1",
    )  # fmt: skip
    assert result.code == 0, result.stderr
    bad = floimg("workflows", "list", "--base-url", "http://127.0.0.1:9/v1", "--max-retries", "0")
    assert bad.code == 4  # given after the command, it wins over the environment


def test_cli_usage_hint_points_at_a_help_that_lists_globals(floimg: Floimg) -> None:
    result = floimg("workflows", "list", "--bogus")
    assert result.code == 2
    assert "(see 'floimg workflows list --help')" in result.stderr
    helped = floimg("workflows", "list", "--help")
    assert "--api-key" in helped.stdout and "--json" in helped.stdout


def test_cli_missing_key_hint_works_where_it_points(floimg_offline: Floimg) -> None:
    result = floimg_offline("projects", "list")
    assert result.code == 2
    assert "pass --api-key or set FLOIMG_API_KEY" in result.stderr
    retry = floimg_offline("projects", "list", "--api-key", "fsk_test_x", "--base-url",
                           "http://127.0.0.1:9/v1", "--max-retries", "0")  # fmt: skip
    assert retry.code == 4  # the key was taken; only the (dead) server is missing
