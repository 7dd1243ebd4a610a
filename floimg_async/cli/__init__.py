"""The ``floimg`` command line (install the extra: ``pip install 'floimg-async[cli]'``).

``main()`` is the console script's entry point; ``python -m floimg_async.cli``
does the same. Commands mirror the SDK: ``workflows``, ``executions``,
``images``, ``projects``, plus ``bulk``, ``emulator`` and ``demo``.
"""

from __future__ import annotations

import sys
from collections.abc import Sequence

__all__ = ["main"]


def main(argv: Sequence[str] | None = None) -> None:
    """Run ``floimg`` with ``argv`` (default: the process arguments) and exit with its status."""
    try:
        from ._app import run
    except ImportError as exc:
        if exc.name not in {"click", "rich"}:
            raise
        sys.stderr.write(
            f"error: missing_dependency: the floimg command needs {exc.name}; "
            "install it with: pip install 'floimg-async[cli]'\n"
        )
        sys.exit(2)
    sys.exit(run(argv))
