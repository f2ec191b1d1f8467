"""The live feed over WebSockets, through the real ASGI application and channel layer
(in-memory by default; Redis when REDIS_URL is set)."""

import asyncio
import contextlib
import datetime as dt

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from rest_framework.test import APIClient

from config.asgi import application
from redemption.models import Event
from tests.conftest import token_for

pytestmark = pytest.mark.django_db(transaction=True)


def token_of(member):
    return token_for(member)


def ws_path(member, after=None):
    path = "/ws/dashboard/"
    if member is not None:
        path += f"?token={token_of(member)}" + (f"&after={after}" if after is not None else "")
    return path


def connect(path):
    return WebsocketCommunicator(application, path, headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])


def redeem_as(member, code):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token_of(member)}")
    return client.post("/api/v1/redeem/", {"code": code}, format="json").json()


def test_the_owner_sees_a_redemption_arrive(olivia, carol, meal, issue):
    voucher = issue(meal)
    path = ws_path(olivia)

    async def scenario():
        ws = connect(path)
        connected, _ = await ws.connect()
        assert connected
        answer = await sync_to_async(redeem_as)(carol, voucher.code)
        event = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return answer, event

    answer, event = async_to_sync(scenario)()
    assert event["type"] == "redemption.created"
    assert event["redemption"]["id"] == answer["redemption"]["id"]
    assert event["redemption"]["staff"]["display_name"] == "Carol"
    assert event["voucher"]["code_masked"] == answer["voucher"]["code_masked"]
    assert voucher.code not in str(event)
    assert isinstance(event["id"], int) and event["at"]


def test_a_dashboard_that_asks_for_batches_gets_a_busy_moment_in_one_message(olivia, carol, meal, issue, settings):
    settings.LIVE_FEED_BATCH = 5.0  # far longer than three redeems take, even on a busy CI machine
    vouchers = [issue(meal) for _ in range(4)]
    batched, single = ws_path(olivia) + "&batch=1", ws_path(olivia)

    async def scenario():
        busy, plain = connect(batched), connect(single)
        assert (await busy.connect())[0] and (await plain.connect())[0]
        # The first event after a quiet spell goes out at once, well inside the batch interval.
        first = await sync_to_async(redeem_as)(carol, vouchers[0].code)
        at_once = await busy.receive_json_from(timeout=1)
        answers = [await sync_to_async(redeem_as)(carol, v.code) for v in vouchers[1:]]
        together = await busy.receive_json_from(timeout=10)
        nothing_more = await busy.receive_nothing(timeout=0.5)
        one_by_one = [await plain.receive_json_from(timeout=5) for _ in vouchers]
        await busy.disconnect()
        await plain.disconnect()
        return first, at_once, answers, together, nothing_more, one_by_one

    first, at_once, answers, together, nothing_more, one_by_one = async_to_sync(scenario)()
    assert [e["redemption"]["id"] for e in at_once] == [first["redemption"]["id"]]
    assert [e["redemption"]["id"] for e in together] == [a["redemption"]["id"] for a in answers]
    assert [e["id"] for e in together] == sorted(e["id"] for e in together)
    assert nothing_more
    # A dashboard that did not ask still gets each event as a message of its own.
    assert [e["redemption"]["id"] for e in one_by_one] == [first["redemption"]["id"]] + [a["redemption"]["id"] for a in answers]


def test_refused_attempts_are_pushed_too(olivia, carol):
    path = ws_path(olivia)

    async def scenario():
        ws = connect(path)
        await ws.connect()
        await sync_to_async(redeem_as)(carol, "1234567")
        event = await ws.receive_json_from(timeout=5)
        await ws.disconnect()
        return event

    event = async_to_sync(scenario)()
    assert event["type"] == "attempt.refused"
    assert event["reason"] == "not_found" and event["staff"]["display_name"] == "Carol"
    assert event["code_masked"] == "****567"


def test_a_manager_sees_only_their_stores(mike, carol, dave, meal, issue):
    mine, theirs = issue(meal), issue(meal)
    path = ws_path(mike)

    async def scenario():
        ws = connect(path)
        await ws.connect()
        await sync_to_async(redeem_as)(dave, theirs.code)
        await sync_to_async(redeem_as)(carol, mine.code)
        event = await ws.receive_json_from(timeout=5)
        nothing_more = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return event, nothing_more

    event, nothing_more = async_to_sync(scenario)()
    assert event["redemption"]["staff"]["display_name"] == "Carol"
    assert nothing_more


@pytest.mark.parametrize("who", ["carol", None])
def test_clerks_and_strangers_are_closed_with_4403(request, who):
    path = ws_path(request.getfixturevalue(who) if who else None)

    async def scenario():
        ws = connect(path)
        connected, _ = await ws.connect()
        output = await ws.receive_output(timeout=2)
        return connected, output

    connected, output = async_to_sync(scenario)()
    assert connected
    assert output == {"type": "websocket.close", "code": 4403}


def events_on_connecting(path):
    """Every event a dashboard connecting at `path` is sent before the feed goes quiet, in order."""

    async def scenario():
        ws = connect(path)
        await ws.connect()
        received = []
        while not await ws.receive_nothing(timeout=0.3):
            received.append(await ws.receive_json_from())
        await ws.disconnect()
        return received

    return async_to_sync(scenario)()


