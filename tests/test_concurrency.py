"""Exactly-once, proven with real threads on PostgreSQL (each thread its own connection)."""

import threading
from collections import Counter

import pytest
from django.db import connection
from tests.conftest import token_for
from rest_framework.test import APIClient

from redemption.models import Attempt, Redemption
from tests.totals import assert_totals_add_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


def hammer(members, body_for, n, path="/api/v1/redeem/"):
    """n threads at once, thread i acting as members[i % len(members)] (at path(i) when path is a
    function); returns (status, json) per thread."""
    tokens = [token_for(m) for m in members]
    barrier = threading.Barrier(n)
    results = [None] * n

    def work(i):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=f"Token {tokens[i % len(tokens)]}")
        try:
            barrier.wait()
            response = client.post(path(i) if callable(path) else path, body_for(i), format="json")
            results[i] = (response.status_code, response.json())
        finally:
            connection.close()

    threads = [threading.Thread(target=work, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return results


def test_thirty_threads_on_a_single_use_voucher_one_wins(carol, mike, olivia, meal, issue, store_a):
    voucher = issue(meal)
    results = hammer([carol, mike, olivia], lambda i: {"code": voucher.code, "store": store_a.id}, 30)
    outcomes = Counter((status, body["result"]) for status, body in results)
    assert outcomes == {(200, "redeemed"): 1, (409, "already_redeemed"): 29}
    voucher.refresh_from_db()
    assert voucher.uses_left == 0
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert Attempt.objects.filter(voucher=voucher, kind="redeem").count() == 30


def test_twenty_threads_on_a_three_use_voucher_exactly_three_win(carol, mike, wash, issue):
    voucher = issue(wash)
    results = hammer([carol, mike], lambda i: {"code": voucher.code}, 20)
    outcomes = Counter(body["result"] for _, body in results)
    assert outcomes == {"redeemed": 3, "already_redeemed": 17}
    voucher.refresh_from_db()
    assert voucher.uses_left == 0
    assert sum(Redemption.objects.filter(voucher=voucher).values_list("uses", flat=True)) == 3


def test_mixed_use_counts_never_overdraw(carol, wash, issue):
    voucher = issue(wash)
    results = hammer([carol], lambda i: {"code": voucher.code, "uses": 1 + i % 2}, 12)
    granted = sum(body["redemption"]["uses"] for status, body in results if status == 200)
    assert granted == 3 or granted == 2  # 2+1, 1+2, 1+1+1 all fill it; 2 then 2 leaves one unused
    voucher.refresh_from_db()
    assert voucher.uses_left == 3 - granted
    assert all(body["result"] in ("redeemed", "already_redeemed", "insufficient_uses") for _, body in results)


def test_one_idempotency_key_sent_ten_times_at_once_redeems_once(carol, wash, issue):
    voucher = issue(wash)
    results = hammer([carol], lambda i: {"code": voucher.code, "idempotency_key": "retry-after-wifi-drop"}, 10)
    assert {status for status, _ in results} == {200}
    assert len({body["redemption"]["id"] for _, body in results}) == 1
    voucher.refresh_from_db()
    assert voucher.uses_left == 2


def test_reversing_at_once_gives_the_uses_back_once(carol, olivia, wash, issue):
    voucher = issue(wash)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(carol)}")
    rid = client.post("/api/v1/redeem/", {"code": voucher.code, "uses": 2}, format="json").json()["redemption"]["id"]
    results = hammer([olivia, carol], lambda i: {"reason": "x"}, 10, path=f"/api/v1/redemptions/{rid}/reverse/")
    assert Counter(status for status, _ in results) == {200: 1, 409: 9}
    voucher.refresh_from_db()
    assert voucher.uses_left == 3


def test_redeems_and_reversals_at_once_keep_the_day_totals_exact(carol, olivia, meal, wash, issue):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(carol)}")
    pass_ = issue(wash)
    earlier = [client.post("/api/v1/redeem/", {"code": pass_.code}, format="json").json()["redemption"]["id"]
               for _ in range(2)]
    codes = [issue(meal).code for _ in range(10)] + [pass_.code]
    # Thread i < 11 redeems as carol (every one adds to the same day's total); the last two reverse
    # the pass's earlier uses as olivia, its first use among them.
    members = [carol] * 11 + [olivia] * 2
    paths = ["/api/v1/redeem/"] * 11 + [f"/api/v1/redemptions/{rid}/reverse/" for rid in earlier]
    bodies = [{"code": code} for code in codes] + [{"reason": "x"}] * 2
    results = hammer(members, lambda i: bodies[i], 13, path=lambda i: paths[i])
    assert [status for status, _ in results] == [200] * 13
    assert_totals_add_up()
