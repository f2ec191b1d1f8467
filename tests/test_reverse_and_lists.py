import datetime as dt

import pytest
from django.utils import timezone

from redemption.models import Redemption


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json")


def reverse(client, redemption_id, reason="顾客取消"):
    return client.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {"reason": reason}, format="json")


def age(redemption_id, **delta):
    Redemption.objects.filter(pk=redemption_id).update(at=timezone.now() - dt.timedelta(**delta))


@pytest.fixture
def redeemed(api, carol, wash, issue):
    voucher = issue(wash)
    return voucher, redeem(api(carol), voucher.code).json()["redemption"]["id"]


def test_a_clerk_reverses_their_own_within_ten_minutes(api, carol, redeemed):
    voucher, rid = redeemed
    response = reverse(api(carol), rid)
    assert response.status_code == 200
    body = response.json()
    assert body["redemption"]["reversed"] is True and body["voucher"]["uses_left"] == 3
    again = reverse(api(carol), rid)
    assert (again.status_code, again.json()["result"]) == (409, "already_reversed")
    voucher.refresh_from_db()
    assert voucher.uses_left == 3
    assert Redemption.objects.get(pk=rid).reverse_reason == "顾客取消"


def test_a_clerk_cannot_reverse_after_ten_minutes_or_someone_elses(api, carol, dave, mike, redeemed):
    _, rid = redeemed
    assert reverse(api(dave), rid).status_code == 403
    age(rid, minutes=11)
    assert reverse(api(carol), rid).status_code == 403
    assert reverse(api(mike), rid).status_code == 200


def test_a_manager_reverses_in_their_stores_within_a_day(api, mike, olivia, dave, meal, issue):
    rid = redeem(api(dave), issue(meal).code).json()["redemption"]["id"]
    assert reverse(api(mike), rid).status_code == 403  # store B is not Mike's
    mike.stores.add(dave.stores.get())
    age(rid, hours=25)
    assert reverse(api(mike), rid).status_code == 403
    assert reverse(api(olivia), rid).status_code == 200


def test_a_foreign_redemption_is_not_found(api, oscar, redeemed):
    _, rid = redeemed
    assert reverse(api(oscar), rid).status_code == 404
    assert reverse(api(oscar), 10**9).status_code == 404


def test_a_reversed_use_can_be_redeemed_again(api, carol, meal, issue):
    voucher = issue(meal)
    rid = redeem(api(carol), voucher.code).json()["redemption"]["id"]
    reverse(api(carol), rid)
    assert redeem(api(carol), voucher.code).status_code == 200


def test_mine_lists_todays_own_redemptions(api, carol, dave, meal, issue):
    ids = [redeem(api(carol), issue(meal).code).json()["redemption"]["id"] for _ in range(2)]
    redeem(api(dave), issue(meal).code)
    age(ids[0], days=1)
    body = api(carol).get("/api/v1/redemptions/mine/").json()
    assert [r["id"] for r in body["results"]] == [ids[1]]
    assert body["count"] == 1 and body["uses"] == 1
    assert body["results"][0]["product"]["name"] == "双人套餐券"
    assert body["results"][0]["code_masked"].startswith("****")


def test_the_owner_filters_redemptions(api, olivia, carol, dave, meal, issue, store_b):
    redeem(api(carol), issue(meal).code)
    rid = redeem(api(dave), issue(meal).code).json()["redemption"]["id"]
    client = api(olivia)
    assert client.get("/api/v1/redemptions/").json()["count"] == 2
    assert [r["id"] for r in client.get(f"/api/v1/redemptions/?store={store_b.id}").json()["results"]] == [rid]
    assert client.get(f"/api/v1/redemptions/?staff={carol.id}").json()["count"] == 1
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    assert client.get(f"/api/v1/redemptions/?from={today}&to={today}").json()["count"] == 2
    assert client.get(f"/api/v1/redemptions/?to={yesterday}").json()["count"] == 0
    for bad in ("?from=yesterday", "?store=x", "?page=99"):
        response = client.get("/api/v1/redemptions/" + bad)
        assert response.status_code in (400, 404) and response.json()["ok"] is False
