"""Options counted in seconds (or a share) refuse nan and inf before anything is sent.

``float()`` reads ``nan``, ``inf`` and ``1e999``, and click's range check lets
``nan`` (every comparison is false) and ``inf`` (no upper bound) through: a
``--poll-interval inf`` never polled again, ``--wait-timeout nan`` failed only after
the paid work was submitted, ``--timeout inf`` was an ``internal_error``. Every such
option of every command must now be a usage error (exit 2, naming the option) with
no request sent.
"""

from __future__ import annotations

import pytest
from _cli_support import EmulatorThread, Floimg
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from floimg_async.cli._app import cli

NOT_FINITE = ["nan", "NaN", "inf", "-inf", "Infinity", "1e999", "-1e999", "+inf"]

# (option, the command lines that take it)
SECONDS_OPTIONS = {
    "--timeout": [
        ["workflows", "get", "wf_social_card"],
        ["workflows", "run", "wf_social_card", "-p", "prompt=x"],
        ["workflows", "execute", "wf_social_card", "-p", "prompt=x"],
    ],
    "--wait-timeout": [
        ["workflows", "run", "wf_social_card", "-p", "prompt=x"],
        ["executions", "wait", "exec_1"],
    ],
    "--poll-interval": [
        ["workflows", "run", "wf_social_card", "-p", "prompt=x"],
        ["executions", "wait", "exec_1"],
    ],
    "--max-poll-interval": [["executions", "wait", "exec_1"]],
    "--latency": [["emulator"]],
    "--execution-time": [["emulator"]],
    "--fault-rate": [["emulator"]],
}
CASES = [(option, argv) for option, lines in SECONDS_OPTIONS.items() for argv in lines]


def _requests(emulator: EmulatorThread) -> int:
    return int(emulator.admin("stats")["requests"])


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(case=st.sampled_from(CASES), value=st.sampled_from(NOT_FINITE), before=st.booleans())
def test_cli_non_finite_seconds_are_usage_errors_before_any_request(
    floimg: Floimg,
    emulator: EmulatorThread,
    case: tuple[str, list[str]],
    value: str,
    before: bool,
) -> None:
    option, argv = case
    sent = _requests(emulator)
    # the option before the command (globals only) or after it
    args = [option, value, *argv] if before and option == "--timeout" else [*argv, option, value]
    result = floimg(*args)
    assert result.code == 2, result.stderr
    assert result.stderr.startswith("error: usage:"), result.stderr
    assert option in result.stderr and "finite" in result.stderr, result.stderr
    assert _requests(emulator) == sent + 1  # the stats request itself, nothing else


def test_cli_every_float_option_is_finite() -> None:
    """No command grows a float option that lets nan or inf through."""
    import click

    from floimg_async.cli._options import FiniteFloatRange

    def walk(command: click.Command, path: str) -> list[str]:
        found = []
        if isinstance(command, click.Group):
            for name, sub in command.commands.items():
                found += walk(sub, f"{path} {name}")
        for param in command.params:
            if isinstance(param.type, click.types.FloatParamType) and not isinstance(
                param.type, FiniteFloatRange
            ):
                found.append(f"{path} {param.opts[0]}")
        return found

    assert walk(cli, "floimg") == []


@pytest.mark.parametrize("value", ["0.5e2", "30", "12.25"])
def test_cli_finite_seconds_still_work(floimg: Floimg, value: str) -> None:
    result = floimg("--timeout", value, "--json", "workflows", "get", "wf_social_card")
    assert result.code == 0, result.stderr
