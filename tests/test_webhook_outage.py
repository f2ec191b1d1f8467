"""核销回传 under failure, on PostgreSQL with a real worker process: a slow receiver holds no lock,
and a receiver that is down while the worker is killed mid-send still gets every event, signed,
with repeats only under the same X-Event-Id."""

import hashlib
import hmac
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
from django.db import connection
from django.utils import timezone

from redemption import services, webhooks
from redemption.models import Delivery, Webhook

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


class Receiver:
    """A loopback receiver. `mode`: "up" answers 200, "down" 503, "hang" holds the request open."""

    def __init__(self):
        self.mode, self.received, self.hanging = "up", [], threading.Event()
        self.release = threading.Event()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self):
                body = self.rfile.read(int(self.headers["Content-Length"]))
                mode = receiver.mode
                if mode == "hang":
                    receiver.hanging.set()
                    receiver.release.wait(30)
                    return
                receiver.received.append((dict(self.headers), body, mode))
                self.send_response(200 if mode == "up" else 503)
                self.end_headers()

            def log_message(self, *args):
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.server.server_port}/hook"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self):
        self.release.set()
        self.server.shutdown()
        self.server.server_close()


@pytest.fixture
def receiver():
    r = Receiver()
    yield r
    r.stop()


def redeem_some(carol, meal, issue, n):
    for _ in range(n):
        services.voucher_redeem(member=carol, raw_code=issue(meal).code)


def worker_env():
    db = connection.settings_dict
    url = f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"
    return {**os.environ, "DATABASE_URL": url, "DEBUG": "true"}


def test_a_slow_receiver_holds_no_lock_on_its_delivery(settings, acme, carol, meal, issue, receiver):
    settings.DEBUG = True
    Webhook.objects.create(merchant=acme, url=receiver.url, events=["redemption.created"])
    redeem_some(carol, meal, issue, 1)
    webhooks.fan_out()
    receiver.mode = "hang"
    def send_and_hand_back():
        try:
            webhooks.deliver_due()
        finally:
            connection.close()  # the thread's own connection, or the test database outlives the run

    sender = threading.Thread(target=send_and_hand_back)
    sender.start()
    try:
        assert receiver.hanging.wait(10)
        # While the POST is in flight, another connection can lock the row at once.
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT id FROM {Delivery._meta.db_table} FOR UPDATE NOWAIT")
            assert len(cursor.fetchall()) == 1
    finally:
        receiver.release.set()
        sender.join(30)
        connection.close()


def test_a_receiver_down_and_a_worker_killed_mid_send_lose_nothing(acme, carol, meal, issue, receiver):
    hook = Webhook.objects.create(merchant=acme, url=receiver.url, events=["redemption.created"])
    redeem_some(carol, meal, issue, 12)
    # The receiver is down through the whole retry schedule: 10 s, 30 s, 2 min, 10 min, hourly.
    receiver.mode = "down"
    for _ in range(7):
        Delivery.objects.filter(delivered_at=None).update(next_at=timezone.now())
        webhooks.run_once()
    assert Delivery.objects.filter(delivered_at=None, failed_at=None).count() == 12
    assert min(Delivery.objects.values_list("attempts", flat=True)) >= 6

    # A real worker starts sending; the receiver hangs on the first request; the worker is killed.
    receiver.mode = "hang"
    Delivery.objects.update(next_at=timezone.now())
    worker = subprocess.Popen([sys.executable, "manage.py", "deliver_webhooks", "--interval", "0.1"],
                              cwd=ROOT, env=worker_env(), stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        assert receiver.hanging.wait(30), worker.stderr.read1().decode() if worker.poll() is not None else ""
        worker.send_signal(signal.SIGKILL)
        worker.wait(10)
    finally:
        if worker.poll() is None:
            worker.kill()
    receiver.release.set()

    # The receiver is back. The killed worker's lease runs out (the clock driven forward), and a
    # new worker delivers everything.
    receiver.mode = "up"
    deadline = time.monotonic() + 60
    while Delivery.objects.filter(delivered_at=None).exists() and time.monotonic() < deadline:
        Delivery.objects.filter(delivered_at=None).update(next_at=timezone.now())
        subprocess.run([sys.executable, "manage.py", "deliver_webhooks", "--once"], cwd=ROOT, env=worker_env(),
                       check=True, stdout=subprocess.DEVNULL, timeout=60)
    assert not Delivery.objects.filter(delivered_at=None).exists()

    delivered = defaultdict(set)
    for headers, body, mode in receiver.received:
        expected = "sha256=" + hmac.new(hook.secret.encode(), body, hashlib.sha256).hexdigest()
        assert headers["X-Signature"] == expected
        event = json.loads(body)
        assert headers["X-Event-Id"] == str(event["id"])
        if mode == "up":
            delivered[event["id"]].add(body)
    events = set(Delivery.objects.values_list("event_id", flat=True))
    assert set(delivered) == events and len(events) == 12
    assert all(len(bodies) == 1 for bodies in delivered.values())  # a repeat is the same event, byte for byte
