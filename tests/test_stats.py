import csv
import datetime as dt
import io
from decimal import Decimal
from unittest import mock

from django.utils import timezone

from redemption.models import Redemption
from tests.totals import assert_totals_add_up


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json").json()


def test_staff_stats_count_uses_money_refusals_and_reversals(api, olivia, carol, dave, meal, wash, issue):
    pass_ = issue(wash)  # 90.00 for 3 washes: 30.00 a wash
    redeem(api(carol), pass_.code, uses=2)
    meal_voucher = issue(meal)
    rid = redeem(api(carol), meal_voucher.code)["redemption"]["id"]
    api(carol).post(f"/api/v1/redemptions/{rid}/reverse/", {"reason": "点错了"}, format="json")
    redeem(api(carol), "0000")
    redeem(api(dave), issue(meal).code)
    rows = {r["staff"]["display_name"]: r for r in api(olivia).get("/api/v1/stats/staff/").json()}
    assert rows["Carol"]["redemptions"] == 1 and rows["Carol"]["uses"] == 2
    assert rows["Carol"]["face_value_total"] == "60.00"
    assert rows["Carol"]["reversed"] == 1 and rows["Carol"]["refused_attempts"] == 1
    assert rows["Dave"]["face_value_total"] == "98.00"
    assert rows["Carol"]["first_at"] and rows["Carol"]["last_at"]


def test_a_manager_gets_their_stores_only_and_a_clerk_nothing(api, mike, carol, dave, meal, issue):
    redeem(api(carol), issue(meal).code)
    redeem(api(dave), issue(meal).code)
    rows = api(mike).get("/api/v1/stats/stores/").json()
    assert [r["store"]["name"] for r in rows] == ["A 人民路店"]
    assert api(carol).get("/api/v1/stats/staff/").status_code == 403


def test_days_are_local(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    today = timezone.localdate()
    local_midnight = dt.datetime.combine(today, dt.time.min, tzinfo=timezone.get_current_timezone())
    with mock.patch("django.utils.timezone.now", return_value=local_midnight - dt.timedelta(minutes=1)):
        redeem(api(carol), voucher.code)
    assert api(olivia).get(f"/api/v1/stats/staff/?from={today}&to={today}").json() == []
    yesterday = today - dt.timedelta(days=1)
    assert len(api(olivia).get(f"/api/v1/stats/staff/?from={yesterday}&to={yesterday}").json()) == 1


def test_bad_ranges_are_refused(api, olivia):
    for query in ("?from=2026-02-30", "?from=2026-05-02&to=2026-05-01", "?from=2020-01-01&to=2026-01-01", "?store=a"):
        response = api(olivia).get("/api/v1/stats/staff/" + query)
        assert response.status_code == 400 and response.json()["result"] == "invalid_request"


def test_product_stats(api, olivia, carol, meal, issue):
    used, _unused, voided = issue(meal), issue(meal), issue(meal)
    issue(meal, valid_until=timezone.now() - dt.timedelta(hours=1))
    redeem(api(carol), used.code)
    api(olivia).post(f"/api/v1/vouchers/{voided.id}/void/", {}, format="json")
    from redemption.models import Voucher

    Voucher.objects.filter(pk=used.pk).update(created_at=Redemption.objects.get(voucher=used).at - dt.timedelta(hours=5))
    since = (timezone.localdate() - dt.timedelta(days=2)).isoformat()
    [row] = api(olivia).get(f"/api/v1/stats/products/?from={since}").json()
    assert row["issued"] == 4 and row["redeemed"] == 1 and row["voided"] == 1 and row["expired_unused"] == 1
    assert row["redemption_rate"] == round(1 / 3, 4)
    assert row["median_hours_to_redeem"] == 5.0


def test_export_csv_opens_in_excel_and_masks_codes(api, olivia, carol, wash, issue):
    voucher = issue(wash)
    redeem(api(carol), voucher.code, uses=3)
    response = api(olivia).get("/api/v1/redemptions/export.csv")
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    text = b"".join(response.streaming_content).decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))
    assert rows[0][0] == "时间" and len(rows) == 2
    assert voucher.code not in text and rows[1][3].endswith(voucher.code[-4:])
    assert Decimal(rows[1][7]) == Decimal("90.00")
    assert api(carol).get("/api/v1/redemptions/export.csv").status_code == 403


