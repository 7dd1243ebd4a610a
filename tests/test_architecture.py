"""The layout ARCHITECTURE.md promises, checked: one aiohttp module, a pure core."""

from __future__ import annotations

import ast
from pathlib import Path

import floimg_async

PACKAGE = Path(floimg_async.__file__).parent
# The SDK core: every private top-level module, the resources and the public seam.
CORE = sorted(
    [*PACKAGE.glob("_*.py"), *(PACKAGE / "_resources").glob("*.py"), PACKAGE / "transports.py"]
)
PURE = {"_request.py", "_wire.py", "_errors.py", "_retry.py", "_ratelimit.py", "_redact.py"}


def runtime_imports(path: Path) -> set[str]:
    """Top-level module names imported outside ``if TYPE_CHECKING:`` blocks."""
    tree = ast.parse(path.read_text())
    names: set[str] = set()

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                names.update(alias.name.split(".")[0] for alias in child.names)
            elif isinstance(child, ast.ImportFrom) and child.module and not child.level:
                names.add(child.module.split(".")[0])
            visit(child)

    visit(tree)
    return names


def test_only_the_aiohttp_transport_imports_aiohttp() -> None:
    importers = {p.name for p in CORE if "aiohttp" in runtime_imports(p)}
    assert importers == {"_aiohttp.py"}


def test_nothing_else_in_the_package_imports_aiohttp_at_run_time() -> None:
    """The CLI, bulk runner, demo and Ray integration use the SDK's own features."""
    importers = {
        str(p.relative_to(PACKAGE))
        for p in PACKAGE.rglob("*.py")
        if "aiohttp" in runtime_imports(p)
    }
    assert importers == {"_aiohttp.py"}


# -- above the core: the CLI, the bulk runner, the demo and the Ray integration ---------------

ABOVE = sorted(
    [
        *(PACKAGE / "cli").rglob("*.py"),
        *(PACKAGE / "bulk").rglob("*.py"),
        *(PACKAGE / "ray").rglob("*.py"),
        PACKAGE / "demo.py",
    ]
)


def _package_of(path: Path) -> str:
    """The dotted package a module's relative imports start from."""
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts if path.name == "__init__.py" else parts[:-1])


def imported_modules(path: Path, source: str | None = None) -> list[tuple[str, str | None]]:
    """``(module, name)`` of every import at run time, relative ones resolved.

    ``name`` is what ``from module import name`` takes (None for ``import module``).
    Imports inside functions count; ``if TYPE_CHECKING:`` blocks do not.
    """
    package = _package_of(path)
    found: list[tuple[str, str | None]] = []

    def visit(node: ast.AST) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.If) and "TYPE_CHECKING" in ast.unparse(child.test):
                continue
            if isinstance(child, ast.Import):
                found.extend((alias.name, None) for alias in child.names)
            elif isinstance(child, ast.ImportFrom):
                if child.level:
                    base = package.split(".")
                    base = base[: len(base) - (child.level - 1)]
                    module = ".".join([*base, *([child.module] if child.module else [])])
                else:
                    module = child.module or ""
                found.extend((module, alias.name) for alias in child.names)
            visit(child)

    visit(ast.parse(path.read_text() if source is None else source))
    return found


def _private(name: str) -> bool:
    return name.startswith("_") and not (name.startswith("__") and name.endswith("__"))


def private_uses(path: Path, source: str | None = None) -> list[str]:
    """The SDK's private modules or names ``path`` uses from outside its own package, and
    aiohttp (``source`` stands in for the file's text when given)."""
    own = _package_of(path)
    if own == "floimg_async":  # demo.py: a user of the SDK, not a package of it
        own = "floimg_async.demo"
    wrong = []
    for module, name in imported_modules(path, source):
        if module.split(".")[0] == "aiohttp":
            wrong.append(module)
        if module.split(".")[0] != "floimg_async":
            continue
        if module == own or module.startswith(own + "."):
            continue  # a package's own private modules are its business
        dotted = module if name is None else f"{module}.{name}"
        if any(_private(part) for part in dotted.split(".")):
            wrong.append(dotted)
    return wrong


def test_code_above_the_core_uses_only_public_names() -> None:
    used = {str(p.relative_to(PACKAGE)): private_uses(p) for p in ABOVE}
    assert {where: names for where, names in used.items() if names} == {}


def test_the_public_names_check_catches_each_way_of_reaching_a_private_name() -> None:
    """The check above sees a private import however it is spelled (and lets the rest by)."""
    cli = PACKAGE / "cli" / "_probe.py"  # where the source is taken to live; never written
    spellings = {
        "from .._convert import to_camel": ["floimg_async._convert.to_camel"],
        "from .. import _convert": ["floimg_async._convert"],
        "import floimg_async._sender": ["floimg_async._sender"],
        "from floimg_async._errors import FloImgError": ["floimg_async._errors.FloImgError"],
        "from ..bulk._paths import output_problem": ["floimg_async.bulk._paths.output_problem"],
        "from ..bulk import _job": ["floimg_async.bulk._job"],
        "def f():\n    import aiohttp": ["aiohttp"],
        "from aiohttp import web": ["aiohttp"],
        "if TYPE_CHECKING:\n    import aiohttp": [],
        "from ._output import emit_json": [],
        "from .. import FloImg, __version__": [],
        "from ..bulk import BulkJob": [],
        "from floimg_async.transports import WireRequest": [],
    }
    for source, expected in spellings.items():
        assert private_uses(cli, source) == expected, source
