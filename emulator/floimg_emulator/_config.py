"""Settings of one emulator: API keys, scopes and the knobs tests and benchmarks turn."""

from __future__ import annotations

import ipaddress
import math
import os
from dataclasses import dataclass, field

#: Every scope a key may carry; ``all`` grants everything.
SCOPES: tuple[str, ...] = (
    "workflows:read",
    "workflows:execute",
    "storage:read",
    "storage:write",
    "all",
)
#: The account the default API key belongs to.
DEFAULT_ACCOUNT = "acct_default"
#: The fault kinds ``fault_kinds`` and ``inject_fault`` accept.
FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "reset", "reset_after")
#: Faults drawn at random when ``fault_rate`` is set and no kinds are given.
DEFAULT_FAULT_KINDS: tuple[str, ...] = ("500", "502", "503", "reset")
DEFAULT_MAX_UPLOAD_BYTES = 10 * 1024 * 1024


@dataclass(frozen=True)
class KeySpec:
    """Describe one API key: the account it belongs to and the scopes it carries."""

    account: str = DEFAULT_ACCOUNT
    scopes: tuple[str, ...] = ("all",)

    def __post_init__(self) -> None:
        if not self.account or not isinstance(self.account, str):
            raise ValueError("KeySpec.account must be a non-empty string")
        if isinstance(self.scopes, str):
            raise ValueError("KeySpec.scopes must be a tuple of scope names, not a string")
        unknown = [s for s in self.scopes if s not in SCOPES]
        if unknown:
            raise ValueError(f"unknown scope(s) {unknown}; known: {', '.join(SCOPES)}")

    def allows(self, *accepted: str) -> bool:
        """Tell whether this key holds ``all`` or any of the ``accepted`` scopes."""
        return "all" in self.scopes or any(s in self.scopes for s in accepted)


@dataclass
class EmulatorConfig:
    """Hold every setting of an emulator; see :class:`Emulator` for what each one does."""

    host: str = "127.0.0.1"
    port: int = 0
    data_dir: str | os.PathLike[str] | None = None
    api_key: str | None = None
    keys: dict[str, KeySpec] = field(default_factory=dict)
    latency: float = 0.0
    execution_time: float = 0.1
    rate_limit: int | None = None
    burst: int | None = None
    fault_rate: float = 0.0
    fault_kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS
    seed: int | None = None
    max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES
    extra_workflows: int = 0
    allow_remote: bool = False

    def validate(self) -> None:
        """Raise ``ValueError`` when a setting is out of range."""
        check_runtime_knobs(
            latency=self.latency,
            execution_time=self.execution_time,
            rate_limit=self.rate_limit,
            burst=self.burst,
            fault_rate=self.fault_rate,
            fault_kinds=self.fault_kinds,
        )
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be in 0..65535")
        if self.max_upload_bytes < 1:
            raise ValueError("max_upload_bytes must be positive")
        if not 0 <= self.extra_workflows <= 100_000:
            raise ValueError("extra_workflows must be in 0..100000")
        if not self.allow_remote and not is_loopback(self.host):
            raise ValueError(
                f"refusing to listen on non-loopback host {self.host!r}; "
                "pass allow_remote=True (--allow-remote) if you really mean it"
            )
        for key, spec in self.keys.items():
            if not key or not isinstance(key, str) or any(c.isspace() for c in key):
                raise ValueError("API keys must be non-empty strings without whitespace")
            if not isinstance(spec, KeySpec):
                raise ValueError(f"keys[...] must map to a KeySpec, got {type(spec).__name__}")
        if self.api_key is not None and (not self.api_key or " " in self.api_key):
            raise ValueError("api_key must be a non-empty string without spaces")


def check_runtime_knobs(
    *,
    latency: float,
    execution_time: float,
    rate_limit: int | None,
    burst: int | None,
    fault_rate: float,
    fault_kinds: tuple[str, ...],
) -> None:
    """Raise ``ValueError`` when one of the knobs that may change at run time is invalid."""
    for name, value in (("latency", latency), ("execution_time", execution_time)):
        if not math.isfinite(value) or not 0 <= value <= 3600:
            raise ValueError(f"{name} must be between 0 and 3600 seconds")
    if rate_limit is not None and not 1 <= rate_limit <= 10_000_000:
        raise ValueError("rate_limit must be a positive number of requests per minute or None")
    if burst is not None and not 1 <= burst <= 10_000_000:
        raise ValueError("burst must be positive or None")
    if not math.isfinite(fault_rate) or not 0.0 <= fault_rate <= 1.0:
        raise ValueError("fault_rate must be between 0 and 1")
    if isinstance(fault_kinds, str):
        raise ValueError("fault_kinds must be a sequence of kinds, not a string")
    bad = [k for k in fault_kinds if k not in FAULT_KINDS]
    if bad:
        raise ValueError(f"unknown fault kind(s) {bad}; known: {', '.join(FAULT_KINDS)}")
    if fault_rate > 0 and not fault_kinds:
        raise ValueError("fault_rate > 0 needs at least one fault kind")


def is_loopback(host: str) -> bool:
    """Tell whether ``host`` names this machine only (127.0.0.0/8, ::1 or localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
