"""Everything one emulator holds while it runs: store, runner, keys, knobs and counters."""

from __future__ import annotations

import asyncio
import secrets
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from aiohttp import web

from ._config import DEFAULT_ACCOUNT, EmulatorConfig, KeySpec, check_runtime_knobs
from ._executions import ExecutionRunner
from ._faults import FaultInjector
from ._idempotency import Idempotency
from ._ratelimit import RateLimiter
from ._seed import seed_records
from ._stats import Stats
from ._store import Store

_KEY_META = "default_api_key"
RUNTIME_KNOBS = (
    "latency",
    "execution_time",
    "rate_limit",
    "burst",
    "fault_rate",
    "fault_kinds",
    "seed",
)


class EmulatorState:
    """Hold the parts of a running emulator; created by ``create_app``, opened on app startup."""

    def __init__(self, config: EmulatorConfig) -> None:
        config.validate()
        self.config = config
        self.stats = Stats()
        self.faults = FaultInjector(config.fault_rate, config.fault_kinds, config.seed)
        self.rate_limiter = RateLimiter(config.rate_limit, config.burst)
        self.keys: dict[str, KeySpec] = dict(config.keys)
        self.api_key = ""
        self.origin: str | None = None
        self.root: Path | None = None
        self._tmp: tempfile.TemporaryDirectory[str] | None = None
        self._store: Store | None = None
        self._runner: ExecutionRunner | None = None
        self._idempotency: Idempotency | None = None

    @property
    def store(self) -> Store:
        """Return the open store."""
        if self._store is None:
            raise RuntimeError("the emulator is not running")
        return self._store

    @property
    def runner(self) -> ExecutionRunner:
        """Return the execution runner."""
        if self._runner is None:
            raise RuntimeError("the emulator is not running")
        return self._runner

    @property
    def idempotency(self) -> Idempotency:
        """Return the idempotency coordinator."""
        if self._idempotency is None:
            raise RuntimeError("the emulator is not running")
        return self._idempotency

    def origin_for(self, request: web.Request | None = None) -> str:
        """Return the origin image URLs are built on (the bound address when known)."""
        if self.origin is not None or request is None:
            return self.origin or ""
        return f"{request.scheme}://{request.host}"  # only when embedded in a foreign app

    async def open(self) -> None:
        """Open the store (``data_dir`` or a temp dir), load keys, seed, resume executions."""
        if self.config.data_dir is not None:
            root = Path(self.config.data_dir).expanduser().resolve()
            await asyncio.to_thread(root.mkdir, parents=True, exist_ok=True)
        else:
            self._tmp = await asyncio.to_thread(
                tempfile.TemporaryDirectory, prefix="floimg-emulator-", ignore_cleanup_errors=True
            )
            root = Path(self._tmp.name)
        self.root = root
        self._store = Store(root)
        await self._store.open()
        key = self.config.api_key or await self._store.get_meta(_KEY_META)
        if key is None:
            key = f"fsk_test_{secrets.token_hex(16)}"
            await self._store.set_meta(_KEY_META, key)
        self.api_key = key
        self.keys.setdefault(key, KeySpec(DEFAULT_ACCOUNT, ("all",)))
        for account in sorted({spec.account for spec in self.keys.values()}):
            await self.seed_account(account)
        self._runner = ExecutionRunner(self._store, lambda: self.config.execution_time)
        self._idempotency = Idempotency(self._store, self.stats, lambda: self.origin or "")
        await self._runner.resume_unfinished()

    async def seed_account(self, account: str) -> None:
        """Give ``account`` its default project and workflows, unless it has them."""
        projects, workflows = seed_records(account, self.config.extra_workflows)
        await self.store.seed(projects, workflows)

    async def add_key(self, key: str, spec: KeySpec) -> None:
        """Accept another API key (seeding its account)."""
        replace(self.config, keys={key: spec}).validate()
        self.keys[key] = spec
        await self.seed_account(spec.account)

    async def shutdown(self) -> None:
        """Cancel running executions (the server is going away)."""
        if self._runner is not None:
            await self._runner.shutdown()

    async def close(self) -> None:
        """Stop everything and remove the temporary directory, if one was used."""
        try:
            await self.shutdown()
            if self._store is not None:
                await self._store.close()
        finally:
            if self._tmp is not None:
                await asyncio.to_thread(self._tmp.cleanup)
                self._tmp = None

    def configure(self, **knobs: Any) -> None:
        """Change run-time knobs (see :data:`RUNTIME_KNOBS`); raise ``ValueError`` if invalid."""
        unknown = set(knobs) - set(RUNTIME_KNOBS)
        if unknown:
            raise ValueError(f"not run-time knobs: {sorted(unknown)}")
        if "fault_kinds" in knobs:
            knobs["fault_kinds"] = tuple(knobs["fault_kinds"])
        seed = knobs.pop("seed", None)
        updated = replace(self.config, **knobs)
        check_runtime_knobs(
            latency=updated.latency,
            execution_time=updated.execution_time,
            rate_limit=updated.rate_limit,
            burst=updated.burst,
            fault_rate=updated.fault_rate,
            fault_kinds=updated.fault_kinds,
        )
        self.config = replace(updated, seed=seed if seed is not None else updated.seed)
        self.faults.configure(updated.fault_rate, updated.fault_kinds, seed)
        if "rate_limit" in knobs or "burst" in knobs:
            self.rate_limiter.configure(updated.rate_limit, updated.burst)

    def knobs(self) -> dict[str, Any]:
        """Return the current run-time knobs."""
        c = self.config
        return {
            "latency": c.latency,
            "execution_time": c.execution_time,
            "rate_limit": c.rate_limit,
            "burst": c.burst,
            "fault_rate": c.fault_rate,
            "fault_kinds": list(c.fault_kinds),
            "seed": c.seed,
            "max_upload_bytes": c.max_upload_bytes,
            "extra_workflows": c.extra_workflows,
        }


STATE_KEY = web.AppKey("floimg_emulator_state", EmulatorState)
