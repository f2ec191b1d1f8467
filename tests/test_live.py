"""The live feed over WebSockets, through the real ASGI application and channel layer
(in-memory by default; Redis when REDIS_URL is set)."""

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from rest_framework.authtoken.models import Token
from rest_framework.test import APIClient

from config.asgi import application

pytestmark = pytest.mark.django_db(transaction=True)


def token_of(member):
    return Token.objects.get_or_create(user=member.user)[0].key


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


def test_a_dashboard_that_reconnects_gets_what_it_missed(olivia, carol, meal, issue):
    first, second = issue(meal), issue(meal)
    redeem_as(carol, first.code)
    redeem_as(carol, second.code)
    from redemption.models import Event

    first_id = Event.objects.order_by("id").first().id
    path = ws_path(olivia, after=first_id)

    async def scenario():
        ws = connect(path)
        await ws.connect()
        event = await ws.receive_json_from(timeout=5)
        nothing_more = await ws.receive_nothing(timeout=0.3)
        await ws.disconnect()
        return event, nothing_more

    event, nothing_more = async_to_sync(scenario)()
    assert event["id"] > first_id and event["type"] == "redemption.created"
    assert event["voucher"]["code_masked"].endswith(second.code[-4:])
    assert nothing_more
