"""People and their devices: every sign-in is a device the owner sees and can sign out alone,
tokens are kept only as hashes, and a clerk signs in by scanning a one-use sign-in QR."""

import datetime as dt

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.contrib.auth import get_user_model
from django.db import connection
from django.test import Client
from django.utils import timezone
from knox.models import AuthToken
from rest_framework.test import APIClient

from config.asgi import application
from staff.models import Device, SigninLink
from staff.services import staff_update
from tests.conftest import PASSWORD, token_for


def signed_in(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    return client


def sign_in(username, password=PASSWORD, **extra):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password, **extra},
                            format="json", HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile")


def every_value_in_the_database():
    """Every text value of every table, to look for a secret in."""
    found = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names():
            cursor.execute(f'SELECT * FROM "{table}"')
            found += [str(v) for row in cursor.fetchall() for v in row if v is not None]
    return "\n".join(found)


def test_each_sign_in_is_a_device_and_the_earlier_ones_keep_working(carol):
    first, second = sign_in("carol").json()["token"], sign_in("carol", name="收银台平板").json()["token"]
    assert first != second
    for token in (first, second):
        assert signed_in(token).get("/api/v1/redemptions/mine/").status_code == 200
    devices = Device.objects.filter(member=carol).order_by("pk")
    assert [(d.how, d.name) for d in devices] == [("token", "Android · Chrome"), ("token", "收银台平板")]


def test_tokens_are_kept_only_as_hashes(carol):
    token = sign_in("carol").json()["token"]
    stored = every_value_in_the_database()
    assert token not in stored and token[:20] not in stored
    assert AuthToken.objects.filter(user=carol.user).count() == 1


def test_signing_a_device_out_stops_it_and_no_other(api, olivia, carol):
    lost, other = sign_in("carol").json()["token"], sign_in("carol").json()["token"]
    lost_device = Device.objects.get(token__digest=AuthToken.objects.order_by("created").first().digest)
    response = api(olivia).post(f"/api/v1/devices/{lost_device.pk}/sign-out/")
    assert response.status_code == 200 and response.json()["id"] == lost_device.pk
    answer = signed_in(lost).get("/api/v1/redemptions/mine/")
    assert answer.status_code == 401 and answer["WWW-Authenticate"] == "Token"
    assert signed_in(other).get("/api/v1/redemptions/mine/").status_code == 200
    listed = [d["id"] for d in api(olivia).get("/api/v1/devices/").json()["results"]]
    assert lost_device.pk not in listed


def test_a_member_signs_their_own_token_out(carol):
    token, other = sign_in("carol").json()["token"], sign_in("carol").json()["token"]
    assert signed_in(token).delete("/api/v1/auth/token/").json() == {"ok": True, "result": "signed_out"}
    assert signed_in(token).get("/api/v1/redemptions/mine/").status_code == 401
    assert signed_in(other).get("/api/v1/redemptions/mine/").status_code == 200
    assert APIClient().delete("/api/v1/auth/token/").status_code == 401


def test_a_phone_logged_in_by_password_is_a_device_the_owner_signs_out(api, olivia, carol):
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (iPhone; CPU iPhone OS 18_0 like Mac OS X) Safari/604.1")
    assert phone.post("/staff/login/", {"username": "carol", "password": PASSWORD}).status_code == 302
    [device] = Device.objects.filter(member=carol)
    assert (device.how, device.name) == ("password", "iPhone · Safari")
    assert phone.get("/api/v1/redemptions/mine/").status_code == 200
    api(olivia).post(f"/api/v1/devices/{device.pk}/sign-out/")
    assert phone.get("/api/v1/redemptions/mine/").status_code == 401
    assert phone.get("/staff/").status_code == 302  # the scanner sends it to the sign-in page


