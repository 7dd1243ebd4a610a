"""pytest fixtures for code that uses floimg_async, backed by the local emulator.

Registered as a pytest plugin (entry point ``pytest11: floimg_async``), so the
fixtures are available once ``floimg-async`` is installed:

- ``floimg_emulator``: a running :class:`floimg_async.emulator.Emulator` on
  127.0.0.1 (a fresh one per test, with a temporary data dir and fast executions).
- ``floimg_client``: a ``floimg_async.FloImg`` connected to it, closed after the test.
- ``floimg_emulator_factory``: an async callable ``make(**knobs) -> Emulator``
  for tests that need several emulators or special knobs; all stopped afterwards.

Knobs for ``floimg_emulator`` come from a marker::

    @pytest.mark.floimg_emulator(latency=0.05, rate_limit=60)
    async def test_slow_api(floimg_client): ...

The fixtures need the ``emulator`` extra (Pillow) and pytest-asyncio; this module
imports neither until a fixture is used, so installing the SDK never breaks pytest.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from floimg_async.emulator import Emulator

#: The execution time fixtures use unless a marker says otherwise (seconds).
FAST_EXECUTION_TIME = 0.01

EmulatorFactory = Callable[..., Awaitable["Emulator"]]

_MARKER = "floimg_emulator"
_NEEDS_EXTRA = "the floimg emulator fixtures need Pillow: pip install 'floimg-async[emulator]'"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``floimg_emulator`` marker."""
    config.addinivalue_line(
        "markers", f"{_MARKER}(**knobs): keyword arguments for the floimg_emulator fixture"
    )


def _emulator_class() -> type[Emulator]:
    try:
        from floimg_async.emulator import Emulator
    except ImportError as exc:
        pytest.fail(f"{_NEEDS_EXTRA} ({exc})", pytrace=False)
    return Emulator


def _knobs(request: pytest.FixtureRequest) -> dict[str, Any]:
    knobs: dict[str, Any] = {"port": 0, "execution_time": FAST_EXECUTION_TIME}
    marker = request.node.get_closest_marker(_MARKER)
    if marker is not None:
        knobs.update(marker.kwargs)
    return knobs


try:
    import pytest_asyncio
except ImportError:  # pragma: no cover - pytest-asyncio is how async fixtures run

    def _missing(name: str) -> Any:
        def fixture() -> None:
            pytest.fail(f"the {name} fixture needs pytest-asyncio: pip install pytest-asyncio")

        fixture.__name__ = name
        fixture.__doc__ = f"Unavailable: {name} needs pytest-asyncio."
        return pytest.fixture(name=name)(fixture)

    floimg_emulator = _missing("floimg_emulator")
    floimg_emulator_factory = _missing("floimg_emulator_factory")
    floimg_client = _missing("floimg_client")
else:

    @pytest_asyncio.fixture
    async def floimg_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
        """Yield a running emulator on 127.0.0.1:0 (knobs from ``@pytest.mark.floimg_emulator``)."""
        async with _emulator_class()(**_knobs(request)) as emulator:
            yield emulator

    @pytest_asyncio.fixture
    async def floimg_emulator_factory() -> AsyncIterator[EmulatorFactory]:
        """Yield ``make(**knobs)``, which starts an emulator; every one is stopped afterwards."""
        cls = _emulator_class()
        started: list[Emulator] = []

        async def make(**knobs: Any) -> Emulator:
            knobs.setdefault("port", 0)
            knobs.setdefault("execution_time", FAST_EXECUTION_TIME)
            emulator = cls(**knobs)
            await emulator.start()
            started.append(emulator)
            return emulator

        try:
            yield make
        finally:
            for emulator in reversed(started):
                await emulator.stop()

    @pytest_asyncio.fixture
    async def floimg_client(floimg_emulator: Emulator) -> AsyncIterator[Any]:
        """Yield a ``floimg_async.FloImg`` connected to ``floimg_emulator``, closed afterwards."""
        import floimg_async

        async with floimg_async.FloImg(  # type: ignore[attr-defined,unused-ignore]
            api_key=floimg_emulator.api_key, base_url=floimg_emulator.base_url
        ) as client:
            yield client
