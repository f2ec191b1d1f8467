"""Whole orders at the counter: one code shown, every voucher of the order listed, redeemed in one
tap, all or none."""

from collections import Counter

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from redemption import services
from redemption.models import Attempt, Event, Redemption, Voucher
from tests.test_concurrency import hammer
from tests.totals import assert_totals_add_up


@pytest.fixture
def family(meal):
    """A Pinduoduo order of 3 meals."""
    vouchers, _ = services.voucher_issue(product=meal, order_no="PDD-240501-88", channel="pdd", quantity=3)
    return vouchers


def check(client, code):
    return client.post("/api/v1/check/", {"code": code}, format="json")


def redeem_order(client, code, ids, **extra):
    return client.post("/api/v1/redeem/order/", {"code": code, "vouchers": [{"id": i} for i in ids], **extra},
                       format="json")


def test_check_lists_every_voucher_of_the_order(api, carol, family):
    body = check(api(carol), family[1].code).json()
    assert body["result"] == "redeemable"
    order = body["order"]
    assert order["order_no_masked"] == "****1-88"
    assert order["channel"] == "pdd"
    assert [v["id"] for v in order["vouchers"]] == [v.pk for v in family]
    assert all(v["uses_left"] == 1 and v["status"] == "active" and v["result"] == "redeemable" for v in order["vouchers"])
    assert all(v["code_masked"].startswith("****") for v in order["vouchers"])
    for voucher in family:
        assert voucher.code not in str(body)


def test_one_tap_redeems_the_whole_order(api, carol, family, store_a):
    response = redeem_order(api(carol), family[0].code, [v.pk for v in family], idempotency_key="tap-1")
    assert response.status_code == 200, response.json()
    body = response.json()
    assert body["ok"] is True and body["result"] == "redeemed"
    assert [r["code_masked"][-4:] for r in body["redemptions"]] == [v.code[-4:] for v in family]
    assert [v["id"] for v in body["vouchers"]] == [v.pk for v in family]
    assert all(v["uses_left"] == 0 and v["status"] == "redeemed" for v in body["vouchers"])
    assert "3" in body["message"]
    assert Redemption.objects.filter(voucher__in=family).count() == 3
    assert Attempt.objects.filter(voucher__in=family, kind="redeem", result="redeemed").count() == 3
    assert Event.objects.filter(type="redemption.created").count() == 3
    # The same tap sent again (the answer was lost): the same redemptions, nothing more.
    again = redeem_order(api(carol), family[0].code, [v.pk for v in family], idempotency_key="tap-1")
    assert again.status_code == 200
    assert [r["id"] for r in again.json()["redemptions"]] == [r["id"] for r in body["redemptions"]]
    assert Redemption.objects.count() == 3
    assert_totals_add_up()


def test_all_or_none_the_lowest_ids_refusal_is_answered_with_every_refused_id(api, carol, olivia, family):
    services.voucher_void(member=olivia, voucher_id=family[2].pk)
    services.voucher_redeem(member=carol, raw_code=family[1].code)
    response = redeem_order(api(carol), family[0].code, [v.pk for v in family])
    assert response.status_code == 409
    body = response.json()
    assert body["result"] == "already_redeemed"  # family[1], the lowest refused id
    assert body["refused"] == [{"id": family[1].pk, "result": "already_redeemed"},
                               {"id": family[2].pk, "result": "voided"}]
    assert Voucher.objects.get(pk=family[0].pk).uses_left == 1  # nothing redeemed
    assert Redemption.objects.count() == 1


def test_an_id_outside_the_order_is_not_found_for_that_id(api, carol, family, meal, acme, oscar):
    other = services.voucher_issue(product=meal, order_no="PDD-OTHER", channel="pdd")[0][0]
    response = redeem_order(api(carol), family[0].code, [family[0].pk, other.pk])
    assert response.status_code == 404
    assert response.json()["refused"] == [{"id": other.pk, "result": "not_found"}]
    assert not Redemption.objects.exists()


