"""floimg-async: the async-first Python SDK for the FloImg image-workflow API.

Start with :class:`FloImg`::

    async with FloImg(api_key="fsk_test_…") as client:
        execution = await client.workflows.run("wf_abc123", {"prompt": "A mountain"})
        data = await client.images.download(execution.output)

Test your own code without sockets through :mod:`floimg_async.transports`
(``FloImg(transport=MockTransport(handler))``).
"""

from ._client import FloImg
from ._errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    DeadlineExceededError,
    FloImgError,
    ForbiddenError,
    InvalidRequestError,
    LocalFileError,
    NotFoundError,
    RateLimitedError,
    ResponseDecodeError,
    ResponseTooLargeError,
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
from ._ratelimit import RateLimitInfo
from ._response import RawResponse
from ._sender import ClientStats
from ._version import __version__

__all__ = [
    "APIConnectionError",
    "APIError",
    "APITimeoutError",
    "AsyncPager",
    "ClientStats",
    "CompletedExecution",
    "DeadlineExceededError",
    "Execution",
    "ExecutionOutput",
    "ExecutionStatus",
    "FloImg",
    "FloImgError",
    "ForbiddenError",
    "Image",
    "InvalidRequestError",
    "LocalFileError",
    "NotFoundError",
    "Page",
    "Project",
    "RateLimitInfo",
    "RateLimitedError",
    "RawResponse",
    "ResponseDecodeError",
    "ResponseTooLargeError",
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
