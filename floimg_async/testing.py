"""pytest fixture ``floimg_client``: a ``FloImg`` connected to a local emulator.

Registered as a pytest plugin (entry point ``pytest11: floimg_async``). The
emulator fixtures themselves, ``floimg_emulator`` and ``floimg_emulator_factory``
(and the ``@pytest.mark.floimg_emulator(**knobs)`` marker), come from the
``floimg_emulator`` plugin of the floimg-emulator distribution, which
``pip install 'floimg-async[emulator]'`` installs; both plugins load by
themselves, so a test just names the fixtures::

    @pytest.mark.asyncio
    async def test_social_card(floimg_client):
        execution = await floimg_client.workflows.execute("wf_social_card", {"prompt": "Hi"})

The fixtures work in pytest-asyncio's default strict mode (mark tests with
``@pytest.mark.asyncio``) and in auto mode. For conftest files written against
earlier releases, ``from floimg_async.testing import floimg_emulator,
floimg_emulator_factory`` still works: those names (and ``FAST_EXECUTION_TIME``,
``EmulatorFactory``) are looked up in :mod:`floimg_emulator.testing` on first
access, so this plugin never registers the emulator fixtures a second time.
Importing this module imports neither the emulator nor Pillow.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import TYPE_CHECKING, Any

import pytest

if TYPE_CHECKING:
    from floimg_async import FloImg

_ALIASES = ("floimg_emulator", "floimg_emulator_factory", "FAST_EXECUTION_TIME", "EmulatorFactory")
_NEEDS_EXTRA = (
    "the floimg emulator fixtures need the floimg-emulator distribution: "
    "pip install 'floimg-async[emulator]'"
)


def __getattr__(name: str) -> Any:
    """Return the emulator plugin's fixtures and constants under their old names."""
    if name not in _ALIASES:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    try:
        from floimg_emulator import testing
    except ImportError as exc:
        raise ImportError(f"{_NEEDS_EXTRA} ({exc})", name="floimg_emulator") from exc
    return getattr(testing, name)


def _client_fixture() -> Any:
    try:
        import pytest_asyncio
    except ImportError:  # pragma: no cover - pytest-asyncio is how async fixtures run

        def unavailable() -> None:
            """Unavailable: floimg_client needs pytest-asyncio."""
            pytest.fail(
                "the floimg_client fixture needs pytest-asyncio: pip install pytest-asyncio"
            )

        return pytest.fixture(name="floimg_client")(unavailable)

    @pytest_asyncio.fixture(name="floimg_client", loop_scope="function")
    async def floimg_client(floimg_emulator: Any) -> AsyncIterator[FloImg]:
        """Yield a ``FloImg`` connected to ``floimg_emulator``, closed afterwards.

        Needs the ``floimg_emulator`` fixture, i.e. ``pip install 'floimg-async[emulator]'``.
        """
        from floimg_async import FloImg

        async with FloImg(api_key=floimg_emulator.api_key, base_url=floimg_emulator.base_url) as c:
            yield c

    return floimg_client


floimg_client = _client_fixture()