def test_the_scanned_voucher_proves_the_order_when_used_up_or_left_out(api, carol, family):
    services.voucher_redeem(member=carol, raw_code=family[0].code)
    checked = check(api(carol), family[0].code)
    assert checked.status_code == 409 and checked.json()["result"] == "already_redeemed"
    # Check still lists the order, so the clerk can redeem the rest.
    assert [v["result"] for v in checked.json()["order"]["vouchers"]] == ["already_redeemed", "redeemable", "redeemable"]
    response = redeem_order(api(carol), family[0].code, [family[1].pk, family[2].pk])
    assert response.status_code == 200
    assert Redemption.objects.count() == 3


def test_an_unknown_or_foreign_code_proves_nothing(api, carol, family, oscar):
    from redemption.models import Product

    assert redeem_order(api(carol), "1234-5678", [family[0].pk]).json()["result"] == "not_found"
    theirs = Product.objects.create(merchant=oscar.merchant, name="别家的券", face_value=1)
    foreign = services.voucher_issue(product=theirs, order_no="PDD-240501-88", channel="pdd")[0][0]
    response = redeem_order(api(carol), foreign.code, [family[0].pk])
    assert response.status_code == 404 and response.json()["result"] == "not_found"
    assert not Redemption.objects.exists()


@pytest.mark.parametrize("vouchers", [[], [{"id": 1}, {"id": 1}], [{"id": "x"}], [{"id": 1, "uses": 0}], "3", None,
                                      [{"id": 1}] * 51])
def test_bad_lists_are_refused_clearly(api, carol, family, vouchers):
    response = api(carol).post("/api/v1/redeem/order/", {"code": family[0].code, "vouchers": vouchers}, format="json")
    assert response.status_code == 400
    assert response.json()["result"] == "invalid_request" and "vouchers" in response.json()["errors"]
    assert not Redemption.objects.exists()


def test_a_five_voucher_order_stays_within_its_query_budget(api, carol, meal, store_a):
    vouchers, _ = services.voucher_issue(product=meal, order_no="MT-5", channel="meituan", quantity=5)
    client = api(carol)
    with CaptureQueriesContext(connection) as queries:
        response = redeem_order(client, vouchers[0].code, [v.pk for v in vouchers], idempotency_key="five")
    assert response.status_code == 200
    # Token and member (2), store (1), key (1), scanned voucher (1), the order locked (1), then per
    # voucher: uses, redemption, day total, order total, attempt, event (6 x 5); savepoints aside.
    statements = [q for q in queries.captured_queries if "SAVEPOINT" not in q["sql"]]
    assert len(statements) <= 36, "\n".join(q["sql"][:120] for q in statements)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_clerks_on_overlapping_parts_of_one_order_never_overdraw_nor_deadlock(carol, mike, olivia, wash, store_a):
    vouchers, _ = services.voucher_issue(product=wash, order_no="YZ-9", channel="youzan", quantity=4)
    ids = [v.pk for v in vouchers]
    # Thread i asks for a different, overlapping slice, in a different order, two uses each.
    slices = [ids[0:3], ids[1:4][::-1], ids[::2], ids[::-1], [ids[3], ids[0]], ids[1:3]]
    results = hammer(
        [carol, mike, olivia],
        lambda i: {"code": vouchers[i % 4].code, "store": store_a.id,
                   "vouchers": [{"id": pk, "uses": 2} for pk in slices[i % len(slices)]]},
        18, path="/api/v1/redeem/order/",
    )
    statuses = Counter(status for status, _ in results)
    assert set(statuses) <= {200, 409}, results
    assert statuses[200] >= 1
    for voucher in Voucher.objects.filter(pk__in=ids):
        granted = sum(Redemption.objects.filter(voucher=voucher).values_list("uses", flat=True))
        assert granted <= 3 and voucher.uses_left == 3 - granted
    # All or none: each successful answer's vouchers each got exactly one redemption of two uses from it.
    for status, body in results:
        if status == 200:
            assert all(r["uses"] == 2 for r in body["redemptions"])
        else:
            assert body["refused"] and body["result"] in ("insufficient_uses", "already_redeemed")
    assert_totals_add_up()