def test_a_dashboard_that_reconnects_gets_what_it_missed(olivia, carol, meal, issue):
    first, second = issue(meal), issue(meal)
    redeem_as(carol, first.code)
    redeem_as(carol, second.code)
    first_id, second_id = Event.objects.order_by("id").values_list("id", flat=True)

    received = events_on_connecting(ws_path(olivia, after=first_id))

    assert received[-1]["id"] == second_id and received[-1]["type"] == "redemption.created"
    assert received[-1]["voucher"]["code_masked"].endswith(second.code[-4:])
    # The one it had comes again, as it is that recent: the client drops it by id.
    assert [e["id"] for e in received] == [first_id, second_id]


def test_an_event_that_commits_after_a_higher_one_still_reaches_a_dashboard_resuming_after_that(
    olivia, carol, meal, issue
):
    redeem_as(carol, issue(meal).code)
    redeem_as(carol, issue(meal).code)
    lower, higher = Event.objects.order_by("id")
    # The lower id's transaction has not committed yet: the dashboard is sent only the higher one.
    Event.objects.filter(pk=lower.pk).delete()
    received_before = events_on_connecting(ws_path(olivia, after=0))
    assert [e["id"] for e in received_before] == [higher.id]
    # Then it commits, and the dashboard resumes after the last id it received.
    Event.objects.bulk_create([lower])

    received = events_on_connecting(ws_path(olivia, after=higher.id))

    assert lower.id in [e["id"] for e in received]


def test_a_resume_sends_again_only_what_is_recent_and_nothing_of_another_merchant(
    olivia, oscar, carol, meal, issue
):
    redeem_as(carol, issue(meal).code)
    redeem_as(carol, issue(meal).code)
    redeem_as(oscar, "1234567")
    old, recent, theirs = Event.objects.order_by("id")
    Event.objects.filter(pk=old.pk).update(at=timezone.now() - dt.timedelta(minutes=5))

    after_recent = events_on_connecting(ws_path(olivia, after=recent.id))
    after_theirs = events_on_connecting(ws_path(olivia, after=theirs.id))
    after_unknown = events_on_connecting(ws_path(olivia, after=10**12))

    assert [e["id"] for e in after_recent] == [recent.id]
    assert [e["id"] for e in after_theirs] == [e["id"] for e in after_unknown] == [recent.id]


@contextlib.asynccontextmanager
async def event_table_reads():
    """The SELECTs on the event table made inside the block, by the consumers' database calls
    (they share the test's connection: read it from a sync call too, not from the event loop)."""
    capture = CaptureQueriesContext(connection)
    await sync_to_async(capture.__enter__)()
    reads = []

    def selects():
        capture.__exit__(None, None, None)
        return [q["sql"] for q in capture.captured_queries
                if q["sql"].startswith("SELECT") and '"redemption_event"' in q["sql"]]

    try:
        yield reads
    finally:
        reads.extend(await sync_to_async(selects)())


def test_many_open_dashboards_sweep_the_table_once_per_interval_not_once_each(olivia, mike, settings):
    settings.LIVE_FEED_SWEEP = 0.2
    paths = [ws_path(olivia if i % 2 else mike) for i in range(20)]

    async def scenario():
        sockets = [connect(path) for path in paths]
        for ws in sockets:
            assert (await ws.connect())[0]
        for ws in sockets:  # answered once the socket's own catch-up is done
            await ws.send_json_to({"type": "ping"})
            assert await ws.receive_json_from(timeout=5) == {"type": "pong"}
        async with event_table_reads() as reads:
            await asyncio.sleep(0.5)  # two sweep intervals, and a half
        for ws in sockets:
            await ws.disconnect()
        return reads

    reads = async_to_sync(scenario)()

    # At most one read per interval for the whole process: a sweep per socket would be 40 or more.
    assert 1 <= len(reads) <= 3


def test_a_quiet_merchants_dashboard_gets_a_late_event_and_does_not_hold_the_sweep_back(
    olivia, oscar, carol, settings
):
    settings.LIVE_FEED_SWEEP = 0.2
    quiet, busy = ws_path(oscar), ws_path(olivia)
    long_ago = timezone.now() - dt.timedelta(minutes=5)

    async def scenario():
        watchers = [connect(quiet), connect(busy)]
        for ws in watchers:
            await ws.connect()
        # The busy merchant's events, long settled, then one of the quiet merchant's that commits
        # without a push (it comes only from the table).
        settled = await sync_to_async(Event.objects.bulk_create)(
            [Event(merchant=olivia.merchant, type="attempt.refused", data={}, at=long_ago) for _ in range(3)]
        )
        await ws_sweeps()
        late = await sync_to_async(Event.objects.create)(merchant=oscar.merchant, type="attempt.refused", data={})
        async with event_table_reads() as reads:
            received = await watchers[0].receive_json_from(timeout=5)
            await ws_sweeps()
        for ws in watchers:
            await ws.disconnect()
        return settled, late, received, reads

    settled, late, received, reads = async_to_sync(scenario)()

    assert received["id"] == late.id
    # Once the busy merchant's events settled, the sweep reads only after them, the quiet socket too.
    ranges = [sql for sql in reads if '"redemption_event"."id" >' in sql]
    assert ranges and all(f'"redemption_event"."id" > {settled[-1].id} ' in sql for sql in ranges)


async def ws_sweeps():
    """Long enough for the process's sweep to have run twice (LIVE_FEED_SWEEP is 0.2 s here)."""
    await asyncio.sleep(0.5)
