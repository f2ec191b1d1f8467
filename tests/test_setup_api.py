import datetime as dt

import pytest
from django.utils import timezone

from redemption import codes
from redemption.models import Voucher


def test_owner_creates_a_store(api, olivia):
    response = api(olivia).post("/api/v1/stores/", {"name": "西湖店", "address": "北山路 1 号"}, format="json")
    assert response.status_code == 201
    assert api(olivia).get("/api/v1/stores/").json() == [{
        "id": response.json()["id"], "name": "西湖店", "address": "北山路 1 号",
        # Offline at the counter starts off, with the default caps.
        "offline_enabled": False, "offline_max_redemptions": 50, "offline_max_value": "500.00",
        "offline_snapshot_hours": 12,
    }]
    assert api(olivia).post("/api/v1/stores/", {"name": ""}, format="json").status_code == 400


def test_owner_creates_a_clerk_who_can_then_redeem(api, olivia, store_a, meal, issue):
    body = {"username": "xiaowang", "password": "wash-cars-daily", "display_name": "小王", "role": "clerk",
            "stores": [store_a.id]}
    response = api(olivia).post("/api/v1/staff/", body, format="json")
    assert response.status_code == 201
    assert response.json()["stores"] == [store_a.id] and "password" not in response.json()
    token = api(None).post("/api/v1/auth/token/", {"username": "xiaowang", "password": "wash-cars-daily"},
                           format="json").json()["token"]
    from rest_framework.test import APIClient

    clerk = APIClient()
    clerk.credentials(HTTP_AUTHORIZATION=f"Token {token}")
    assert clerk.post("/api/v1/redeem/", {"code": issue(meal).code}, format="json").json()["redemption"]["staff"][
        "display_name"] == "小王"


@pytest.mark.parametrize(
    "change, field",
    [
        ({"username": "olivia"}, "username"),
        ({"password": "123"}, "password"),
        ({"role": "owner"}, "role"),
        ({"stores": [999999]}, "stores"),
        ({"username": "has space"}, "username"),
    ],
)
def test_bad_staff_input_is_refused_and_changes_nothing(api, olivia, store_a, change, field):
    body = {"username": "xiaowang", "password": "wash-cars-daily", "display_name": "小王", "role": "clerk",
            "stores": [store_a.id], **change}
    response = api(olivia).post("/api/v1/staff/", body, format="json")
    assert response.status_code == 400
    assert field in response.json()["errors"]
    assert response.json()["message"]
    assert len(api(olivia).get("/api/v1/staff/").json()) == 1


def test_owner_moves_a_clerk_and_changes_a_password(api, olivia, carol, store_b):
    response = api(olivia).patch(f"/api/v1/staff/{carol.id}/", {"stores": [store_b.id], "role": "manager",
                                                                "password": "another-long-one"}, format="json")
    assert response.status_code == 200
    assert response.json()["stores"] == [store_b.id] and response.json()["role"] == "manager"
    ok = api(None).post("/api/v1/auth/token/", {"username": "carol", "password": "another-long-one"}, format="json")
    assert ok.status_code == 200


def test_the_owner_cannot_be_demoted_through_the_api(api, olivia):
    assert api(olivia).patch(f"/api/v1/staff/{olivia.id}/", {"is_active": False}, format="json").status_code == 400


def test_product_dates_are_whole_local_days(api, olivia, store_a):
    body = {"name": "中秋礼券", "face_value": "100", "uses_per_voucher": 2, "valid_from": "2026-09-01",
            "valid_until": "2026-09-30", "stores": [store_a.id], "instructions": "到店使用"}
    response = api(olivia).post("/api/v1/products/", body, format="json")
    assert response.status_code == 201
    product = response.json()
    assert product["valid_from"] == "2026-09-01T00:00:00+08:00"
    assert product["valid_until"].startswith("2026-09-30T23:59:59")
    assert product["face_value"] == "100.00" and product["stores"] == [store_a.id]


