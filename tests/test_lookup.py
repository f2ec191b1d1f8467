"""Finding a voucher without its code (the buyer's phone is dead): owners and managers only, every
lookup on record and on the live feed, and redeeming what was found by its id."""

import pytest
from django.conf import settings

from redemption import services
from redemption.models import Attempt, Event, Product, Redemption


def lookup(client, **query):
    return client.get("/api/v1/vouchers/lookup/", query)


@pytest.fixture
def bought(meal):
    vouchers, _ = services.voucher_issue(product=meal, order_no="PDD-20261201-0042", channel="pdd", quantity=2,
                                         buyer_phone="+86 138-0013-8000")
    return vouchers


def test_a_lookup_may_be_posted_so_the_phone_number_stays_out_of_the_url(api, mike, bought):
    response = api(mike).post("/api/v1/vouchers/lookup/", {"phone": "+86 138 0013 8000"}, format="json")
    assert response.status_code == 200
    assert sorted(r["id"] for r in response.json()["results"]) == sorted(v.pk for v in bought)
    attempt = Attempt.objects.get(kind="lookup")
    assert (attempt.result, attempt.input_masked) == ("found", "138****8000")
    refused = api(mike).post("/api/v1/vouchers/lookup/", {"phone": "call me"}, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert refused.status_code == 400 and refused.json()["result"] == "invalid_request"


def test_an_owner_finds_an_order_by_its_exact_number(api, olivia, bought):
    response = lookup(api(olivia), order_no="PDD-20261201-0042")
    assert response.status_code == 200
    results = response.json()["results"]
    assert sorted(r["id"] for r in results) == sorted(v.pk for v in bought)
    # Kept as +8613800138000, masked as the number is dialled at home.
    assert [r["buyer_phone_masked"] for r in results] == ["138****8000", "138****8000"]
    text = response.content.decode()
    assert "13800138000" not in text and all(v.code not in text for v in bought)
    assert lookup(api(olivia), order_no="PDD-20261201").json()["results"] == []  # exact, not a prefix


@pytest.mark.parametrize("typed", ["13800138000", "138 0013 8000", "+8613800138000", "１３８００１３８０００"])
def test_a_manager_finds_by_the_whole_phone_number_however_typed(api, mike, bought, typed):
    assert len(lookup(api(mike), phone=typed).json()["results"]) == 2


def test_a_manager_finds_only_what_their_stores_accept(api, mike, acme, store_b, bought):
    elsewhere = Product.objects.create(merchant=acme, name="B 店专享", face_value=10)
    elsewhere.stores.set([store_b])
    services.voucher_issue(product=elsewhere, order_no="PDD-B-1", buyer_phone="13900139000")
    assert lookup(api(mike), phone="13900139000").json()["results"] == []
    assert len(lookup(api(mike), order_no="PDD-20261201-0042").json()["results"]) == 2


def test_at_most_twenty(api, olivia, meal):
    services.voucher_issue(product=meal, order_no="BIG", quantity=30)
    assert len(lookup(api(olivia), order_no="BIG").json()["results"]) == 20


def test_every_lookup_is_an_attempt_and_an_event(api, olivia, bought):
    lookup(api(olivia), order_no="PDD-20261201-0042")
    lookup(api(olivia), phone="13700000000")
    attempts = list(Attempt.objects.filter(kind="lookup").order_by("id").values_list("input_masked", "result"))
    assert attempts == [("****0042", "found"), ("137****0000", "not_found")]
    events = list(Event.objects.filter(type="attempt.lookup").order_by("id"))
    assert [(e.data["by"], e.data["found"], e.data["staff"]["display_name"]) for e in events] == [
        ("order_no", 2, "Olivia"), ("phone", 0, "Olivia")]
    assert "13700000000" not in str([e.data for e in events])


def test_lookups_that_find_nothing_lock_a_guesser_out(api, mike, bought):
    for n in range(settings.THROTTLE_LIMIT):
        assert lookup(api(mike), order_no=f"GUESS-{n}").status_code == 200
    response = lookup(api(mike), order_no="PDD-20261201-0042")
    assert response.status_code == 429 and response.json()["result"] == "throttled"


def test_a_clerk_may_neither_look_up_nor_redeem_by_id(api, carol, bought):
    assert lookup(api(carol), order_no="PDD-20261201-0042").status_code == 403
    response = api(carol).post("/api/v1/redeem/", {"voucher": bought[0].pk}, format="json")
    assert response.status_code == 403 and response.json()["result"] == "forbidden"
    assert not Redemption.objects.exists()
    assert not Attempt.objects.filter(kind="lookup").exists()


def test_a_manager_redeems_what_was_found_by_its_id(api, mike, bought, store_a):
    found = lookup(api(mike), phone="13800138000").json()["results"][0]
    response = api(mike).post("/api/v1/redeem/", {"voucher": found["id"], "idempotency_key": "found-1"}, format="json")
    assert response.status_code == 200
    assert response.json()["voucher"]["uses_left"] == 0
    attempt = Attempt.objects.get(kind="redeem")
    assert attempt.result == "redeemed" and attempt.input_masked.startswith("****")
    again = api(mike).post("/api/v1/redeem/", {"voucher": found["id"]}, format="json")
    assert again.status_code == 409 and again.json()["result"] == "already_redeemed"


def test_a_voucher_outside_a_managers_stores_by_id_looks_unknown(api, mike, acme, store_b, oscar):
    elsewhere = Product.objects.create(merchant=acme, name="B 店专享", face_value=10)
    elsewhere.stores.set([store_b])
    theirs = services.voucher_issue(product=elsewhere, order_no="B-1")[0][0]
    response = api(mike).post("/api/v1/redeem/", {"voucher": theirs.pk}, format="json")
    assert response.status_code == 404 and response.json()["result"] == "not_found"
    foreign_product = Product.objects.create(merchant=oscar.merchant, name="别家", face_value=1)
    foreign = services.voucher_issue(product=foreign_product, order_no="X-1")[0][0]
    assert api(mike).post("/api/v1/redeem/", {"voucher": foreign.pk}, format="json").json()["result"] == "not_found"
    assert not Redemption.objects.exists()
