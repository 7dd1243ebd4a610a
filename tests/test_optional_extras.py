"""An optional extra that is not installed is named in a clear ImportError, never a bare one."""

from __future__ import annotations

import subprocess
import sys

import pytest

# Each case hides one module the extra brings (None in sys.modules makes its import fail).
CASES = [
    ("floimg_async.ray", "ray", "floimg-async[ray]"),
    ("floimg_async.ray", "pyarrow", "floimg-async[ray]"),
    ("floimg_async.emulator", "floimg_emulator", "floimg-async[emulator]"),
]


@pytest.mark.parametrize(("module", "hidden", "extra"), CASES)
def test_a_missing_extra_is_named_with_the_install_command(
    module: str, hidden: str, extra: str
) -> None:
    code = (
        f"import sys; sys.modules[{hidden!r}] = None\n"
        "try:\n"
        f"    import {module}\n"
        "except ImportError as exc:\n"
        "    print(type(exc).__name__, exc)\n"
        "else:\n"
        "    print('imported')\n"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    ).stdout
    assert out.startswith("ImportError ")
    assert f"pip install '{extra}'" in out
    assert hidden in out or "emulator" in out