def test_who_sees_and_signs_out_which_devices(api, olivia, mike, carol, dave, oscar):
    for member in (olivia, mike, carol, dave):
        token_for(member)
    seen = lambda who: sorted(d["staff"]["display_name"] for d in api(who).get("/api/v1/devices/").json()["results"])  # noqa: E731
    assert seen(olivia) == sorted(["Olivia", "Mike", "Carol", "Dave"] + ["Olivia"])  # the list's own token too
    # Mike manages store A: his own devices and those of its clerk, not Dave's of store B.
    assert set(seen(mike)) == {"Mike", "Carol"}
    daves = Device.objects.filter(member=dave).first()
    assert api(mike).post(f"/api/v1/devices/{daves.pk}/sign-out/").status_code == 403
    assert api(carol).get("/api/v1/devices/").status_code == 403
    owners_device = Device.objects.filter(member=olivia).first()
    assert api(mike).post(f"/api/v1/devices/{owners_device.pk}/sign-out/").status_code == 403
    assert api(oscar).post(f"/api/v1/devices/{owners_device.pk}/sign-out/").status_code == 404
    assert api(oscar).post("/api/v1/devices/987654321/sign-out/").status_code == 404
    assert Device.objects.get(pk=owners_device.pk).signed_out_at is None


def test_last_seen_is_written_at_most_once_a_minute(carol, django_assert_num_queries):
    token = sign_in("carol").json()["token"]
    device = Device.objects.get(member=carol)
    client = signed_in(token)
    client.get("/api/v1/redemptions/mine/")
    first = Device.objects.get(pk=device.pk).last_seen_at
    client.get("/api/v1/redemptions/mine/")
    assert Device.objects.get(pk=device.pk).last_seen_at == first
    Device.objects.filter(pk=device.pk).update(last_seen_at=timezone.now() - dt.timedelta(minutes=2))
    client.get("/api/v1/redemptions/mine/")
    assert Device.objects.get(pk=device.pk).last_seen_at > first - dt.timedelta(seconds=1)


def test_deactivating_a_member_signs_out_every_device(olivia, carol):
    tokens = [sign_in("carol").json()["token"] for _ in range(2)]
    staff_update(member=carol, is_active=False)
    assert all(signed_in(t).get("/api/v1/redemptions/mine/").status_code == 401 for t in tokens)
    assert not Device.objects.filter(member=carol, signed_out_at=None).exists()


