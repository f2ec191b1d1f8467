"""Redemption rules on products: uses per day, minutes between uses, redeemable hours; each refusal
says when the voucher can be used next, in the merchant's time zone."""

import datetime as dt
import zoneinfo
from collections import Counter
from decimal import Decimal

import pytest
from django.utils import timezone

from redemption import services
from redemption.models import Product, Redemption
from tests.test_concurrency import hammer
from tests.totals import assert_totals_add_up

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")


def at(day, hour, minute=0):
    """A moment in Shanghai: day is "2026-12-01" (a Tuesday)."""
    return dt.datetime.combine(dt.date.fromisoformat(day), dt.time(hour, minute), tzinfo=SHANGHAI)


@pytest.fixture
def clock(monkeypatch):
    """clock.set(moment): the server's now, for the services and the SQL they run alike."""

    class Clock:
        def set(self, moment):
            monkeypatch.setattr(timezone, "now", lambda: moment)

    return Clock()


@pytest.fixture
def pass5(acme):
    """A 5-wash pass: at most 2 a day, 10:00–22:00 Monday to Saturday."""
    return Product.objects.create(
        merchant=acme, name="洗车 5 次卡", face_value=Decimal("100.00"), uses_per_voucher=5,
        max_uses_per_day=2, hours_weekdays=0b0111111, hours_from=dt.time(10), hours_until=dt.time(22),
    )


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json")


def next_at(response):
    return dt.datetime.fromisoformat(response.json()["next_at"])


def test_two_a_day_refuses_the_third_use_today_with_when_it_opens_again(api, carol, pass5, issue, clock):
    voucher = issue(pass5)
    clock.set(at("2026-12-01", 12))
    assert redeem(api(carol), voucher.code).status_code == 200
    clock.set(at("2026-12-01", 15))
    assert redeem(api(carol), voucher.code).json()["voucher"]["uses_left"] == 3
    response = redeem(api(carol), voucher.code)
    assert response.status_code == 409
    body = response.json()
    assert body["result"] == "daily_limit"
    assert next_at(response) == at("2026-12-02", 10)  # tomorrow, when the hours open
    assert "2026-12-02 10:00" in body["message"]
    assert body["voucher"]["uses_left"] == 3
    clock.set(at("2026-12-02", 10, 1))
    assert redeem(api(carol), voucher.code).status_code == 200


def test_the_day_is_the_merchants_not_utc(api, carol, pass5, issue, clock):
    voucher = issue(pass5)
    pass5.hours_from = pass5.hours_until = None
    pass5.save()
    clock.set(at("2026-12-01", 23, 30))  # 15:30 UTC
    redeem(api(carol), voucher.code)
    redeem(api(carol), voucher.code)
    clock.set(at("2026-12-02", 0, 30))  # still 1 December in UTC, a new day in Shanghai
    assert redeem(api(carol), voucher.code).status_code == 200


def test_asking_for_more_than_are_left_today_is_the_daily_limit(api, carol, pass5, issue, clock):
    voucher = issue(pass5)
    clock.set(at("2026-12-01", 12))
    redeem(api(carol), voucher.code)
    response = redeem(api(carol), voucher.code, uses=2)
    assert response.json()["result"] == "daily_limit"
    assert redeem(api(carol), voucher.code, uses=1).status_code == 200


def test_reversed_uses_do_not_count(api, carol, pass5, issue, clock):
    voucher = issue(pass5)
    clock.set(at("2026-12-01", 12))
    first = redeem(api(carol), voucher.code).json()["redemption"]["id"]
    redeem(api(carol), voucher.code)
    assert api(carol).post(f"/api/v1/redemptions/{first}/reverse/", {"reason": "扫错了"}, format="json").status_code == 200
    assert redeem(api(carol), voucher.code).status_code == 200
    assert redeem(api(carol), voucher.code).json()["result"] == "daily_limit"


def test_minutes_between_uses(api, carol, wash, issue, clock):
    wash.min_minutes_between_uses = 30
    wash.save()
    voucher = issue(wash)
    clock.set(at("2026-12-01", 12))
    redeem(api(carol), voucher.code)
    clock.set(at("2026-12-01", 12, 10))
    response = redeem(api(carol), voucher.code)
    assert response.status_code == 409 and response.json()["result"] == "too_soon"
    assert next_at(response) == at("2026-12-01", 12, 30)
    # Check tells the same before the clerk taps.
    checked = api(carol).post("/api/v1/check/", {"code": voucher.code}, format="json")
    assert checked.json()["result"] == "too_soon" and next_at(checked) == at("2026-12-01", 12, 30)
    clock.set(at("2026-12-01", 12, 30))
    assert redeem(api(carol), voucher.code).status_code == 200


def test_a_reversal_gives_back_the_wait_of_the_use_it_undoes(api, olivia, carol, wash, issue, clock):
    wash.min_minutes_between_uses = 30
    wash.save()
    voucher = issue(wash)
    clock.set(at("2026-12-01", 12))
    first = redeem(api(carol), voucher.code).json()["redemption"]["id"]
    api(olivia).post(f"/api/v1/redemptions/{first}/reverse/", {}, format="json")
    clock.set(at("2026-12-01", 12, 1))
    assert redeem(api(carol), voucher.code).status_code == 200