def test_thirds_of_a_price_add_up_to_the_price(api, olivia, carol, acme, issue):
    from redemption.models import Product

    pass_ = Product.objects.create(merchant=acme, name="三次卡", face_value=Decimal("100.00"), uses_per_voucher=3)
    voucher = issue(pass_)
    for _ in range(3):
        redeem(api(carol), voucher.code)
    [row] = api(olivia).get("/api/v1/stats/staff/").json()
    assert row["uses"] == 3 and row["face_value_total"] == "100.00"


def reverse(client, redemption_id):
    return client.post(f"/api/v1/redemptions/{redemption_id}/reverse/", {"reason": "点错了"}, format="json")


def test_the_daily_totals_are_the_redemptions_added_up(api, olivia, mike, carol, dave, meal, wash, issue, store_a):
    carol_client = api(carol)
    pass_ = issue(wash)
    first_wash = redeem(carol_client, pass_.code)["redemption"]["id"]
    redeem(carol_client, pass_.code, uses=2)
    meals = [issue(meal), issue(meal, channel="meituan"), issue(meal, channel="meituan")]
    meal_ids = [redeem(carol_client, v.code)["redemption"]["id"] for v in meals]
    redeem(api(dave), issue(meal).code)
    redeem(api(mike), issue(meal, channel="pdd").code)
    assert_totals_add_up()
    # Reversed: the pass's first use (its first use moves to the second), the last meal of a total,
    # and then every meituan meal (that total has no standing redemption left).
    reverse(api(olivia), first_wash)
    reverse(carol_client, meal_ids[2])
    assert_totals_add_up()
    reverse(api(olivia), meal_ids[1])
    assert_totals_add_up()
    # Refusals change no total; a reversed use redeemed again counts anew.
    assert redeem(carol_client, meals[0].code)["result"] == "already_redeemed"
    assert redeem(carol_client, "0000")["result"] == "not_found"
    redeem(carol_client, pass_.code)
    redeem(carol_client, meals[1].code)
    assert_totals_add_up()
    rows = {r["staff"]["display_name"]: r for r in api(olivia).get("/api/v1/stats/staff/").json()}
    assert (rows["Carol"]["redemptions"], rows["Carol"]["uses"], rows["Carol"]["reversed"]) == (4, 5, 3)
    assert rows["Carol"]["face_value_total"] == "286.00" and rows["Carol"]["refused_attempts"] == 2


def test_a_reversal_counts_on_the_day_of_the_redemption(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    today = timezone.localdate()
    yesterday = today - dt.timedelta(days=1)
    late = dt.datetime.combine(yesterday, dt.time(23, 30), tzinfo=timezone.get_current_timezone())
    with mock.patch("django.utils.timezone.now", return_value=late):
        rid = redeem(api(carol), voucher.code)["redemption"]["id"]
    reverse(api(olivia), rid)
    assert_totals_add_up()
    assert api(olivia).get(f"/api/v1/stats/staff/?from={today}&to={today}").json() == []
    [row] = api(olivia).get(f"/api/v1/stats/staff/?from={yesterday}&to={yesterday}").json()
    assert (row["redemptions"], row["reversed"], row["face_value_total"], row["first_at"]) == (0, 1, "0.00", None)


def test_product_stats_follow_the_first_standing_use(api, olivia, carol, wash, issue):
    pass_ = issue(wash)
    first = redeem(api(carol), pass_.code)["redemption"]["id"]
    redeem(api(carol), pass_.code)
    reverse(api(olivia), first)
    assert_totals_add_up()
    [row] = api(olivia).get("/api/v1/stats/products/").json()
    assert row["redeemed"] == 1
    for redemption in Redemption.objects.filter(voucher=pass_, reversed_at=None):
        reverse(api(olivia), redemption.pk)
    assert_totals_add_up()
    [row] = api(olivia).get("/api/v1/stats/products/").json()
    assert (row["redeemed"], row["median_hours_to_redeem"]) == (0, None)
