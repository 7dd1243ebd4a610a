"""pytest fixtures that start local FloImg API emulators (the ``floimg_emulator`` plugin).

Registered as a pytest plugin (entry point ``pytest11: floimg_emulator``), so the
fixtures are available once ``floimg-emulator`` is installed (``pip install
'floimg-async[emulator]'`` installs it):

- ``floimg_emulator``: a running :class:`floimg_emulator.Emulator` on 127.0.0.1
  (a fresh one per test, with a temporary data dir and fast executions).
- ``floimg_emulator_factory``: an async callable ``make(**knobs) -> Emulator``
  for tests that need several emulators or special knobs; all stopped afterwards.

(``floimg_client``, a connected SDK client, comes from floimg-async's own plugin.)

Knobs for ``floimg_emulator`` come from a marker::

    @pytest.mark.asyncio
    @pytest.mark.floimg_emulator(latency=0.05, rate_limit=60)
    async def test_slow_api(floimg_emulator): ...

The fixtures are pytest-asyncio fixtures with an explicit function loop scope, so
they work in pytest-asyncio's default strict mode (mark your tests with
``@pytest.mark.asyncio``) as well as in auto mode. This module imports neither
Pillow nor the emulator until a fixture is used.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from ._emulator import Emulator

#: The execution time fixtures use unless a marker says otherwise (seconds).
FAST_EXECUTION_TIME = 0.01

EmulatorFactory = Callable[..., Awaitable["Emulator"]]

_MARKER = "floimg_emulator"


def pytest_configure(config: pytest.Config) -> None:
    """Register the ``floimg_emulator`` marker."""
    config.addinivalue_line(
        "markers", f"{_MARKER}(**knobs): keyword arguments for the floimg_emulator fixture"
    )


def _emulator_class() -> type[Emulator]:
    from ._emulator import Emulator

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
else:

    @pytest_asyncio.fixture(loop_scope="function")
    async def floimg_emulator(request: pytest.FixtureRequest) -> AsyncIterator[Emulator]:
        """Yield a running emulator on 127.0.0.1:0 (knobs from ``@pytest.mark.floimg_emulator``)."""
        async with _emulator_class()(**_knobs(request)) as emulator:
            yield emulator

    @pytest_asyncio.fixture(loop_scope="function")
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
