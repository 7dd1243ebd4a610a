"""``FLOIMG_LOG``: turn on the SDK's logging to stderr from the environment, without code.

``FLOIMG_LOG=debug`` or ``info`` (any case) gives the ``floimg_async`` logger one
stderr handler at that level when a client is created. Creating more clients
never adds a second handler; the level follows the variable's latest value. Any
other value is ignored with one ``RuntimeWarning`` naming the accepted ones. The
handler's filter replaces every API key it has seen with ``[redacted]``, a second
guard behind the SDK's rule of never logging the key.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from typing import TextIO

from ._redact import scrub

__all__ = ["configure_from_env"]

ENV = "FLOIMG_LOG"
LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}
FORMAT = "%(asctime)s %(name)s %(levelname)s %(message)s"


class _Redact(logging.Filter):
    """Replace the API keys of the clients created so far in each record's text."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        if self.secrets:
            message = record.getMessage()
            cleaned = message
            for secret in self.secrets:
                cleaned = scrub(cleaned, secret)
            if cleaned != message:
                record.msg, record.args = cleaned, None
        return True


class _StderrHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes to whatever ``sys.stderr`` is at the time (it may be replaced after setup)."""

    def __init__(self) -> None:
        super().__init__()
        self.redact = _Redact()
        self.addFilter(self.redact)
        self.setFormatter(logging.Formatter(FORMAT))

    @property
    def stream(self) -> TextIO:
        return sys.stderr

    @stream.setter
    def stream(self, _: TextIO) -> None:
        pass


_warned: set[str] = set()


def configure_from_env(api_key: str) -> None:
    """Apply ``FLOIMG_LOG`` to the ``floimg_async`` logger (idempotent; no-op when unset)."""
    value = os.environ.get(ENV, "").strip()
    if not value:
        return
    level = LEVELS.get(value.lower())
    if level is None:
        if value not in _warned:
            _warned.add(value)
            warnings.warn(
                f"{ENV}={value!r} is not understood and is ignored; use {ENV}=debug or {ENV}=info",
                RuntimeWarning,
                stacklevel=3,
            )
        return
    logger = logging.getLogger("floimg_async")
    handler = next((h for h in logger.handlers if isinstance(h, _StderrHandler)), None)
    if handler is None:
        handler = _StderrHandler()
        logger.addHandler(handler)
    handler.redact.secrets.add(api_key)
    handler.setLevel(level)
    logger.setLevel(level)