@pytest.mark.parametrize("now, opens", [
    (at("2026-12-01", 9), at("2026-12-01", 10)),     # Tuesday before opening: today
    (at("2026-12-01", 22), at("2026-12-02", 10)),    # at closing (until is exclusive): tomorrow
    (at("2026-12-05", 23), at("2026-12-07", 10)),    # Saturday night: Sunday is not a day, so Monday
    (at("2026-12-06", 12), at("2026-12-07", 10)),    # Sunday noon
])
def test_outside_hours_says_when_they_open(api, carol, pass5, issue, clock, now, opens):
    voucher = issue(pass5)
    clock.set(now)
    response = redeem(api(carol), voucher.code)
    assert response.status_code == 409
    assert response.json()["result"] == "outside_hours"
    assert next_at(response) == opens
    voucher.refresh_from_db()
    assert voucher.uses_left == 5


def test_when_several_rules_fail_outside_hours_comes_first_then_too_soon(api, carol, pass5, issue, clock):
    pass5.min_minutes_between_uses = 600
    pass5.save()
    voucher = issue(pass5)
    clock.set(at("2026-12-01", 11))
    redeem(api(carol), voucher.code)
    clock.set(at("2026-12-01", 12))
    response = redeem(api(carol), voucher.code)
    assert response.json()["result"] == "too_soon"
    assert next_at(response) == at("2026-12-01", 21)  # 11:00 + 10 h, and the hours are open then
    clock.set(at("2026-12-01", 21, 30))
    redeem(api(carol), voucher.code)  # the second of the day
    clock.set(at("2026-12-01", 23))
    assert redeem(api(carol), voucher.code).json()["result"] == "outside_hours"
    clock.set(at("2026-12-02", 7, 45))  # 21:30 + 10 h has passed, but the hours are not open yet
    response = redeem(api(carol), voucher.code)
    assert response.json()["result"] == "outside_hours" and next_at(response) == at("2026-12-02", 10)
    clock.set(at("2026-12-02", 10))
    assert redeem(api(carol), voucher.code).status_code == 200


def test_the_rules_reach_the_products_api_and_are_validated(api, olivia, acme):
    body = {"name": "周卡", "face_value": "50.00", "uses_per_voucher": 7, "max_uses_per_day": 1,
            "min_minutes_between_uses": 60, "redeemable_hours": {"weekdays": [1, 2, 3, 4, 5], "from": "09:30", "until": "21:00"}}
    created = api(olivia).post("/api/v1/products/", body, format="json")
    assert created.status_code == 201, created.json()
    product = created.json()
    assert product["max_uses_per_day"] == 1 and product["min_minutes_between_uses"] == 60
    assert product["redeemable_hours"] == {"weekdays": [1, 2, 3, 4, 5], "from": "09:30", "until": "21:00"}
    listed = api(olivia).get("/api/v1/products/").json()
    assert listed[0]["redeemable_hours"]["from"] == "09:30"
    for bad in ({"weekdays": [0], "from": "09:00", "until": "10:00"},
                {"weekdays": [1], "from": "22:00", "until": "02:00"},
                {"weekdays": [], "from": "09:00", "until": "10:00"},
                {"weekdays": [1], "from": "9 点", "until": "10:00"},
                "daytime"):
        response = api(olivia).post("/api/v1/products/", {**body, "redeemable_hours": bad}, format="json")
        assert response.status_code == 400, bad
        assert response.json()["result"] == "invalid_request"
    assert api(olivia).post("/api/v1/products/", {**body, "max_uses_per_day": 0}, format="json").status_code == 400
    assert Product.objects.filter(merchant=acme).count() == 1


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_threads_on_a_five_use_pass_with_two_a_day_exactly_two(carol, mike, olivia, acme, store_a):
    product = Product.objects.create(merchant=acme, name="洗车 5 次卡", face_value=Decimal("100.00"),
                                     uses_per_voucher=5, max_uses_per_day=2)
    voucher = services.voucher_issue(product=product, order_no="R-1")[0][0]
    results = hammer([carol, mike, olivia], lambda i: {"code": voucher.code, "store": store_a.id}, 10)
    outcomes = Counter(body["result"] for _status, body in results)
    assert outcomes == {"redeemed": 2, "daily_limit": 8}
    voucher.refresh_from_db()
    assert voucher.uses_left == 3 and voucher.day_uses == 2
    assert Redemption.objects.filter(voucher=voucher).count() == 2
    assert_totals_add_up()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_ten_threads_with_minutes_between_uses_exactly_one(carol, mike, acme, store_a):
    product = Product.objects.create(merchant=acme, name="月卡", face_value=Decimal("300.00"),
                                     uses_per_voucher=30, min_minutes_between_uses=60)
    voucher = services.voucher_issue(product=product, order_no="R-2")[0][0]
    results = hammer([carol, mike], lambda i: {"code": voucher.code, "store": store_a.id}, 10)
    assert Counter(body["result"] for _status, body in results) == {"redeemed": 1, "too_soon": 9}
