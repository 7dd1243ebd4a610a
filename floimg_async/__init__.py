"""floimg-async: the async-first Python SDK for the FloImg image-workflow API.

Start with :class:`FloImg`::

    async with FloImg(api_key="fsk_test_…") as client:
        execution = await client.workflows.run("wf_abc123", {"prompt": "A mountain"})
        data = await client.images.download(execution.output)
"""

from ._client import FloImg
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    FloImgError,
    ForbiddenError,
    InvalidRequestError,
    NotFoundError,
    RateLimitedError,
    ResponseDecodeError,
    ServerError,
    UnauthorizedError,
    WaitTimeoutError,
    WorkflowFailedError,
)
from ._models import (
    CompletedExecution,
    Execution,
    ExecutionOutput,
    ExecutionStatus,
    Image,
    Page,
    Project,
    RunFailed,
    RunOutcome,
    RunResult,
    RunSucceeded,
    Workflow,
    WorkflowParameter,
    WorkflowSummary,
)
from ._pagination import AsyncPager
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncPager",
    "CompletedExecution",
    "Execution",
    "ExecutionOutput",
    "ExecutionStatus",
    "FloImg",
    "FloImgError",
    "ForbiddenError",
    "Image",
    "InvalidRequestError",
    "NotFoundError",
    "Page",
    "Project",
    "RateLimitedError",
    "ResponseDecodeError",
    "RunFailed",
    "RunOutcome",
    "RunResult",
    "RunSucceeded",
    "ServerError",
    "UnauthorizedError",
    "WaitTimeoutError",
    "Workflow",
    "WorkflowFailedError",
    "WorkflowParameter",
    "WorkflowSummary",
    "__version__",
]