@pytest.mark.django_db(transaction=True)
def test_the_open_dashboard_of_a_signed_out_device_closes(olivia):
    token = token_for(olivia)
    device = Device.objects.get(token__digest=AuthToken.objects.get().digest)
    other = token_for(olivia)

    async def scenario():
        gone = WebsocketCommunicator(application, f"/ws/dashboard/?token={token}",
                                     headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
        kept = WebsocketCommunicator(application, f"/ws/dashboard/?token={other}",
                                     headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
        assert (await gone.connect())[0] and (await kept.connect())[0]
        await sync_to_async(signed_in(other).post)(f"/api/v1/devices/{device.pk}/sign-out/")
        closed = await gone.receive_output(timeout=5)
        still_open = await kept.receive_nothing(timeout=0.5)
        await kept.disconnect()
        return closed, still_open

    closed, still_open = async_to_sync(scenario)()
    assert closed == {"type": "websocket.close", "code": 4401}
    assert still_open


@pytest.mark.django_db(transaction=True)
def test_a_signed_out_devices_dashboard_closes_even_if_the_push_saying_so_was_lost(olivia, settings):
    settings.LIVE_FEED_SWEEP = 0.2
    token = token_for(olivia)
    device = Device.objects.get(token__digest=AuthToken.objects.get().digest)

    async def scenario():
        ws = WebsocketCommunicator(application, f"/ws/dashboard/?token={token}",
                                   headers=[(b"origin", b"http://testserver"), (b"host", b"testserver")])
        assert (await ws.connect())[0]
        # Signed out with no push at all: as if the channel layer had dropped it.
        await sync_to_async(Device.objects.filter(pk=device.pk).update)(signed_out_at=timezone.now())
        return await ws.receive_output(timeout=5)

    assert async_to_sync(scenario)() == {"type": "websocket.close", "code": 4401}


# ---- the sign-in QR ----

def make_qr(client, member):
    return client.post(f"/api/v1/staff/{member.pk}/signin-qr/")


def test_a_clerk_signs_in_with_one_tap_on_the_sign_in_qr(api, olivia, carol):
    response = make_qr(api(olivia), carol)
    assert response.status_code == 201
    body = response.json()
    expires = dt.datetime.fromisoformat(body["expires_at"])
    assert dt.timedelta(minutes=9) < expires - timezone.now() <= dt.timedelta(minutes=10)
    path = body["url"].removeprefix("http://testserver")
    assert Client().get(body["qr_url"].removeprefix("http://testserver")).content.startswith(b"<?xml")
    phone = Client(HTTP_USER_AGENT="Mozilla/5.0 (Linux; Android 14) Chrome/131.0 Mobile")
    # A chat app previewing the link spends nothing.
    for _ in range(2):
        page = phone.get(path)
        assert page.status_code == 200 and "Carol" in page.content.decode()
    assert phone.get("/api/v1/redemptions/mine/").status_code in (401, 403)
    signed = phone.post(path)
    assert signed.status_code == 302 and signed["Location"] == "/staff/"
    assert phone.get("/api/v1/redemptions/mine/").status_code == 200
    [device] = Device.objects.filter(member=carol)
    assert (device.how, device.name) == ("qr", "Android · Chrome")
    # One use: the next tap, on this phone or another, finds it spent.
    again = Client().post(path)
    assert again.status_code == 410 and "二维码已失效" in again.content.decode()
    token = path.split("/")[2]
    assert token not in every_value_in_the_database()


@pytest.mark.parametrize("spoil", ["expired", "replaced", "deactivated", "made up"])
def test_a_dead_sign_in_qr_answers_410_and_signs_no_one_in(api, olivia, carol, spoil):
    path = make_qr(api(olivia), carol).json()["url"].removeprefix("http://testserver")
    if spoil == "expired":
        SigninLink.objects.update(expires_at=timezone.now() - dt.timedelta(seconds=1))
    elif spoil == "replaced":
        make_qr(api(olivia), carol)
    elif spoil == "deactivated":
        staff_update(member=carol, is_active=False)
    else:
        path = "/s/" + "x" * 32 + "/"
    phone = Client()
    page = phone.get(path, HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert page.status_code == 410 and "二维码已失效" in page.content.decode()
    assert phone.post(path).status_code == 410
    assert phone.get("/api/v1/redemptions/mine/").status_code in (401, 403)
    assert not Device.objects.filter(member=carol).exists()


def test_who_may_make_a_sign_in_qr_for_whom(api, olivia, mike, carol, dave, oscar, store_b):
    assert make_qr(api(olivia), mike).status_code == 201  # the owner, for a manager
    assert make_qr(api(mike), carol).status_code == 201  # a manager, for a clerk of their stores
    mike.stores.set([store_b])
    assert make_qr(api(mike), carol).status_code == 403  # ... not for one of another store
    assert make_qr(api(mike), mike).status_code == 403
    assert make_qr(api(carol), carol).status_code == 403
    assert make_qr(api(olivia), olivia).status_code == 403  # the owner signs in by password
    assert make_qr(api(oscar), carol).status_code == 404  # another merchant's member is unknown
    assert make_qr(api(olivia), dave).status_code == 201


def test_a_clerk_added_without_a_password_signs_in_by_qr(api, olivia, store_a):
    response = api(olivia).post("/api/v1/staff/", {"display_name": "小李", "role": "clerk", "stores": [store_a.id]},
                                format="json")
    assert response.status_code == 201
    member = response.json()
    user = get_user_model().objects.get(username=member["username"])
    assert not user.has_usable_password()
    path = api(olivia).post(f"/api/v1/staff/{member['id']}/signin-qr/").json()["url"].removeprefix("http://testserver")
    phone = Client()
    assert phone.post(path).status_code == 302
    assert phone.get("/api/v1/redemptions/mine/").status_code == 200


def test_the_list_marks_the_device_asking(olivia, carol):
    token_for(carol)
    asking = token_for(olivia)
    listed = signed_in(asking).get("/api/v1/devices/").json()["results"]
    mine = [d for d in listed if d["current"]]
    assert len(mine) == 1 and mine[0]["staff"]["display_name"] == "Olivia"
