"""Resident memory of the current process, from /proc on Linux (getrusage elsewhere)."""

from __future__ import annotations

import resource
import sys
import threading
from types import TracebackType

_STATUS = "/proc/self/status"
_MB = 1024 * 1024


def _status_field(name: str) -> int | None:
    try:
        with open(_STATUS, encoding="ascii") as status:
            for line in status:
                if line.startswith(name):
                    return int(line.split()[1]) * 1024
    except OSError:
        return None
    return None


def _max_rss() -> int:
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def rss_bytes() -> int:
    """Return the current resident set size (the peak so far where /proc is missing)."""
    value = _status_field("VmRSS:")
    return value if value is not None else _max_rss()


def hwm_bytes() -> int:
    """Return the peak resident set size since start or since the last reset_hwm()."""
    value = _status_field("VmHWM:")
    return value if value is not None else _max_rss()


def reset_hwm() -> bool:
    """Reset the kernel's peak-RSS mark (VmHWM) to the current RSS; False if not possible."""
    try:
        with open("/proc/self/clear_refs", "w", encoding="ascii") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def mb(n_bytes: float) -> float:
    """Convert bytes to MiB."""
    return n_bytes / _MB


class PeakSampler:
    """Record the peak RSS while the ``with`` block runs.

    Uses the kernel's VmHWM after a reset where allowed, and a sampling thread
    as well, so a short peak between samples is still caught on Linux.
    """

    def __init__(self, interval: float = 0.005) -> None:
        self.interval = interval
        self.start = 0
        self.peak = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._sample, daemon=True)
        self._hwm_reset = False

    def _sample(self) -> None:
        while not self._stop.wait(self.interval):
            self.peak = max(self.peak, rss_bytes())

    def __enter__(self) -> PeakSampler:
        self.start = rss_bytes()
        self.peak = self.start
        self._hwm_reset = reset_hwm()
        self._thread.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self._stop.set()
        self._thread.join(timeout=1.0)
        self.peak = max(self.peak, rss_bytes())
        if self._hwm_reset:
            self.peak = max(self.peak, hwm_bytes())

    @property
    def growth(self) -> int:
        """Peak RSS minus the RSS when the block started, in bytes."""
        return self.peak - self.start
