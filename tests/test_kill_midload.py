"""A server killed mid-load loses and doubles nothing. Clerks redeem across two daphne processes on
PostgreSQL + Redis; one process is SIGKILLed in the middle and started again; every client retries
what got no answer with the same idempotency key, as the scanner does."""

import concurrent.futures
import threading
import time
import urllib.error
import uuid
from collections import Counter

import pytest
from django.db.models import Sum
from tests.conftest import token_for

from redemption.models import Redemption, Voucher
from staff.services import staff_create
from tests.conftest import PASSWORD
from tests.processes import Server, post

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CLERKS, ROUNDS = 8, 30
unanswered = Counter()


def redeem_until_answered(servers, token, code, key, deadline):
    """POST the redeem to one server, then the other, until one answers; the same key every time."""
    i = 0
    while time.monotonic() < deadline:
        try:
            return post(servers[i % 2].url, "/api/v1/redeem/", token, {"code": code, "idempotency_key": key})
        except (urllib.error.URLError, ConnectionError, OSError):
            unanswered[key] += 1
            i += 1
            time.sleep(0.05)
    raise AssertionError("no server answered")


def test_a_server_killed_mid_load_loses_and_doubles_nothing(acme, store_a, wash, issue):
    clerks = [
        staff_create(merchant=acme, username=f"clerk{i}", password=PASSWORD, display_name=f"Clerk {i}", stores=[store_a])
        for i in range(CLERKS)
    ]
    tokens = [token_for(c) for c in clerks]
    # Fewer uses than requests, so some refusals are part of the run too.
    codes = [issue(wash).code for _ in range(CLERKS * ROUNDS // 4)]
    servers = [Server().start(), Server().start()]
    seen = []  # (key, status, answer) as clients saw them
    started = threading.Event()
    deadline = time.monotonic() + 120

    def clerk(n):
        for r in range(ROUNDS):
            if r == 3:
                started.set()
            key = uuid.uuid4().hex
            code = codes[(n * ROUNDS + r) % len(codes)]
            status, answer = redeem_until_answered(servers, tokens[n], code, key, deadline)
            # A retried request must answer as the first one did: ask again with the same key.
            again = redeem_until_answered(servers, tokens[n], code, key, deadline)
            seen.append((key, status, answer, again))

    try:
        with concurrent.futures.ThreadPoolExecutor(CLERKS) as pool:
            futures = [pool.submit(clerk, n) for n in range(CLERKS)]
            started.wait(30)
            time.sleep(0.5)
            servers[0].kill()
            time.sleep(1)
            servers[0].start()
            for f in futures:
                f.result()
    finally:
        for server in servers:
            server.stop()

    assert len(seen) == CLERKS * ROUNDS
    assert unanswered, "the kill met no request in flight: the test proved nothing"
    outcomes = Counter(answer["result"] for _, _, answer, _ in seen)
    assert outcomes["redeemed"] > 0 and outcomes["already_redeemed"] + outcomes["insufficient_uses"] > 0
    redemptions = {r.idempotency_key: r for r in Redemption.objects.all()}
    for key, status, answer, again in seen:
        if answer["result"] == "redeemed":
            # Every success a client saw is in the database, under its key, once.
            assert redemptions[key].pk == answer["redemption"]["id"]
            assert again[0] == 200 and again[1]["redemption"]["id"] == answer["redemption"]["id"]
        else:
            assert key not in redemptions
    assert len(redemptions) == outcomes["redeemed"]  # nothing redeemed that no client was told of
    # Every voucher's uses add up.
    for voucher in Voucher.objects.all():
        used = voucher.redemptions.filter(reversed_at=None).aggregate(n=Sum("uses"))["n"] or 0
        assert voucher.uses_total - voucher.uses_left == used
