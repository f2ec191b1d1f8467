"""The log: one line per request with its id, route, status, time and staff, a scan's result, and
nothing a request carried (codes, tokens, phone numbers, paths, query strings)."""

import json
import logging

import pytest
from django.test import Client, RequestFactory
from django.utils.log import log_response
from django.http import HttpResponse

from config.logs import JsonFormatter, PlainFormatter

FIELDS = {"time", "level", "logger", "message", "request_id", "method", "route", "status", "duration_ms"}


@pytest.fixture
def lines():
    """The JSON lines logged during the test, parsed."""
    handler = logging.Handler()
    handler.setFormatter(JsonFormatter())
    kept = []
    handler.emit = lambda record: kept.append(json.loads(handler.format(record)))
    root = logging.getLogger()
    root.addHandler(handler)
    yield kept
    root.removeHandler(handler)


def requests(lines):
    return [line for line in lines if line["logger"] == "hexiao.request"]


def test_a_scan_is_one_line_with_its_result_and_the_clerk(api, lines, carol, meal, issue):
    code = issue(meal).code
    response = api(carol).post("/api/v1/redeem/", {"code": code}, format="json", HTTP_X_REQUEST_ID="scan-42.a_b")
    [line] = requests(lines)
    assert FIELDS <= set(line)
    assert (line["method"], line["route"], line["status"], line["result"]) == ("POST", "api-redeem", 200, "redeemed")
    assert line["staff"] == carol.pk and line["request_id"] == "scan-42.a_b" == response["X-Request-ID"]
    assert line["level"] == "INFO" and line["duration_ms"] >= 0
    assert code not in json.dumps(lines)


def test_a_refusal_logs_its_reason_and_no_code(api, lines, carol, meal, issue):
    code = issue(meal).code
    api(carol).post("/api/v1/redeem/", {"code": code}, format="json")
    api(carol).post("/api/v1/check/", {"code": code}, format="json")
    [_redeemed, line] = requests(lines)
    assert (line["route"], line["status"], line["result"]) == ("api-check", 409, "already_redeemed")
    assert code not in json.dumps(lines)


@pytest.mark.parametrize("given", [None, "", "has space", "x" * 65, "a/b", "中文"])
def test_a_missing_or_odd_request_id_is_replaced_by_a_fresh_one(db, lines, given):
    headers = {} if given is None else {"HTTP_X_REQUEST_ID": given}
    response = Client().get("/healthz", **headers)
    [line] = requests(lines)
    assert response["X-Request-ID"] == line["request_id"] != given
    assert len(line["request_id"]) == 32 and line["route"] == "healthz" and "staff" not in line


def test_two_requests_get_two_ids(db, lines):
    first, second = Client().get("/healthz"), Client().get("/healthz")
    assert first["X-Request-ID"] != second["X-Request-ID"]


def test_a_lookup_by_phone_logs_neither_the_phone_nor_the_query(api, lines, olivia):
    api(olivia).get("/api/v1/vouchers/lookup/", {"phone": "13912345678"})
    [line] = requests(lines)
    assert line["route"] == "api-vouchers-lookup" and line["staff"] == olivia.pk
    assert "13912345678" not in json.dumps(lines) and "phone" not in json.dumps(lines)


def test_a_buyer_page_is_named_by_its_route_not_its_token(db, lines, meal, issue):
    voucher = issue(meal)
    Client().get(f"/v/{voucher.token}/")
    Client().get("/v/not-a-real-token-at-all/")
    assert [line["route"] for line in requests(lines)] == ["buyer-voucher", "buyer-voucher"]
    assert voucher.token not in json.dumps(lines) and "not-a-real-token" not in json.dumps(lines)


def test_a_signed_in_page_names_the_member(client, carol, lines):
    client.force_login(carol.user)
    client.get("/staff/")
    [line] = requests(lines)
    assert line["route"] == "scanner" and line["staff"] == carol.pk


@pytest.mark.parametrize("formatter", [PlainFormatter(), JsonFormatter()], ids=["plain", "json"])
def test_djangos_line_for_a_failed_request_names_the_route_not_the_path(formatter, db, meal, issue):
    voucher = issue(meal)
    request = RequestFactory().get(f"/v/{voucher.token}/")
    request.resolver_match = Client().get(f"/v/{voucher.token}/").resolver_match
    records = []
    handler = logging.Handler()
    handler.emit = records.append
    logging.getLogger("django.request").addHandler(handler)
    try:
        log_response("%s: %s", "Internal Server Error", request.path, response=HttpResponse(status=500), request=request)
    finally:
        logging.getLogger("django.request").removeHandler(handler)
    [record] = records
    line = formatter.format(record)
    assert "Internal Server Error: buyer-voucher" in line and voucher.token not in line