@pytest.mark.parametrize(
    "change",
    [{"face_value": "-1"}, {"face_value": "abc"}, {"uses_per_voucher": 0}, {"valid_until": "2026-13-01"},
     {"valid_from": "2026-09-02", "valid_until": "2026-09-01"}, {"name": ""}, {"valid_days": 0}],
)
def test_bad_product_input_is_refused(api, olivia, change):
    body = {"name": "券", "face_value": "10", **change}
    response = api(olivia).post("/api/v1/products/", body, format="json")
    assert response.status_code == 400 and response.json()["result"] == "invalid_request"
    assert api(olivia).get("/api/v1/products/").json() == []


def test_issuing_is_idempotent_on_the_order(api, olivia, wash):
    body = {"product": wash.id, "order_no": "PDD-20261122-001", "channel": "pdd", "quantity": 2,
            "buyer_phone": "13800138000"}
    first = api(olivia).post("/api/v1/vouchers/", body, format="json")
    assert first.status_code == 201
    vouchers = first.json()["vouchers"]
    assert len(vouchers) == 2
    for v in vouchers:
        assert len(v["code"]) == 16 and v["code"].isdigit() and codes.damm_valid(v["code"])
        assert v["uses_left"] == 3
        assert "/v/" in v["voucher_url"] and v["code"] not in v["voucher_url"]
    again = api(olivia).post("/api/v1/vouchers/", body, format="json")
    assert again.status_code == 200
    assert [v["id"] for v in again.json()["vouchers"]] == [v["id"] for v in vouchers]
    other_channel = api(olivia).post("/api/v1/vouchers/", {**body, "channel": "taobao"}, format="json")
    assert other_channel.status_code == 201
    assert Voucher.objects.count() == 4


def test_valid_days_count_from_the_day_of_issue(api, olivia, meal):
    meal.valid_days = 30
    meal.save()
    voucher = api(olivia).post("/api/v1/vouchers/", {"product": meal.id, "order_no": "A1"}, format="json").json()["vouchers"][0]
    until = dt.datetime.fromisoformat(voucher["valid_until"])
    assert until.date() == timezone.localdate() + dt.timedelta(days=29)
    assert (until.hour, until.minute) == (23, 59)


@pytest.mark.parametrize("change", [{"product": 999999}, {"quantity": 0}, {"quantity": 1001}, {"channel": "ebay"},
                                    {"order_no": ""}, {"buyer_phone": "call me"}])
def test_bad_issue_input_is_refused(api, olivia, meal, change):
    response = api(olivia).post("/api/v1/vouchers/", {"product": meal.id, "order_no": "A1", **change}, format="json")
    assert response.status_code == 400
    assert not Voucher.objects.exists()


def test_the_voucher_list_is_masked_and_searchable(api, olivia, carol, meal, issue):
    a = issue(meal, buyer_phone="13912345678")
    b = issue(meal)
    api(carol).post("/api/v1/redeem/", {"code": b.code}, format="json")
    client = api(olivia)
    listing = client.get("/api/v1/vouchers/")
    text = listing.content.decode()
    assert a.code not in text and b.code not in text and "13912345678" not in text
    assert listing.json()["count"] == 2
    assert [v["id"] for v in client.get("/api/v1/vouchers/?status=redeemed").json()["results"]] == [b.id]
    assert [v["id"] for v in client.get("/api/v1/vouchers/?status=active").json()["results"]] == [a.id]
    assert [v["id"] for v in client.get(f"/api/v1/vouchers/?q={a.code[-6:]}").json()["results"]] == [a.id]
    assert [v["id"] for v in client.get(f"/api/v1/vouchers/?order_no={a.order_no}").json()["results"]] == [a.id]
    assert client.get("/api/v1/vouchers/?status=lost").status_code == 400
    assert client.get("/api/v1/vouchers/").json()["results"][-1]["buyer_phone_masked"] == "139****5678"
