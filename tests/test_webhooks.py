"""核销回传: events reach a real HTTP receiver on this machine, signed, and survive its downtime."""

import datetime as dt
import hashlib
import hmac
import json
import threading
from http.server import BaseHTTPRequestHandler, HTTPServer

import pytest
from django.core.management import call_command
from django.utils import timezone

from redemption import webhooks
from redemption.models import Delivery


class Receiver:
    """A webhook receiver on a loopback port that records what it is sent; `status` sets its answer."""

    def __init__(self):
        self.received, self.status = [], 200
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                receiver.received.append((dict(self.headers), body))
                self.send_response(receiver.status)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = HTTPServer(("127.0.0.1", 0), Handler)
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


@pytest.fixture
def local_targets(settings):
    settings.DEBUG = True  # loopback targets are allowed only in development


def subscribe(api, owner, url, events=("redemption.created", "redemption.reversed", "voucher.voided")):
    response = api(owner).post("/api/v1/webhooks/", {"url": url, "events": list(events)}, format="json")
    assert response.status_code == 201, response.json()
    return response.json()


def test_a_redemption_is_posted_signed(api, olivia, carol, meal, issue, receiver, local_targets):
    hook = subscribe(api, olivia, receiver.url)
    assert len(hook["secret"]) == 64
    voucher = issue(meal)
    answer = api(carol).post("/api/v1/redeem/", {"code": voucher.code}, format="json").json()
    call_command("deliver_webhooks", "--once")
    [(headers, body)] = receiver.received
    expected = "sha256=" + hmac.new(hook["secret"].encode(), body, hashlib.sha256).hexdigest()
    assert headers["X-Signature"] == expected
    event = json.loads(body)
    assert set(event) == {"id", "type", "created_at", "data"}
    assert event["type"] == "redemption.created"
    assert event["data"]["redemption"]["id"] == answer["redemption"]["id"]
    assert voucher.code not in body.decode()
    call_command("deliver_webhooks", "--once")
    assert len(receiver.received) == 1  # delivered once, not again


def test_only_subscribed_events_are_sent(api, olivia, carol, meal, issue, receiver, local_targets):
    subscribe(api, olivia, receiver.url, events=["voucher.voided"])
    voucher = issue(meal)
    api(carol).post("/api/v1/redeem/", {"code": voucher.code}, format="json")
    api(olivia).post(f"/api/v1/vouchers/{issue(meal).id}/void/", {"reason": "退款"}, format="json")
    webhooks.run_once()
    assert [json.loads(body)["type"] for _, body in receiver.received] == ["voucher.voided"]


def test_a_receiver_that_is_down_gets_every_event_later(api, olivia, carol, meal, issue, receiver, local_targets):
    subscribe(api, olivia, receiver.url)
    receiver.status = 503
    codes = [issue(meal).code for _ in range(3)]
    for code in codes:
        api(carol).post("/api/v1/redeem/", {"code": code}, format="json")
    webhooks.run_once()
    assert len(receiver.received) == 3
    delays = {round((d.next_at - timezone.now()).total_seconds()) for d in Delivery.objects.all()}
    assert delays <= {9, 10}  # first retry after about ten seconds
    # An hour of downtime later (several retries, all refused), then the receiver is back.
    for _ in range(4):
        Delivery.objects.update(next_at=timezone.now())
        webhooks.run_once()
    assert Delivery.objects.filter(delivered_at=None).count() == 3
    receiver.status = 200
    receiver.received.clear()
    Delivery.objects.update(next_at=timezone.now())
    webhooks.run_once()
    assert sorted(json.loads(b)["data"]["voucher"]["code_masked"] for _, b in receiver.received) == sorted(
        "****" + c[-4:] for c in codes
    )
    assert Delivery.objects.filter(delivered_at=None).count() == 0


def test_retries_back_off_then_go_hourly_and_stop_after_a_day(api, olivia, carol, meal, issue, local_targets):
    subscribe(api, olivia, "http://127.0.0.1:9/nothing-listens-here")
    api(carol).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json")
    webhooks.fan_out()
    delays = []
    for _ in range(6):
        Delivery.objects.update(next_at=timezone.now())
        webhooks.deliver_due()
        delivery = Delivery.objects.get()
        delays.append(round((delivery.next_at - timezone.now()).total_seconds(), -1))
    assert delays == [10, 30, 120, 600, 3600, 3600]
    Delivery.objects.update(next_at=timezone.now(), created_at=timezone.now() - dt.timedelta(days=1, minutes=1))
    webhooks.deliver_due()
    assert Delivery.objects.get().failed_at is not None


def test_vouchers_about_to_expire_are_announced_once(api, olivia, meal, issue, receiver, local_targets):
    subscribe(api, olivia, receiver.url, events=["voucher.expiring"])
    soon = issue(meal, valid_until=timezone.now() + dt.timedelta(days=2))
    issue(meal, valid_until=timezone.now() + dt.timedelta(days=30))
    webhooks.run_once()
    webhooks.run_once()
    [(_, body)] = receiver.received
    assert json.loads(body)["data"]["voucher"]["id"] == soon.id


@pytest.mark.parametrize("url", ["http://127.0.0.1:8000/x", "http://10.0.0.5/x", "http://[::1]/x",
                                 "http://169.254.169.254/latest", "ftp://example.com/x", "not a url"])
def test_private_and_odd_targets_are_refused(api, olivia, url):
    response = api(olivia).post("/api/v1/webhooks/", {"url": url, "events": ["redemption.created"]}, format="json")
    assert response.status_code == 400 and "url" in response.json()["errors"]


def test_unknown_events_are_refused_and_only_owners_subscribe(api, olivia, mike, local_targets):
    bad = api(olivia).post("/api/v1/webhooks/", {"url": "http://example.com/x", "events": ["order.paid"]}, format="json")
    assert bad.status_code == 400
    assert api(mike).get("/api/v1/webhooks/").status_code == 403
