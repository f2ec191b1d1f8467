"""Two real server processes on PostgreSQL + Redis: exactly-once across them, and a redemption
made on one reaching a dashboard connected to the other."""

import concurrent.futures
import time
from collections import Counter

import pytest
from tests.conftest import token_for

from tests.processes import Server, WebSocket, post

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def servers(db):
    """Two daphne processes on the test database, as production runs them (one per core)."""
    running = [Server(), Server()]
    try:
        for server in running:
            server.start()
        yield [server.url for server in running]
    finally:
        for server in running:
            server.stop()


def test_fifty_redeems_of_one_code_across_two_processes_one_wins(servers, carol, mike, meal, issue, store_a):
    voucher = issue(meal)
    tokens = [token_for(m) for m in (carol, mike)]
    body = {"code": voucher.code, "store": store_a.id}
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(post, servers[i % 2], "/api/v1/redeem/", tokens[i % 2], body) for i in range(50)]
        results = [f.result() for f in futures]
    assert Counter((status, answer["result"]) for status, answer in results) == {
        (200, "redeemed"): 1, (409, "already_redeemed"): 49,
    }
    voucher.refresh_from_db()
    assert voucher.uses_left == 0


def test_a_redemption_on_one_process_reaches_a_dashboard_on_the_other(servers, olivia, carol, meal, issue):
    voucher = issue(meal)
    owner_token = token_for(olivia)
    clerk_token = token_for(carol)
    ws = WebSocket(servers[0], f"/ws/dashboard/?token={owner_token}")
    try:
        time.sleep(0.3)  # the consumer joins its groups right after the handshake
        status, answer = post(servers[1], "/api/v1/redeem/", clerk_token, {"code": voucher.code})
        assert status == 200
        event = ws.receive_json()
    finally:
        ws.close()
    assert event["type"] == "redemption.created"
    assert event["redemption"]["id"] == answer["redemption"]["id"]
