"""GET /metrics: only for the bearer of METRICS_TOKEN; redeems counted by result on every path; the
backlog figures read from the database; and, across two server processes, one scrape covers both."""

import datetime as dt
import json
import time

import pytest
from django.test import Client
from django.utils import timezone
from prometheus_client.parser import text_string_to_metric_families
from tests.conftest import token_for

from redemption.models import Delivery, Event, OfflineConflict, Webhook
from tests.processes import Server, WebSocket, fresh_metrics_dir, get, post
from tests.test_offline import item, offline_a, snap, upload  # noqa: F401 - offline_a is a fixture

METRICS_TOKEN = "scrape-me-" + "x" * 30


@pytest.fixture
def metrics_token(settings):
    settings.METRICS_TOKEN = METRICS_TOKEN
    return METRICS_TOKEN


def figures(text):
    """{(sample name, ((label, value), ...)): value} of a scrape."""
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def figure(text, name, **labels):
    return figures(text).get((name, tuple(sorted(labels.items()))), 0)


def scrape():
    response = Client().get("/metrics", HTTP_AUTHORIZATION=f"Bearer {METRICS_TOKEN}")
    assert response.status_code == 200
    return response.content.decode()


def test_metrics_are_not_there_without_a_token(db, settings):
    settings.METRICS_TOKEN = ""
    assert Client().get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 404


@pytest.mark.parametrize("header", [None, "Bearer wrong", f"Token {METRICS_TOKEN}", f"Bearer {METRICS_TOKEN}x"])
def test_any_other_token_is_refused(db, metrics_token, header):
    headers = {"HTTP_AUTHORIZATION": header} if header else {}
    response = Client().get("/metrics", **headers)
    assert response.status_code == 401 and b"hexiao" not in response.content


def test_the_scrape_has_every_series_the_contract_names(db, metrics_token):
    Client().get("/healthz")
    names = {sample_name for sample_name, _labels in figures(scrape())}
    assert {
        "hexiao_request_seconds_bucket", "hexiao_webhook_due", "hexiao_webhook_oldest_due_seconds",
        "hexiao_offline_conflicts_open", "hexiao_live_connections", "hexiao_database_up", "hexiao_channel_layer_up",
        "hexiao_staff_throttled",
    } <= names
    assert figure(scrape(), "hexiao_database_up") == 1 and figure(scrape(), "hexiao_channel_layer_up") == 1


def test_a_redeem_and_a_refusal_are_counted_by_result(api, metrics_token, carol, meal, issue):
    before = scrape()
    code = issue(meal).code
    assert api(carol).post("/api/v1/redeem/", {"code": code}, format="json").status_code == 200
    assert api(carol).post("/api/v1/redeem/", {"code": code}, format="json").status_code == 409
    assert api(carol).post("/api/v1/check/", {"code": code}, format="json").status_code == 409
    after = scrape()
    for name, result, more in [
        ("hexiao_redeem_total", "redeemed", 1),
        ("hexiao_redeem_total", "already_redeemed", 1),
        ("hexiao_check_total", "already_redeemed", 1),
    ]:
        assert figure(after, name, result=result) - figure(before, name, result=result) == more, (name, result)
    # Timed by the route's name: the code is nowhere in the scrape.
    assert figure(after, "hexiao_request_seconds_count", route="api-redeem", status="409") >= 1
    assert code not in after


def test_an_offline_upload_is_counted_as_redeems(api, metrics_token, carol, offline_a, meal, issue):  # noqa: F811
    before = scrape()
    snap(api(carol))
    upload(api(carol), item(issue(meal).code, "off-1"), item("0000000000000000", "off-2"))
    after = scrape()
    assert figure(after, "hexiao_redeem_total", result="redeemed") - figure(before, "hexiao_redeem_total", result="redeemed") == 1
    assert figure(after, "hexiao_redeem_total", result="not_found") - figure(before, "hexiao_redeem_total", result="not_found") == 1


def test_the_backlog_an_operator_watches(db, metrics_token, acme, store_a, carol):
    hook = Webhook.objects.create(merchant=acme, url="https://93.184.216.34/hook", events=["redemption.created"])
    an_hour_ago = timezone.now() - dt.timedelta(hours=1)
    for next_at, delivered_at in [(an_hour_ago, None), (an_hour_ago, timezone.now()),
                                  (timezone.now() + dt.timedelta(minutes=5), None)]:
        event = Event.objects.create(merchant=acme, type="redemption.created", data={})
        Delivery.objects.create(webhook=hook, event=event, next_at=next_at, delivered_at=delivered_at)
    OfflineConflict.objects.create(merchant=acme, store=store_a, staff=carol, idempotency_key="k", code_masked="****1234",
                                   result="already_redeemed", scanned_at=an_hour_ago)
    carol.throttled_until = timezone.now() + dt.timedelta(minutes=1)
    carol.save()
    text = scrape()
    assert figure(text, "hexiao_webhook_due") == 1
    assert 3590 < figure(text, "hexiao_webhook_oldest_due_seconds") < 3700
    assert figure(text, "hexiao_offline_conflicts_open") == 1
    assert figure(text, "hexiao_staff_throttled") == 1


@pytest.mark.postgres
@pytest.mark.redis
@pytest.mark.django_db(transaction=True)
def test_one_scrape_covers_both_processes(olivia, carol, mike, meal, issue, store_a):
    shared = {"PROMETHEUS_MULTIPROC_DIR": fresh_metrics_dir(), "METRICS_TOKEN": METRICS_TOKEN, "LOG_FORMAT": "json"}
    servers = [Server(**shared), Server(**shared)]
    try:
        for server in servers:
            server.start()
        clerk = token_for(carol)
        for server in servers:  # a redeem through each, and one refusal
            assert post(server.url, "/api/v1/redeem/", clerk, {"code": issue(meal).code})[0] == 200
        assert post(servers[1].url, "/api/v1/redeem/", clerk, {"code": "0000000000000000"})[0] == 404
        owner = token_for(olivia)
        socket = WebSocket(servers[1].url, f"/ws/dashboard/?token={owner}")
        time.sleep(0.3)
        status, text = get(servers[0].url, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert status == 200
        assert figure(text, "hexiao_redeem_total", result="redeemed") == 2
        assert figure(text, "hexiao_redeem_total", result="not_found") == 1
        assert figure(text, "hexiao_request_seconds_count", route="api-redeem", status="200") == 2
        assert figure(text, "hexiao_live_connections") == 1
        # A process that dies takes its open sockets with it; its counts stay.
        servers[1].kill()
        socket.close()
        _, text = get(servers[0].url, "/metrics", {"Authorization": f"Bearer {METRICS_TOKEN}"})
        assert figure(text, "hexiao_live_connections") == 0
        assert figure(text, "hexiao_redeem_total", result="redeemed") == 2
    finally:
        for server in servers:
            server.stop()
    logged = [json.loads(line) for line in servers[1].log_lines()]  # LOG_FORMAT=json: every line parses
    scans = {(line.get("route"), line.get("result"), line.get("staff")) for line in logged}
    assert scans >= {("api-redeem", "redeemed", carol.pk), ("api-redeem", "not_found", carol.pk)}
    assert [line["staff"] for line in logged if line.get("route") == "dashboard-socket"] == [olivia.pk]
