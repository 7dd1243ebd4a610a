"""The test suite on every supported Python, and once on the lowest allowed versions.

``make matrix`` runs every session; ``nox -s "tests-3.13" lowest`` picks some.
Each session is a fresh uv-made virtualenv with the emulator (``./emulator``, its
own distribution in this repository) and the ``dev``, ``emulator`` and ``cli``
extras, running pytest the way ``make pytest`` does (ruff and mypy do not
depend on the interpreter and run once, in ``make test``). Interpreters are
looked up on the machine (pyenv's ``/root/.pyenv/versions`` here), never downloaded.
The ``ray`` extra is left out (its wheels lag new Pythons; its tests skip without it):
``make test`` runs the Ray tests on the default Python.
"""

from __future__ import annotations

import nox

nox.options.default_venv_backend = "uv"
nox.options.download_python = "never"
nox.options.error_on_missing_interpreters = True
nox.options.sessions = ["tests", "lowest"]

PYTHONS = ["3.10", "3.11", "3.12", "3.13"]
EMULATOR = "./emulator[test]"
EXTRAS = ".[dev,emulator,cli]"
PYTEST = ("python", "-m", "pytest", "-q", "-p", "no:cacheprovider")


@nox.session(python=PYTHONS)
def tests(session: nox.Session) -> None:
    """Run the suite on one Python with the newest versions pyproject.toml allows."""
    session.install("-e", EMULATOR, "-e", EXTRAS)
    session.run(*PYTEST, *session.posargs)


@nox.session(python="3.10")
def lowest(session: nox.Session) -> None:
    """Run the suite on Python 3.10 with the lowest versions pyproject.toml allows."""
    session.install("--resolution", "lowest-direct", "-e", EMULATOR, "-e", EXTRAS)
    session.run("uv", "pip", "freeze", silent=False, external=True)  # what was resolved
    session.run(*PYTEST, *session.posargs)
