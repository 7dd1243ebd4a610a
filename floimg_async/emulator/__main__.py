"""``python -m floimg_async.emulator``: alias of ``python -m floimg_emulator``.

Same flags, same output (``FLOIMG_BASE_URL=…`` first); ``floimg emulator`` calls
:func:`main` from here. (Importing the package first raises the "pip install
'floimg-async[emulator]'" ``ImportError`` when the emulator is not installed.)
"""

from __future__ import annotations

import sys

from floimg_emulator.__main__ import build_parser, main, serve

__all__ = ["build_parser", "main", "serve"]

if __name__ == "__main__":
    sys.exit(main())
