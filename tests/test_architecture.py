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


def test_the_pure_core_does_no_io() -> None:
    for path in CORE:
        if path.name in PURE:
            imported = runtime_imports(path)
            assert not imported & {"aiohttp", "asyncio", "socket", "os", "pathlib"}, path.name


def test_the_error_module_imports_nothing_from_the_package() -> None:
    tree = ast.parse((PACKAGE / "_errors.py").read_text())
    relative = [n for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.level]
    assert relative == []
