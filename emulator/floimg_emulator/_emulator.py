"""``Emulator``: start and stop the FloImg API emulator in-process, and look inside it."""

from __future__ import annotations

import os
from pathlib import Path
from types import TracebackType
from typing import Any

from aiohttp import web

from ._app import create_app
from ._config import DEFAULT_FAULT_KINDS, DEFAULT_MAX_UPLOAD_BYTES, EmulatorConfig, KeySpec
from ._records import ExecutionRecord, ImageRecord
from ._state import STATE_KEY, EmulatorState
from ._stats import Stats

#: The longest request line or header the emulator's HTTP server reads (bytes).
MAX_REQUEST_LINE = 64 * 1024


class Emulator:
    """A local, stateful FloImg API on 127.0.0.1, for tests, demos and benchmarks.

    Use ``async with Emulator(port=0) as emu:`` (or ``await emu.start()`` /
    ``await emu.stop()``), then point a client at ``emu.base_url`` with ``emu.api_key``.

    Knobs:

    - ``host``/``port``: where to listen (``port=0`` picks a free port); a host
      other than loopback needs ``allow_remote=True``.
    - ``data_dir``: keep state there across restarts; None uses a temporary
      directory removed on stop.
    - ``api_key``: the key of the default account (``acct_default``, scope ``all``);
      None generates ``fsk_test_…`` (persisted in ``data_dir``).
    - ``keys``: more keys, ``{"fsk_test_ro": KeySpec(account="acct_b", scopes=(...))}``.
    - ``latency``: seconds added before every API response.
    - ``execution_time``: the least seconds an execution takes (render time counts).
    - ``rate_limit``/``burst``: requests per minute and bucket size per key (None: off).
    - ``fault_rate``/``fault_kinds``/``seed``: the share of API requests that fail
      with ``500``, ``502``, ``503``, ``reset`` or ``reset_after``, drawn from
      ``random.Random(seed)``.
    - ``max_upload_bytes``: upload size limit (default 10 MB).
    - ``extra_workflows``: seed N more workflows ``wf_gen_0001…`` (for paging).
    """

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        data_dir: str | os.PathLike[str] | None = None,
        api_key: str | None = None,
        keys: dict[str, KeySpec] | None = None,
        latency: float = 0.0,
        execution_time: float = 0.1,
        rate_limit: int | None = None,
        burst: int | None = None,
        fault_rate: float = 0.0,
        fault_kinds: tuple[str, ...] = DEFAULT_FAULT_KINDS,
        seed: int | None = None,
        max_upload_bytes: int = DEFAULT_MAX_UPLOAD_BYTES,
        extra_workflows: int = 0,
        allow_remote: bool = False,
    ) -> None:
        self._config = EmulatorConfig(
            host=host,
            port=port,
            data_dir=data_dir,
            api_key=api_key,
            keys=dict(keys or {}),
            latency=latency,
            execution_time=execution_time,
            rate_limit=rate_limit,
            burst=burst,
            fault_rate=fault_rate,
            fault_kinds=tuple(fault_kinds),
            seed=seed,
            max_upload_bytes=max_upload_bytes,
            extra_workflows=extra_workflows,
            allow_remote=allow_remote,
        )
        self._config.validate()
        self._app: web.Application | None = None
        self._runner: web.AppRunner | None = None
        self._origin: str | None = None

    @classmethod
    def from_config(cls, config: EmulatorConfig) -> Emulator:
        """Build an emulator from an :class:`EmulatorConfig`."""
        return cls(**vars(config))

    # -- lifecycle ---------------------------------------------------------------------

    async def start(self) -> Emulator:
        """Open the store and start listening; return ``self``.

        Raises ``OSError`` when the port is taken.
        """
        if self._runner is not None:
            raise RuntimeError("the emulator is already running")
        app = create_app(self._config)
        runner = web.AppRunner(
            app,
            access_log=None,
            handle_signals=False,
            shutdown_timeout=2.0,
            # aiohttp refuses longer request lines and headers itself, with a plain-text
            # 400 the app never sees; 64 KiB lets odd but honest URLs reach the API's
            # envelope (an upload's part headers have their own limit in the reader).
            max_line_size=MAX_REQUEST_LINE,
            max_field_size=MAX_REQUEST_LINE,
        )
        await runner.setup()
        try:
            bind = "127.0.0.1" if self._config.host == "localhost" else self._config.host
            await web.TCPSite(runner, bind, self._config.port).start()
            port = runner.addresses[0][1]
        except BaseException:
            await runner.cleanup()
            raise
        host = f"[{bind}]" if ":" in bind else bind
        self._origin = f"http://{host}:{port}"
        app[STATE_KEY].origin = self._origin
        self._app, self._runner = app, runner
        return self

    async def stop(self) -> None:
        """Stop listening, cancel running executions and close the store (idempotent)."""
        runner, self._runner = self._runner, None
        if runner is not None:
            await runner.cleanup()

    async def __aenter__(self) -> Emulator:
        """Start the emulator (see :meth:`start`)."""
        return await self.start()

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        """Stop the emulator (see :meth:`stop`)."""
        await self.stop()

    # -- where and who -----------------------------------------------------------------

    @property
    def state(self) -> EmulatorState:
        """Return the running emulator's internals (store, faults, rate limiter, stats)."""
        if self._app is None:
            raise RuntimeError("the emulator has not been started")
        return self._app[STATE_KEY]

    @property
    def app(self) -> web.Application:
        """Return the ``aiohttp`` application being served."""
        if self._app is None:
            raise RuntimeError("the emulator has not been started")
        return self._app

    @property
    def running(self) -> bool:
        """Tell whether the emulator is serving."""
        return self._runner is not None

    @property
    def origin(self) -> str:
        """Return ``http://127.0.0.1:PORT``, where ``/files`` and ``/_emulator`` live."""
        if self._origin is None:
            raise RuntimeError("the emulator has not been started")
        return self._origin

    @property
    def base_url(self) -> str:
        """Return the API base URL, ``http://127.0.0.1:PORT/v1`` (no trailing slash)."""
        return f"{self.origin}/v1"

    @property
    def port(self) -> int:
        """Return the port the emulator listens on."""
        return int(self.origin.rsplit(":", 1)[1])

    @property
    def api_key(self) -> str:
        """Return the default account's API key (scope ``all``)."""
        return self.state.api_key

    @property
    def data_dir(self) -> Path:
        """Return the directory holding the database and image files."""
        root = self.state.root
        if root is None:
            raise RuntimeError("the emulator has not been started")
        return root

    @property
    def stats(self) -> Stats:
        """Return the live request counters (``stats.snapshot()`` for plain data)."""
        return self.state.stats

    # -- steering ----------------------------------------------------------------------

    def configure(self, **knobs: Any) -> None:
        """Change run-time knobs: latency, execution_time, rate_limit, burst, fault_rate,
        fault_kinds, seed. Raises ``ValueError`` for bad values."""
        self.state.configure(**knobs)

    def inject_fault(
        self, kind: str, *, path: str | None = None, method: str | None = None, count: int = 1
    ) -> None:
        """Give the next ``count`` API requests matching ``path`` (or a glob) the fault ``kind``.

        Kinds: ``500``, ``502``, ``503``, ``reset`` (dropped before processing),
        ``reset_after`` (processed, then dropped without an answer).
        """
        self.state.faults.inject(kind, path=path, method=method, count=count)

    def clear_faults(self) -> None:
        """Drop every queued fault."""
        self.state.faults.clear()

    async def add_key(self, key: str, spec: KeySpec | None = None) -> None:
        """Accept another API key (default: a new account with scope ``all``)."""
        await self.state.add_key(key, spec or KeySpec(account=f"acct_{key[-8:]}"))

    # -- introspection -----------------------------------------------------------------

    async def executions(
        self,
        *,
        account: str | None = None,
        workflow_id: str | None = None,
        status: str | None = None,
    ) -> list[ExecutionRecord]:
        """Return every execution matching the filters, oldest first."""
        return await self.state.store.list_executions(
            account=account, workflow_id=workflow_id, status=status
        )

    async def count_executions(
        self,
        *,
        account: str | None = None,
        workflow_id: str | None = None,
        status: str | None = None,
    ) -> int:
        """Return how many executions match the filters."""
        return len(await self.executions(account=account, workflow_id=workflow_id, status=status))

    async def images(self) -> list[ImageRecord]:
        """Return every stored image of every account, oldest first."""
        images, _ = await self.state.store.list_images(None, None, 0, 0)
        return images

    async def count_images(self) -> int:
        """Return how many images are stored (uploads and execution outputs)."""
        return await self.state.store.count("images")

    async def count_projects(self) -> int:
        """Return how many projects exist across accounts (each account has ``proj_default``)."""
        return await self.state.store.count("projects")

    def __repr__(self) -> str:
        """Show where the emulator listens, never its key."""
        where = self._origin if self.running else "stopped"
        return f"<Emulator {where}>"
