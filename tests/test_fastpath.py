"""The counter's fast path (redemption.fastpath) answers as the DRF view does. A clerk's app with an
API token is served from the event loop; the same requests through the test client take the DRF
view. Both must leave the same rows and give the same answers. (PostgreSQL, a real daphne.)"""

from concurrent.futures import ThreadPoolExecutor

import pytest
from tests.conftest import token_for

from redemption.models import Attempt, Event, Redemption
from tests.processes import Server, post
from tests.totals import assert_totals_add_up

pytestmark = [pytest.mark.postgres, pytest.mark.django_db(transaction=True)]


@pytest.fixture
def server(db):
    running = Server().start()
    yield running.url
    running.stop()


def comparable(answer):
    """An answer without what differs from one redemption to the next."""
    answer = dict(answer)
    for name in ("redemption", "voucher"):
        if name in answer:
            answer[name] = {k: v for k, v in answer[name].items() if k not in ("id", "at", "code_masked", "order_no_masked")}
    return answer


def test_a_redeem_on_the_fast_path_answers_and_records_as_the_view_does(server, api, carol, wash, issue):
    token = token_for(carol)
    fast_voucher, view_voucher = issue(wash), issue(wash)
    fast = post(server, "/api/v1/redeem/", token, {"code": fast_voucher.code, "uses": 2, "idempotency_key": "k1"})
    view = api(carol).post("/api/v1/redeem/", {"code": view_voucher.code, "uses": 2, "idempotency_key": "k2"},
                           format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert fast[0] == view.status_code == 200
    assert comparable(fast[1]) == comparable(view.json())
    for voucher in (fast_voucher, view_voucher):
        voucher.refresh_from_db()
        assert voucher.uses_left == 1
        redemption = Redemption.objects.get(voucher=voucher)
        assert (redemption.uses, str(redemption.value)) == (2, "60.000000")
        assert Attempt.objects.filter(voucher=voucher, result="redeemed", kind="redeem").count() == 1
        event = Event.objects.get(type="redemption.created", data__redemption__id=redemption.pk)
        assert event.data["voucher"]["uses_left"] == 1 and event.data["store"]["id"] == redemption.store_id
    fast_event = Event.objects.get(data__redemption__id=fast[1]["redemption"]["id"])
    assert fast_event.data["redemption"] == fast[1]["redemption"]
    # A repeat with the same key answers the first redemption again (through the view, as the key exists).
    again = post(server, "/api/v1/redeem/", token, {"code": fast_voucher.code, "uses": 2, "idempotency_key": "k1"})
    assert again[0] == 200 and again[1]["redemption"]["id"] == fast[1]["redemption"]["id"]
    assert Redemption.objects.filter(voucher=fast_voucher).count() == 1


def test_refusals_and_checks_answer_as_before(server, carol, meal, issue):
    token = token_for(carol)
    voucher = issue(meal)
    checked = post(server, "/api/v1/check/", token, {"code": voucher.code})
    assert checked[0] == 200 and checked[1]["result"] == "redeemable" and checked[1]["voucher"]["uses_left"] == 1
    assert post(server, "/api/v1/redeem/", token, {"code": voucher.code})[0] == 200
    used = post(server, "/api/v1/redeem/", token, {"code": voucher.code})
    assert used[0] == 409 and used[1]["result"] == "already_redeemed"
    assert used[1]["last_redemption"]["staff"]["display_name"] == "Carol"
    unknown = post(server, "/api/v1/redeem/", token, {"code": "0000000000000000"})
    assert unknown[0] in (404, 422)
    assert list(Attempt.objects.filter(voucher=voucher).order_by("id").values_list("kind", "result")) == [
        ("check", "redeemable"), ("redeem", "redeemed"), ("redeem", "already_redeemed"),
    ]


def test_a_deactivated_clerk_is_refused_at_once(server, carol, meal, issue):
    token = token_for(carol)
    assert post(server, "/api/v1/redeem/", token, {"code": issue(meal).code})[0] == 200
    carol.user.is_active = False
    carol.user.save()
    assert post(server, "/api/v1/redeem/", token, {"code": issue(meal).code})[0] == 401


def test_thirty_scans_at_once_of_a_three_use_pass_redeem_exactly_three(server, carol, wash, issue):
    import concurrent.futures
    from collections import Counter

    token = token_for(carol)
    voucher = issue(wash)
    with concurrent.futures.ThreadPoolExecutor(30) as pool:
        answers = list(pool.map(lambda _: post(server, "/api/v1/redeem/", token, {"code": voucher.code}), range(30)))
    assert Counter(status for status, _ in answers) == {200: 3, 409: 27}
    voucher.refresh_from_db()
    assert voucher.uses_left == 0 and Redemption.objects.filter(voucher=voucher).count() == 3
    assert Event.objects.filter(type="redemption.created").count() == 3


def test_the_fast_path_adds_to_the_day_total_and_notes_the_first_use(server, api, olivia, carol, meal, wash, issue):
    token = token_for(carol)
    pass_, meals = issue(wash), [issue(meal) for _ in range(12)] + [issue(meal, channel="pdd") for _ in range(4)]
    first = post(server, "/api/v1/redeem/", token, {"code": pass_.code})[1]["redemption"]["id"]
    # Many scans of one clerk at once: they all add to the same day's totals.
    codes = [v.code for v in meals] + [pass_.code] * 4
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda code: post(server, "/api/v1/redeem/", token, {"code": code}), codes))
    assert sum(status == 200 for status, _ in answers) == 18
    assert_totals_add_up()
    assert api(olivia).post(f"/api/v1/redemptions/{first}/reverse/", {"reason": "点错了"}, format="json").status_code == 200
    assert post(server, "/api/v1/redeem/", token, {"code": pass_.code})[0] == 200
    assert_totals_add_up()
    [row] = api(olivia).get("/api/v1/stats/staff/").json()
    assert (row["redemptions"], row["uses"], row["reversed"], row["face_value_total"]) == (19, 19, 1, "1658.00")


