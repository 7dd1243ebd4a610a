"""The public surface: every name the contract lists is exported, typed and documented."""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest

import floimg_async

CONTRACT_NAMES = {
    "FloImg", "AsyncPager", "Page", "WorkflowSummary", "Workflow", "WorkflowParameter",
    "Execution", "ExecutionStatus", "ExecutionOutput", "Image", "Project", "RunResult",
    "FloImgError", "APIError", "InvalidRequestError", "UnauthorizedError", "ForbiddenError",
    "NotFoundError", "RateLimitedError", "WorkflowFailedError", "ServerError",
    "APIConnectionError", "APITimeoutError", "WaitTimeoutError", "__version__",
}  # fmt: skip

CONTRACT = Path(__file__).resolve().parents[2] / "shared" / "sdk-contract.md"


def test_all_holds_every_contract_name() -> None:
    assert set(floimg_async.__all__) >= CONTRACT_NAMES
    for name in floimg_async.__all__:
        assert hasattr(floimg_async, name), name


@pytest.mark.skipif(not CONTRACT.exists(), reason="the shared contract is not beside this clone")
def test_every_class_named_in_the_contract_file_is_exported() -> None:
    text = CONTRACT.read_text()
    models = set(re.findall(r"^- `([A-Z]\w+)(?:\[T\])?\(", text, flags=re.M))
    errors = set(re.findall(r"^[│├└─\s]*(\w+Error)\b", text, flags=re.M))
    assert models and errors
    assert models | errors <= set(floimg_async.__all__)


def test_error_tree_matches_the_contract() -> None:
    f = floimg_async
    for cls in (f.InvalidRequestError, f.UnauthorizedError, f.ForbiddenError, f.NotFoundError,
                f.RateLimitedError, f.WorkflowFailedError, f.ServerError):  # fmt: skip
        assert issubclass(cls, f.APIError)
    assert issubclass(f.APIError, f.FloImgError)
    assert issubclass(f.APITimeoutError, f.APIConnectionError)
    assert issubclass(f.APIConnectionError, f.FloImgError)
    assert issubclass(f.WaitTimeoutError, f.FloImgError)


def test_listing_methods_are_plain_and_the_rest_are_coroutines() -> None:
    client = floimg_async.FloImg("fsk_test_x", base_url="http://127.0.0.1:9/v1")
    for resource, name in [("workflows", "list"), ("images", "list"), ("projects", "list"),
                           ("workflows", "run_many")]:  # fmt: skip
        assert not inspect.iscoroutinefunction(getattr(getattr(client, resource), name))
    for resource, name in [
        ("workflows", "get"), ("workflows", "execute"), ("workflows", "submit"),
        ("workflows", "run"), ("executions", "get"), ("executions", "wait"),
        ("images", "upload"), ("images", "get"), ("images", "delete"), ("images", "download"),
        ("projects", "create"),
    ]:  # fmt: skip
        assert inspect.iscoroutinefunction(getattr(getattr(client, resource), name)), name


def test_every_public_name_has_a_docstring() -> None:
    for name in floimg_async.__all__:
        obj = getattr(floimg_async, name)
        if inspect.isclass(obj):
            assert obj.__doc__ and obj.__doc__.strip(), name
            for attr, member in vars(obj).items():
                if not attr.startswith("_") and (
                    inspect.isfunction(member) or isinstance(member, property)
                ):
                    assert member.__doc__, f"{name}.{attr}"


def test_version_and_py_typed() -> None:
    assert re.fullmatch(r"\d+\.\d+\.\d+.*", floimg_async.__version__)
    assert (Path(floimg_async.__file__).parent / "py.typed").exists()


def test_importing_the_package_does_not_import_optional_extras() -> None:
    import subprocess
    import sys

    code = (
        "import sys, floimg_async; "
        "print(sorted(m for m in ('PIL', 'click', 'rich') if m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
