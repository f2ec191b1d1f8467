"""Schema-driven fuzzing: schemathesis generates requests for every operation of /api/schema/ and
sends them as an owner and as a clerk. No input may give a server error, and every answer must
match the schema partners integrate against."""

import pytest
from hypothesis import HealthCheck, settings
from rest_framework.authtoken.models import Token

import schemathesis
from django.core import signals
from django.core.wsgi import get_wsgi_application
from django.db import close_old_connections
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance, status_code_conformance

schema = schemathesis.openapi.from_wsgi("/api/schema/?format=json", get_wsgi_application())


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
    return Token.objects.get_or_create(user=member.user)[0].key


@schema.parametrize()
@settings(max_examples=12, deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow,
                                 HealthCheck.filter_too_much])
def test_no_input_gives_a_server_error_or_an_answer_off_the_schema(case, token):
    case.call_and_validate(
        headers={"Authorization": f"Token {token}", "Accept-Language": "zh-hans"},
        checks=[not_a_server_error, response_schema_conformance, status_code_conformance],
    )
