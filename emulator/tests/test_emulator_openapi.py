"""The emulator against ``docs/openapi.yaml``, checked by Schemathesis (a third party).

The description is loaded and validated against the OpenAPI 3.1 meta-schema, then
Schemathesis generates requests for every operation (valid and invalid ones) and sends
them to one real emulator on 127.0.0.1: no 5xx but the documented ``workflow_failed``,
and every answer's status, content type and body must be what the description says.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import schemathesis
from floimg_emulator import EmulatorThread
from hypothesis import HealthCheck, settings
from schemathesis.checks import (
    allow_header_conformance,
    content_type_conformance,
    missing_required_header,
    negative_data_rejection,
    not_a_server_error,
    positive_data_acceptance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
    unsupported_method,
)
from schemathesis.config import SchemathesisConfig

#: Examples per operation: bounded so the whole check stays within a few seconds.
MAX_EXAMPLES = 40
SPEC = Path(__file__).resolve().parents[2] / "docs" / "openapi.yaml"
# The API ignores query parameters it does not know, which OpenAPI cannot say; and the
# key goes in every request (the tests below add it), so neither is "negative" data.
CONFIG = SchemathesisConfig.from_str(
    "[generation]\nallow-extra-parameters = false\nwith-security-parameters = false\n"
)
schema = schemathesis.openapi.from_path(SPEC, config=CONFIG)
CHECKS = [
    not_a_server_error,
    status_code_conformance,
    content_type_conformance,
    response_schema_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_headers_conformance,
    missing_required_header,
    unsupported_method,
    allow_header_conformance,
]


@pytest.fixture(scope="module")
def emulator() -> Iterator[EmulatorThread]:
    with EmulatorThread(execution_time=0.0) as emu:
        yield emu


def test_the_description_is_valid_openapi() -> None:
    schema.validate()  # raises on any violation of the OpenAPI 3.1 meta-schema
    operations = {op.ok().label for op in schema.get_all_operations()}
    assert len(operations) == 10 and "POST /storage/upload" in operations
    broken = SPEC.read_text(encoding="utf-8").replace("in: query", "in: quary", 1)
    with pytest.raises(Exception, match="quary"):
        schemathesis.openapi.from_file(broken).validate()


#: 400s that depend on state or content a description cannot express: another body
#: under a used Idempotency-Key, bytes that are not an image, an id that does not exist.
STATEFUL_REASONS = {"reused_with_different_body", "not_an_image", "not_found"}
EXECUTE_FIELDS = {"workflowId", "parameters", "async"}


def rejected_for_state(case: Any, response: Any) -> bool:
    """Tell whether a 400 refuses schema-valid data for a documented, state-dependent reason."""
    if response.status_code != 400:
        return False
    details = response.json()["error"].get("details", {})
    if details.get("reason") in STATEFUL_REASONS:
        return True
    # each workflow declares its own parameter schema (GET /workflows/{id})
    return case.path == "/workflows/execute" and details.get("field") not in EXECUTE_FIELDS


@schema.parametrize()
@settings(
    max_examples=MAX_EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    database=None,
)
def test_the_emulator_keeps_to_the_description(case: Any, emulator: EmulatorThread) -> None:
    headers = {"Authorization": f"Bearer {emulator.api_key}"}
    response = case.call(base_url=emulator.base_url, headers=headers)
    excluded = []
    if response.status_code == 500 and case.path == "/workflows/execute":
        assert response.json()["error"]["code"] == "workflow_failed"
        excluded.append(not_a_server_error)
    if rejected_for_state(case, response):
        excluded.append(positive_data_acceptance)
    checks = [check for check in CHECKS if check not in excluded]
    case.validate_response(response, checks=checks, headers=headers)


#: Sequences of calls that follow the description's links (execute → get the execution,
#: upload → get or delete the image, create a project → list its images and workflows).
STATEFUL_EXAMPLES = 25


def test_the_description_links_real_operations() -> None:
    machine = schema.as_state_machine()
    assert machine.bundles, "docs/openapi.yaml declares no links between operations"


def _checks_for(case: Any, response: Any) -> list[Any]:
    excluded = []
    if response.status_code == 500 and case.path == "/workflows/execute":
        assert response.json()["error"]["code"] == "workflow_failed"
        excluded.append(not_a_server_error)
    if rejected_for_state(case, response):
        excluded.append(positive_data_acceptance)
    return [check for check in CHECKS if check not in excluded]


def test_the_emulator_keeps_to_the_description_across_links(emulator: EmulatorThread) -> None:
    headers = {"Authorization": f"Bearer {emulator.api_key}"}

    class Links(schema.as_state_machine()):
        def get_call_kwargs(self, case: Any) -> dict[str, Any]:
            return {"base_url": emulator.base_url, "headers": headers}

        def validate_response(
            self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
        ) -> None:
            case.validate_response(response, checks=_checks_for(case, response), headers=headers)

    Links.run(
        settings=settings(
            max_examples=STATEFUL_EXAMPLES,
            stateful_step_count=6,
            deadline=None,
            suppress_health_check=list(HealthCheck),
            database=None,
        )
    )
