"""Schema-driven fuzzing: schemathesis generates requests for every operation of /api/schema/ and
sends them as an owner and as a clerk. No input may give a server error, every answer must match
the schema partners integrate against, and the schema must say what the API takes: a request it
calls valid is accepted, one it calls invalid is refused."""

import pytest
from hypothesis import HealthCheck, settings
from tests.conftest import token_for

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.specs.openapi.checks import (
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

# A valid request may still be refused for what it carries, which no schema can tell: a code that
# is no voucher's is 404, one used up 409, and an empty or garbled one 422 (invalid_code), as the
# contract says; a file with bad lines is 422 (invalid_file).
ACCEPTED = ["2xx", "401", "403", "404", "409", "422", "429"]

# Where a valid request may be refused with 400 for a rule no schema states: records that must be
# the caller's, rules between fields, the world outside.
REFUSED_BEYOND_THE_SCHEMA = {
    ("POST", "/api/v1/auth/token/"): "a username and password that are no one's",
    ("POST", "/api/v1/staff/"): "stores of another merchant, a username taken, a password too weak",
    ("PATCH", "/api/v1/staff/{id}/"): "stores of another merchant, a password too weak, the owner's role",
    ("POST", "/api/v1/vouchers/"): "a product of another merchant",
    ("POST", "/api/v1/vouchers/import/"): "a product of another merchant",
    ("POST", "/api/v1/products/"): "stores of another merchant, validity that ends before it starts",
    ("POST", "/api/v1/webhooks/"): "a host that does not resolve, or only to a private address",
    ("GET", "/api/v1/vouchers/lookup/"): "both or neither of order_no and phone",
    **{("GET", path): "more than a year between from and to, or to before from" for path in (
        "/api/v1/redemptions/export.csv", "/api/v1/stats/staff/", "/api/v1/stats/stores/", "/api/v1/stats/products/",
        "/api/v1/stats/daily/", "/api/v1/stats/daily.csv", "/api/v1/orders/", "/api/v1/orders/export.csv",
    )},
}

config = SchemathesisConfig.from_dict({
    "checks": {"positive_data_acceptance": {"expected-statuses": ACCEPTED}},
    "operations": [
        {"include-method": method, "include-path": path,
         "checks": {"positive_data_acceptance": {"expected-statuses": [*ACCEPTED, "400"]}}}
        for method, path in REFUSED_BEYOND_THE_SCHEMA
    ],
})
schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application(), config=config)


@pytest.fixture(autouse=True)
def keep_the_test_connection():
    """As Django's test client does: the request cycle must not close the connection that holds
    the test's transaction (schemathesis calls the WSGI application directly)."""
    signals.request_started.disconnect(close_old_connections)
    signals.request_finished.disconnect(close_old_connections)
    yield
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)


@pytest.fixture(params=["owner", "clerk"])
def token(request, olivia, carol, meal, wash, issue):
    for product in (meal, wash):
        issue(product)
    member = olivia if request.param == "owner" else carol
    return token_for(member)


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_gives_a_server_error_an_answer_off_the_schema_or_a_verdict_the_schema_contradicts(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}", "Accept-Language": "zh-hans"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance,
                negative_data_rejection, positive_data_acceptance],
    )
