"""The district's doors, probed by schemathesis from its own OpenAPI description
(`GET /openapi.json`): whatever is sent, no server error, and every answer's status, content
type and body are as described. Signed messages are sent unsigned, badly signed and with odd
headers here; their contents are the protocol's own tests' business."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, given, settings

from tests.sync.conftest import register


def probe(api, examples: int, call=None) -> int:  # type: ignore[no-untyped-def]
    """Run schemathesis over every operation of ``api`` (hypothesis-made cases, both as described
    and off the description); returns how many requests were sent. (Driven here rather than by
    schemathesis's pytest plugin, which does not yet run under this pytest.)"""
    sent = 0
    for result in api.get_all_operations():
        operation = result.ok()

        @given(case=operation.as_strategy())
        @settings(max_examples=examples, deadline=None, derandomize=True, database=None,
                  suppress_health_check=list(HealthCheck))
        def one(case):  # type: ignore[no-untyped-def]
            nonlocal sent
            sent += 1
            if call is None:
                case.call_and_validate()
            else:
                call(case)

        one()
    return sent


def test_the_district_answers_every_request_as_described(district):  # type: ignore[no-untyped-def]
    register(district)  # a school and a waiting registration, so enrolment codes have a place to land
    api = schemathesis.openapi.from_wsgi("/openapi.json", district)
    assert probe(api, 80) >= 100


def test_the_description_is_served_and_names_every_message(district):  # type: ignore[no-untyped-def]
    client = district.test_client()
    described = client.get("/openapi.json").get_json()
    assert described["openapi"].startswith("3.")
    assert {"/healthz", "/sync/v1/enrol", "/sync/v1/{message}"} <= set(described["paths"])
    wrong = client.get("/sync/v1/hello")
    assert wrong.status_code == 405 and wrong.get_json()["error"] == "method_not_allowed"
