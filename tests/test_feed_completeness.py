"""The live feed misses nothing. Many redemptions commit concurrently across two daphne processes
and two stores, in a burst during which Redis drops the servers' subscriptions again and again (so
pushes are lost); one dashboard stays connected, another reconnects every second resuming after the
newest id it holds, and a plain client reconnects every 1.5 s resuming after the last id it
received. At the end each has every event of its scope. (PostgreSQL + Redis.)"""

import concurrent.futures
import threading
import time

import pytest
from django.conf import settings
from redis import Redis
from tests.conftest import token_for

from redemption.models import Event
from staff.services import staff_create
from tests.conftest import PASSWORD
from tests.processes import Server, WebSocket, post

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


class Dashboard:
    """A client of the feed that keeps every event by id, once. On reconnecting it resumes after the
    newest id it holds, as the page's script does, or after the last id it received."""

    def __init__(self, base, token, after, reconnect_every=None, resumes_after_last=False, batched=False):
        self.base, self.token, self.reconnect_every = base, token, reconnect_every
        self.batched = batched
        self.events, self.duplicates_on_one_socket, self.after = {}, 0, after
        self.last, self.resumes_after_last = after, resumes_after_last
        self.stop = threading.Event()
        self.thread = threading.Thread(target=self.run, daemon=True)

    def resume_from(self):
        return self.last if self.resumes_after_last else max(self.events, default=self.after)

    def run(self):
        while not self.stop.is_set():
            batch = "&batch=1" if self.batched else ""
            ws = WebSocket(self.base, f"/ws/dashboard/?token={self.token}&after={self.resume_from()}{batch}")
            ws.sock.settimeout(0.2)
            on_this_socket = set()
            until = time.monotonic() + (self.reconnect_every or 1e9)
            try:
                while not self.stop.is_set() and time.monotonic() < until:
                    try:
                        message = ws.receive_json()
                    except TimeoutError:
                        continue
                    for event in message if self.batched else [message]:
                        if event["id"] in on_this_socket:
                            self.duplicates_on_one_socket += 1
                        on_this_socket.add(event["id"])
                        self.events[event["id"]] = event
                        self.last = event["id"]
            finally:
                ws.close()


def test_dashboards_miss_no_event_under_load_and_reconnects(olivia, acme, store_a, store_b, meal, issue):
    start_after = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
    clerks = [
        staff_create(merchant=acme, username=f"c{i}", password=PASSWORD, display_name=f"C{i}",
                     stores=[(store_a, store_b)[i % 2]])
        for i in range(8)
    ]
    manager = staff_create(merchant=acme, username="mgr", password=PASSWORD, display_name="M", role="manager",
                           stores=[store_a])
    tokens = {m.pk: token_for(m) for m in [*clerks, manager, olivia]}
    codes = [issue(meal).code for _ in range(480)]
    servers = [Server(LIVE_FEED_SWEEP="0.5").start(), Server(LIVE_FEED_SWEEP="0.5").start()]
    owner_page = Dashboard(servers[0].url, tokens[olivia.pk], start_after, batched=True)
    manager_page = Dashboard(servers[1].url, tokens[manager.pk], start_after, reconnect_every=1.0, batched=True)
    owner_client = Dashboard(servers[1].url, tokens[olivia.pk], start_after, reconnect_every=1.5,
                             resumes_after_last=True)
    clients = [owner_page, manager_page, owner_client]
    try:
        for client in clients:
            client.thread.start()
        time.sleep(1)

        def clerk(n):
            for i, code in enumerate(codes[n::8]):
                post(servers[i % 2].url, "/api/v1/redeem/", tokens[clerks[n].pk], {"code": code})
                if i % 10 == 0:  # refused attempts are events too
                    post(servers[i % 2].url, "/api/v1/redeem/", tokens[clerks[n].pk], {"code": "1234567"})

        redis = Redis.from_url(settings.REDIS_URL)
        cut, kills = threading.Event(), []

        def cut_subscriptions():  # what a Redis restart or a network blip does to the pushes
            while not cut.wait(0.3):
                kills.append(redis.client_kill_filter(_type="pubsub"))

        cutter = threading.Thread(target=cut_subscriptions, daemon=True)
        cutter.start()
        try:
            with concurrent.futures.ThreadPoolExecutor(32) as pool:  # a burst: 32 requests at a time
                for f in [pool.submit(clerk, n) for n in range(8)]:
                    f.result()
        finally:
            cut.set()
            cutter.join(5)

        assert sum(kills) >= 2  # the servers' subscriptions were cut, more than once
        everything = set(Event.objects.filter(id__gt=start_after).values_list("id", flat=True))
        store_a_only = set(
            Event.objects.filter(id__gt=start_after, store=store_a).values_list("id", flat=True)
        )
        assert len(everything) >= 480 and store_a_only and store_a_only != everything
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline and (
            set(owner_page.events) != everything or set(manager_page.events) != store_a_only
            or set(owner_client.events) != everything
        ):
            time.sleep(0.2)
    finally:
        for client in clients:
            client.stop.set()
        for client in clients:
            client.thread.join(5)
        for server in servers:
            server.stop()

    assert set(owner_page.events) == everything
    assert set(manager_page.events) == store_a_only
    assert set(owner_client.events) == everything
    assert [client.duplicates_on_one_socket for client in clients] == [0, 0, 0]