def test_the_fast_path_holds_the_redemption_rules_in_the_merchants_day(server, carol, acme, issue):
    import datetime as dt
    from collections import Counter
    from decimal import Decimal

    from django.utils import timezone

    from redemption.models import Product

    token = token_for(carol)
    two_a_day = Product.objects.create(merchant=acme, name="洗车 5 次卡", face_value=Decimal("100"),
                                       uses_per_voucher=5, max_uses_per_day=2)
    voucher = issue(two_a_day)
    with ThreadPoolExecutor(20) as pool:
        answers = list(pool.map(lambda _: post(server, "/api/v1/redeem/", token, {"code": voucher.code}), range(20)))
    assert Counter(body["result"] for _, body in answers) == {"redeemed": 2, "daily_limit": 18}
    voucher.refresh_from_db()
    today = timezone.now().astimezone(acme.tz).date()
    assert (voucher.uses_left, voucher.day_uses, voucher.day_uses_on) == (3, 2, today)
    assert voucher.last_used_at is not None
    refused = next(body for _, body in answers if body["result"] == "daily_limit")
    assert dt.datetime.fromisoformat(refused["next_at"]).date() == today + dt.timedelta(days=1)
    # Not on today's weekday (in the merchant's zone, whatever the server's clock says).
    not_today = Product.objects.create(
        merchant=acme, name="周末券", face_value=Decimal("10"), hours_from=dt.time(0), hours_until=dt.time(23, 59),
        hours_weekdays=0b1111111 & ~(1 << (today.isoweekday() - 1)),
    )
    closed = post(server, "/api/v1/redeem/", token, {"code": issue(not_today).code})
    assert closed[0] == 409 and closed[1]["result"] == "outside_hours"
    assert dt.datetime.fromisoformat(closed[1]["next_at"]).date() == today + dt.timedelta(days=1)
    spaced = Product.objects.create(merchant=acme, name="月卡", face_value=Decimal("10"), uses_per_voucher=9,
                                    min_minutes_between_uses=5)
    code = issue(spaced).code
    assert post(server, "/api/v1/redeem/", token, {"code": code})[0] == 200
    assert post(server, "/api/v1/redeem/", token, {"code": code})[1]["result"] == "too_soon"


def test_a_check_of_an_order_of_several_lists_the_order(server, carol, meal):
    from redemption import services

    token = token_for(carol)
    vouchers, _ = services.voucher_issue(product=meal, order_no="PDD-77", channel="pdd", quantity=3)
    checked = post(server, "/api/v1/check/", token, {"code": vouchers[1].code})
    assert checked[0] == 200
    assert [v["id"] for v in checked[1]["order"]["vouchers"]] == sorted(v.pk for v in vouchers)
    single = services.voucher_issue(product=meal, order_no="PDD-78", channel="pdd")[0][0]
    assert "order" not in post(server, "/api/v1/check/", token, {"code": single.code})[1]


def test_a_voucher_made_outside_the_services_gets_its_order_counted_on_its_first_redeem(server, carol, meal):
    from redemption.models import OrderTotal, Voucher

    token = token_for(carol)
    voucher = Voucher.objects.create(merchant=meal.merchant, product=meal, code="8888000011112222", order_no="ADMIN-1",
                                     uses_total=1, uses_left=1)
    assert not OrderTotal.objects.filter(order_no="ADMIN-1").exists()
    assert post(server, "/api/v1/redeem/", token, {"code": voucher.code})[0] == 200
    total = OrderTotal.objects.get(order_no="ADMIN-1")
    assert (total.vouchers, total.uses_used, total.open) == (1, 1, 0)
    assert_totals_add_up()
