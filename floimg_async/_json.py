"""JSON in one place: orjson when the ``speedups`` extra is installed, else the stdlib.

``pip install 'floimg-async[speedups]'`` makes decoding a listing page several
times faster. Both paths give the same values for every answer the API sends;
where they could differ (a body orjson refuses: UTF-16, lone surrogates,
nesting past 1024 levels; a value it cannot encode; a body with a run of 19 or
more digits, where orjson would read an integer past 64 bits as a float), the
stdlib decides, so errors, edge cases and values read the same with or without
the extra.

``FLOIMG_NO_SPEEDUPS=1`` in the environment (read once, at import) leaves
orjson unused even when installed: for comparing the two, e.g. in benchmarks.
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

__all__ = ["SPEEDUPS", "dumps", "loads"]

_loads: Callable[[bytes], Any] | None
_dumps: Callable[[Any], bytes] | None
try:
    if os.environ.get("FLOIMG_NO_SPEEDUPS", "") not in ("", "0"):
        raise ImportError("FLOIMG_NO_SPEEDUPS is set")
    import orjson
except ImportError:  # the extra is not installed, or switched off
    _loads = _dumps = None
else:
    # Only what the stdlib encodes too: datetimes, dataclasses and subclasses of
    # str/int/dict/list go to ``default``, which refuses them, so the stdlib decides.
    _OPTIONS = (
        orjson.OPT_PASSTHROUGH_DATETIME
        | orjson.OPT_PASSTHROUGH_DATACLASS
        | orjson.OPT_PASSTHROUGH_SUBCLASS
    )

    def _refuse(value: Any) -> Any:
        raise TypeError

    def _orjson_dumps(value: Any) -> bytes:
        return orjson.dumps(value, default=_refuse, option=_OPTIONS)

    _loads, _dumps = orjson.loads, _orjson_dumps

# orjson reads an integer literal that does not fit in 64 bits as a float (losing
# digits) where the stdlib gives the exact int. Such a literal has at least 19
# digits; a body with a run that long (rare: a long number or a digit string)
# goes to the stdlib. Mapping every digit to "0" first keeps the search in C,
# about a tenth of orjson's own decoding time.
_DIGITS_TO_ZERO = bytes(48 if 48 <= i <= 57 else 32 for i in range(256))
_LONG_DIGIT_RUN = b"0" * 19

SPEEDUPS = _loads is not None
"""Whether orjson is in use."""


def loads(body: bytes) -> Any:
    """Parse JSON; raises ValueError (or RecursionError) like ``json.loads``."""
    if _loads is not None and _LONG_DIGIT_RUN not in body.translate(_DIGITS_TO_ZERO):
        try:
            return _loads(body)
        except ValueError:
            pass  # let the stdlib decide, and word the error
    return json.loads(body)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON; raises TypeError/ValueError like ``json.dumps``."""
    if _dumps is not None:
        try:
            return _dumps(value)
        except TypeError:
            pass  # e.g. non-string keys or a huge int: the stdlib handles or words it
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False).encode()
