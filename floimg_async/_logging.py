"""``FLOIMG_LOG=debug|info``: send the ``floimg_async`` logger to stderr, key redacted."""

from __future__ import annotations

import logging
import os

from ._redact import scrub

__all__ = ["setup_logging_from_env"]

_LEVELS = {"debug": logging.DEBUG, "info": logging.INFO}


class _Scrub(logging.Filter):
    """Blank out keys in a record (defence in depth: the SDK's lines never hold them)."""

    def __init__(self) -> None:
        super().__init__()
        self.secrets: set[str] = set()

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        cleaned = message
        for secret in self.secrets:
            cleaned = scrub(cleaned, secret)
        if cleaned != message:
            record.msg, record.args = cleaned, None
        return True


_handler: logging.Handler | None = None
_filter = _Scrub()


def setup_logging_from_env(secret: str) -> None:
    """Attach one stderr handler when ``FLOIMG_LOG`` asks for it (idempotent)."""
    global _handler
    level = _LEVELS.get(os.environ.get("FLOIMG_LOG", "").strip().lower())
    if level is None:
        return
    _filter.secrets.add(secret)
    logger = logging.getLogger("floimg_async")
    if _handler is None:
        _handler = logging.StreamHandler()
        _handler.setFormatter(logging.Formatter("%(asctime)s %(name)s %(levelname)s %(message)s"))
        _handler.addFilter(_filter)
        logger.addHandler(_handler)
    _handler.setLevel(level)
    if logger.level == logging.NOTSET or logger.level > level:
        logger.setLevel(level)
