"""Offline at the counter: the owner's switch and caps, the snapshot (never a whole code), and the
upload that redeems what a device took offline, once, or turns it into a conflict the owner sees."""

import datetime as dt
import gzip
import hashlib
import hmac
import json
from decimal import Decimal

import pytest
from django.utils import timezone

from redemption import codes, services
from redemption.services import offline
from redemption.models import Attempt, Event, OfflineConflict, OfflineSnapshot, Product, Redemption, Voucher, Webhook
from staff.models import StoreOfflineRule
from tests.test_concurrency import hammer
from tests.totals import assert_totals_add_up


@pytest.fixture
def offline_a(store_a):
    store_a.offline_enabled = True
    store_a.offline_max_redemptions = 3
    store_a.offline_max_value = Decimal("250.00")
    store_a.save()
    return store_a


def snap(client, **query):
    headers = {name: query.pop(name) for name in list(query) if name.startswith("HTTP_")}
    return client.get("/api/v1/offline/snapshot/", {"device": "phone-1", **query}, **headers)


def item(code, key, scanned_at=None, **extra):
    return {"idempotency_key": key, "code": code, "uses": 1,
            "scanned_at": (scanned_at or timezone.now()).isoformat(), **extra}


def upload(client, *items, device="phone-1"):
    return client.post("/api/v1/offline/upload/", {"device": device, "items": list(items)}, format="json")


def test_the_owner_turns_offline_on_with_caps(api, olivia, mike, store_a):
    client = api(olivia)
    assert client.get(f"/api/v1/stores/{store_a.id}/").json()["offline_enabled"] is False
    response = client.patch(f"/api/v1/stores/{store_a.id}/", {
        "offline_enabled": True, "offline_max_redemptions": 20, "offline_max_value": "300.00",
        "offline_snapshot_hours": 8}, format="json")
    assert response.status_code == 200
    assert response.json() | {} == {"id": store_a.id, "name": store_a.name, "address": "", "offline_enabled": True,
                                    "offline_max_redemptions": 20, "offline_max_value": "300.00",
                                    "offline_snapshot_hours": 8}
    assert client.patch(f"/api/v1/stores/{store_a.id}/", {"offline_snapshot_hours": 0}, format="json").status_code == 400
    assert client.patch(f"/api/v1/stores/{store_a.id}/", {"offline_max_value": "-1"}, format="json").status_code == 400
    assert api(mike).patch(f"/api/v1/stores/{store_a.id}/", {"offline_enabled": False}, format="json").status_code == 403
    store_a.refresh_from_db()
    assert (store_a.offline_enabled, store_a.offline_snapshot_hours) == (True, 8)


def test_a_store_with_offline_off_gives_no_snapshot(api, carol, store_a):
    response = snap(api(carol))
    assert response.status_code == 403 and response.json()["result"] == "offline_disabled"
    assert "离线" in api(carol).get("/api/v1/offline/snapshot/", HTTP_ACCEPT_LANGUAGE="zh-hans").json()["message"]


def test_the_snapshot_names_codes_only_by_their_hmac(api, carol, offline_a, store_b, meal, wash, issue, acme, olivia):
    good, pass_ = issue(meal), issue(wash)
    # None of these may be in a snapshot: used up, voided, expired, live QR only, another store's.
    services.voucher_redeem(member=carol, raw_code=issue(meal).code)
    services.voucher_void(member=olivia, voucher_id=issue(meal).pk)
    issue(meal, valid_until=timezone.now() - dt.timedelta(days=1))
    issue(Product.objects.create(merchant=acme, name="动态码券", face_value=5, require_live_qr=True))
    elsewhere = Product.objects.create(merchant=acme, name="B 店券", face_value=5)
    elsewhere.stores.set([store_b])
    issue(elsewhere)
    response = snap(api(carol))
    assert response.status_code == 200
    body = response.json()
    text = response.content.decode()
    for voucher in Voucher.objects.all():
        assert voucher.code not in text
    key = body["key"]
    assert len(key) == 64 and body["caps"] == {"max_redemptions": 3, "max_value": "250.00"}
    named = {entry["h"]: entry for entry in body["vouchers"]}
    expected = {slow_name(body, v.code): v for v in (good, pass_)}
    assert set(named) == set(expected)
    assert named[slow_name(body, pass_.code)]["product"] == {
        "id": wash.id, "name": wash.name, "face_value": "90.00", "uses_per_voucher": 3}
    assert all(e["status"] == "active" for e in body["vouchers"])
    assert dt.datetime.fromisoformat(body["expires_at"]) - dt.datetime.fromisoformat(body["issued_at"]) == dt.timedelta(hours=12)
    # A fresh key every time: one snapshot's names say nothing about the next one's.
    assert snap(api(carol)).json()["key"] != key
    assert OfflineSnapshot.objects.filter(staff=carol, device="phone-1").count() == 2


def slow_name(body, code):
    """A code's name in a snapshot, made as a phone makes it from what the snapshot says."""
    kdf = body["kdf"]
    digest = hashlib.pbkdf2_hmac("sha256", code.encode(), bytes.fromhex(kdf["salt"]), kdf["iterations"])
    return hmac.new(bytes.fromhex(body["key"]), digest, hashlib.sha256).hexdigest()[:32]


def test_a_stolen_list_costs_a_slow_derivation_per_guessed_code(api, carol, oscar, offline_a, meal, issue, settings):
    voucher = issue(meal)
    body = snap(api(carol)).json()
    assert body["kdf"] == {"name": "pbkdf2-sha256", "salt": body["kdf"]["salt"], "iterations": 20000}
    [entry] = body["vouchers"]
    # Not the code's bare HMAC under the key that comes with the list: each guess costs 20,000 rounds.
    assert entry["h"] != hmac.new(bytes.fromhex(body["key"]), voucher.code.encode(), hashlib.sha256).hexdigest()[:32]
    assert entry["h"] == slow_name(body, voucher.code) and len(entry["h"]) == 32
    # The salt is the merchant's, kept from one snapshot to the next; another merchant's is its own.
    assert snap(api(carol)).json()["kdf"]["salt"] == body["kdf"]["salt"] and len(body["kdf"]["salt"]) == 32
    other = oscar.merchant.stores.get()
    other.offline_enabled = True
    other.save()
    assert snap(api(oscar)).json()["kdf"]["salt"] != body["kdf"]["salt"]
    # A new cost is taken up at once: the kept digest is derived again.
    settings.OFFLINE_KDF_ITERATIONS = 1000
    again = snap(api(carol)).json()
    assert again["kdf"]["iterations"] == 1000 and again["vouchers"][0]["h"] == slow_name(again, voucher.code)


def test_a_snapshot_derives_each_digest_once_and_never_for_long(api, carol, offline_a, meal, issue, settings):
    kept = [issue(meal) for _ in range(3)]
    assert len(snap(api(carol)).json()["vouchers"]) == 3
    # No time to derive: the three whose digests are kept are there, the two new ones wait.
    settings.OFFLINE_KDF_SECONDS = 0
    new = [issue(meal) for _ in range(2)]
    body = snap(api(carol)).json()
    assert {e["h"] for e in body["vouchers"]} == {slow_name(body, v.code) for v in kept}
    assert OfflineSnapshot.objects.order_by("-id").first().vouchers == 3
    settings.OFFLINE_KDF_SECONDS = 1.0
    body = snap(api(carol)).json()
    assert {e["h"] for e in body["vouchers"]} == {slow_name(body, v.code) for v in kept + new}


def test_the_worker_derives_the_digests_of_merchants_with_offline_on(api, carol, oscar, offline_a, meal, issue, settings):
    vouchers = [issue(meal) for _ in range(3)]
    elsewhere = Product.objects.create(merchant=oscar.merchant, name="没开离线的店的券", face_value=5)
    services.voucher_issue(product=elsewhere, order_no="O-1")
    assert offline.digests_fill(seconds=5) == 3
    assert offline.digests_fill(seconds=5) == 0
    assert not Voucher.objects.filter(merchant=oscar.merchant, offline_digest__isnull=False).exists()
    settings.OFFLINE_KDF_SECONDS = 0
    body = snap(api(carol)).json()
    assert {e["h"] for e in body["vouchers"]} == {slow_name(body, v.code) for v in vouchers}


def test_an_upload_redeems_as_scanned_and_a_repeat_redeems_nothing_more(api, carol, offline_a, meal, issue):
    voucher = issue(meal)
    scanned = timezone.now() - dt.timedelta(minutes=3)
    snap(api(carol))
    OfflineSnapshot.objects.update(issued_at=scanned - dt.timedelta(minutes=5))
    response = upload(api(carol), item(voucher.code, "off-1", scanned))
    assert response.status_code == 200
    [result] = response.json()["results"]
    assert result["idempotency_key"] == "off-1" and result["result"] == "redeemed"
    redemption = result["redemption"]
    assert redemption["offline"] is True
    assert dt.datetime.fromisoformat(redemption["scanned_at"]) == scanned.replace(microsecond=scanned.microsecond)
    assert dt.datetime.fromisoformat(redemption["at"]) > scanned
    again = upload(api(carol), item(voucher.code, "off-1", scanned)).json()["results"][0]
    assert again["result"] == "redeemed" and again["redemption"]["id"] == redemption["id"]
    assert Redemption.objects.count() == 1
    event = Event.objects.get(type="redemption.created")
    assert event.data["redemption"]["offline"] is True
    assert_totals_add_up()


def test_a_code_used_online_meanwhile_becomes_a_conflict_the_owner_sees(api, carol, mike, olivia, offline_a, meal, issue):
    voucher = issue(meal)
    snap(api(carol))
    scanned = timezone.now()
    services.voucher_redeem(member=mike, raw_code=voucher.code, store_id=offline_a.id)
    Webhook.objects.create(merchant=olivia.merchant, url="https://93.184.216.34/hook", events=["offline.conflict"])
    [result] = upload(api(carol), item(voucher.code, "off-2", scanned)).json()["results"]
    assert result["result"] == "already_redeemed" and "redemption" not in result
    conflict = OfflineConflict.objects.get()
    assert (conflict.result, conflict.staff, conflict.store, conflict.voucher) == ("already_redeemed", carol, offline_a, voucher)
    event = Event.objects.get(type="offline.conflict")
    assert event.data["code_masked"] == "****" + voucher.code[-4:] and voucher.code not in json.dumps(event.data)
    assert event.data["staff"]["display_name"] == "Carol" and event.data["store"]["id"] == offline_a.id
    # Uploaded again, it answers the same and still redeems nothing.
    assert upload(api(carol), item(voucher.code, "off-2", scanned)).json()["results"][0]["result"] == "already_redeemed"
    assert OfflineConflict.objects.count() == 1 and Redemption.objects.count() == 1
    listed = api(olivia).get("/api/v1/offline/conflicts/", {"settled": "false"}).json()
    assert [c["result"] for c in listed["results"]] == ["already_redeemed"]
    settled = api(olivia).post(f"/api/v1/offline/conflicts/{conflict.pk}/settle/", {"note": "顾客已补款"}, format="json")
    assert settled.status_code == 200 and settled.json()["settle_note"] == "顾客已补款"
    assert api(olivia).get("/api/v1/offline/conflicts/", {"settled": "false"}).json()["results"] == []


def test_the_caps_bound_what_a_device_may_take(api, carol, offline_a, meal, wash, issue):
    vouchers = [issue(meal) for _ in range(4)]  # 98.00 each; the caps are 3 and 250.00
    snap(api(carol))
    results = upload(api(carol), *[item(v.code, f"cap-{i}") for i, v in enumerate(vouchers)]).json()["results"]
    assert [r["result"] for r in results] == ["redeemed", "redeemed", "offline_cap", "offline_cap"]
    assert Redemption.objects.filter(offline=True).count() == 2  # the third would pass 250.00


def test_an_item_scanned_with_no_snapshot_held_is_beyond_the_caps(api, carol, offline_a, meal, issue):
    voucher = issue(meal)
    snap(api(carol))
    long_ago = timezone.now() - dt.timedelta(days=2)
    assert upload(api(carol), item(voucher.code, "old", long_ago)).json()["results"][0]["result"] == "offline_cap"
    other_device = upload(api(carol), item(voucher.code, "other"), device="phone-2").json()["results"][0]
    assert other_device["result"] == "offline_cap"
    assert not Redemption.objects.exists()


def test_valid_when_scanned_though_expired_since(api, carol, offline_a, meal, issue):
    scanned = timezone.now() - dt.timedelta(minutes=30)
    voucher = issue(meal, valid_until=timezone.now() - dt.timedelta(minutes=10))
    snap(api(carol))
    OfflineSnapshot.objects.update(issued_at=scanned - dt.timedelta(minutes=1))
    assert upload(api(carol), item(voucher.code, "late", scanned)).json()["results"][0]["result"] == "redeemed"


@pytest.mark.parametrize("body", [
    {"items": []},
    {"device": "p", "items": [{"code": "1", "scanned_at": "2026-12-01T10:00:00+08:00"}]},
    {"device": "p", "items": [{"idempotency_key": "k", "code": "1", "scanned_at": "yesterday"}]},
    {"device": "p", "items": [{"idempotency_key": "k", "code": ["1"], "scanned_at": "2026-12-01T10:00:00+08:00"}]},
    {"device": "p", "items": [{"idempotency_key": "k", "code": "1", "scanned_at": "2026-12-01T10:00:00+08:00"}] * 2},
    {"device": "p", "items": "all of them"},
])
def test_a_bad_upload_is_refused_whole_and_changes_nothing(api, carol, offline_a, body):
    response = api(carol).post("/api/v1/offline/upload/", body, format="json")
    assert response.status_code == 400 and response.json()["result"] == "invalid_request"
    assert not OfflineConflict.objects.exists()


def test_a_scan_time_without_its_offset_is_refused_with_a_sentence(api, carol, offline_a, meal, issue):
    voucher = issue(meal)
    snap(api(carol))
    naive = {**item(voucher.code, "naive"), "scanned_at": "2026-12-01T10:00:00"}
    response = api(carol).post("/api/v1/offline/upload/", {"device": "phone-1", "items": [naive]}, format="json",
                               HTTP_ACCEPT_LANGUAGE="zh-hans")
    assert response.status_code == 400 and response.json()["result"] == "invalid_request"
    assert "时区" in response.json()["errors"]["items"]["0"]["scanned_at"][0]
    assert not Redemption.objects.filter(voucher=voucher).exists()


def test_devices_show_what_they_may_still_take(api, olivia, carol, offline_a, meal, issue):
    snap(api(carol), pending=0)
    upload(api(carol), item(issue(meal).code, "d-1"))
    [device] = api(olivia).get("/api/v1/offline/devices/").json()["results"]
    assert device["staff"]["display_name"] == "Carol" and device["live"] is True
    assert (device["uploaded"], device["may_still_take"], device["may_still_take_value"]) == (1, 2, "152.00")


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_two_devices_uploading_one_code_at_once_one_redemption_one_conflict(carol, mike, meal, store_a):
    store_a.offline_enabled = True
    store_a.save()
    voucher = services.voucher_issue(product=meal, order_no="OFF-1")[0][0]
    for member, device in ((carol, "dev-carol"), (mike, "dev-mike")):
        offline.snapshot(member=member, store_id=store_a.id, device=device)
    scanned = timezone.now().isoformat()
    devices = ["dev-carol", "dev-mike"]
    results = hammer(
        [carol, mike],
        lambda i: {"device": devices[i % 2], "items": [
            {"idempotency_key": f"k-{i % 2}", "code": voucher.code, "store": store_a.id, "scanned_at": scanned}]},
        8, path="/api/v1/offline/upload/",
    )
    # Each device sent its item four times at once: each answers one way every time.
    answers = {(i % 2, body["results"][0]["result"]) for i, (status, body) in enumerate(results)}
    assert len(answers) == 2 and {result for _, result in answers} == {"redeemed", "already_redeemed"}
    assert Redemption.objects.filter(voucher=voucher).count() == 1
    assert OfflineConflict.objects.count() == 1
    assert_totals_add_up()


def made_up_code():
    """A code no voucher has, with a good check digit: what someone guessing would send."""
    return codes.generate()


def test_made_up_codes_in_an_upload_lock_the_clerk_out_as_at_the_counter(api, carol, offline_a, meal, issue):
    real = issue(meal)
    snap(api(carol))
    guesses = [item(made_up_code(), f"guess-{i}") for i in range(12)]
    results = upload(api(carol), *guesses, item(real.code, "real")).json()["results"]
    assert [r["result"] for r in results[:10]] == ["not_found"] * 10
    # Locked out after ten: the rest are not judged at all, the real one included.
    assert {r["result"] for r in results[10:]} == {"throttled"} and all(r["retry_after"] > 0 for r in results[10:])
    assert not Redemption.objects.exists() and not OfflineConflict.objects.exists()
    # The same lock-out as at the counter: the next scan online is refused too.
    online = api(carol).post("/api/v1/redeem/", {"code": real.code}, format="json")
    assert online.status_code == 429 and online.json()["result"] == "throttled"
    assert Event.objects.filter(type="attempt.refused").count() == 10


def test_a_device_that_held_no_snapshot_hears_the_same_for_real_and_made_up_codes(api, carol, olivia, offline_a, meal, issue):
    good, used = issue(meal), issue(meal)
    services.voucher_redeem(member=olivia, raw_code=used.code, store_id=offline_a.id)
    results = upload(api(carol), item(good.code, "a"), item(used.code, "b"), item(made_up_code(), "c"),
                     item("12", "d"), device="never-synced").json()["results"]
    assert [(r["result"], r["message"]) for r in results] == [("offline_cap", "超出离线额度")] * 4
    # The owner sees the real ones only; the made-up ones count as guesses.
    assert sorted(c.voucher_id for c in OfflineConflict.objects.all()) == sorted([good.pk, used.pk])
    carol.refresh_from_db()
    assert Attempt.objects.filter(staff=carol, result__in=["not_found", "invalid_code"]).count() == 2


def test_one_device_cannot_bury_the_owner_in_conflicts(api, carol, offline_a, meal, issue, settings):
    settings.OFFLINE_OPEN_CONFLICTS_MAX = 3
    vouchers = [issue(meal) for _ in range(5)]
    results = upload(api(carol), *[item(v.code, f"k{i}") for i, v in enumerate(vouchers)], device="no-snap")
    assert [r["result"] for r in results.json()["results"]] == ["offline_cap"] * 5
    assert OfflineConflict.objects.filter(device="no-snap").count() == 3
    assert Event.objects.filter(type="offline.conflict").count() == 3
    # Settling them makes room again.
    OfflineConflict.objects.update(settled_at=timezone.now())
    upload(api(carol), item(vouchers[0].code, "k-again"), device="no-snap")
    assert OfflineConflict.objects.filter(settled_at=None).count() == 1


def test_items_scanned_after_the_owner_turns_offline_off_are_conflicts(api, olivia, carol, offline_a, meal, issue):
    before, after = issue(meal), issue(meal)
    snap(api(carol))
    OfflineSnapshot.objects.update(issued_at=timezone.now() - dt.timedelta(minutes=30))
    switched = timezone.now() - dt.timedelta(minutes=10)
    api(olivia).patch(f"/api/v1/stores/{offline_a.id}/", {"offline_enabled": False}, format="json")
    StoreOfflineRule.objects.update(since=switched)
    results = upload(api(carol), item(before.code, "before", switched - dt.timedelta(minutes=5)),
                     item(after.code, "after", switched + dt.timedelta(minutes=1))).json()["results"]
    assert [r["result"] for r in results] == ["redeemed", "offline_disabled"]
    conflict = OfflineConflict.objects.get()
    assert (conflict.voucher, conflict.result) == (after, "offline_disabled")


def test_lowered_caps_hold_for_what_is_scanned_after_the_change(api, olivia, carol, offline_a, meal, issue):
    vouchers = [issue(meal) for _ in range(4)]  # 98.00 each; the snapshot's caps are 3 and 250.00
    snap(api(carol))
    OfflineSnapshot.objects.update(issued_at=timezone.now() - dt.timedelta(minutes=30))
    lowered = timezone.now() - dt.timedelta(minutes=10)
    api(olivia).patch(f"/api/v1/stores/{offline_a.id}/", {"offline_max_redemptions": 1}, format="json")
    StoreOfflineRule.objects.update(since=lowered)
    early = lowered - dt.timedelta(minutes=15)
    late = lowered + dt.timedelta(minutes=1)
    results = upload(api(carol), item(vouchers[0].code, "e1", early), item(vouchers[1].code, "l1", late),
                     item(vouchers[2].code, "l2", late)).json()["results"]
    # One taken before the change; after it, one is all the device may hold, and it has that one.
    assert [r["result"] for r in results] == ["redeemed", "offline_cap", "offline_cap"]


def test_the_admin_changing_the_caps_is_a_change_phones_are_held_to(client, olivia, offline_a):
    client.force_login(olivia.user)
    form = {"name": offline_a.name, "address": "", "offline_enabled": "on", "offline_max_redemptions": 1,
            "offline_max_value": "250.00", "offline_snapshot_hours": 12}
    response = client.post(f"/admin/staff/store/{offline_a.id}/change/", form)
    assert response.status_code == 302
    rule = StoreOfflineRule.objects.get(store=offline_a)
    assert (rule.enabled, rule.max_redemptions) == (True, 1)
    client.post(f"/admin/staff/store/{offline_a.id}/change/", form | {"name": "新名字"})
    assert StoreOfflineRule.objects.count() == 1  # a new name changes nothing offline


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_one_key_sent_at_once_from_two_devices_has_one_outcome(carol, meal, store_a):
    store_a.offline_enabled = True
    store_a.save()
    offline.snapshot(member=carol, store_id=store_a.id, device="held")
    scanned = timezone.now().isoformat()
    for round_ in range(20):
        voucher = services.voucher_issue(product=meal, order_no=f"TWO-{round_}")[0][0]
        key = f"same-{round_}"
        results = hammer(
            [carol],
            lambda i: {"device": ["held", "not-held"][i % 2], "items": [
                {"idempotency_key": key, "code": voucher.code, "store": store_a.id, "scanned_at": scanned}]},
            2, path="/api/v1/offline/upload/",
        )
        answers = {body["results"][0]["result"] for _, body in results}
        redeemed = Redemption.objects.filter(voucher=voucher).count()
        conflicts = OfflineConflict.objects.filter(idempotency_key=key).count()
        assert len(answers) == 1, (round_, answers)
        assert (redeemed, conflicts) in ((1, 0), (0, 1)), (round_, redeemed, conflicts)
        assert Event.objects.filter(type="offline.conflict", data__idempotency_key=key).count() == conflicts


# ---- lists that scale: the compact format, gzip, and a refresh that sends nothing unchanged ----

def compact_entries(body):
    """The compact list read back into the full format's entries, as the scanner reads it."""
    def moment(seconds):
        return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.timezone.utc)
    return {h: {"t": t, "uses_left": uses, "valid_from": moment(start), "valid_until": moment(end),
                "product": body["products"][product], "status": body["statuses"][status]}
            for h, t, uses, start, end, product, status in body["vouchers"]}


def test_the_compact_list_says_what_the_full_one_says_in_short_names(api, carol, offline_a, meal, wash, issue):
    issue(meal, valid_until=timezone.now().replace(microsecond=0) + dt.timedelta(days=30))
    issue(wash, valid_from=timezone.now().replace(microsecond=0) + dt.timedelta(days=1))
    issue(meal)
    full, compact = snap(api(carol)).json(), snap(api(carol), shape="compact").json()
    assert compact["names"] == {"h": 14, "t": 10}
    assert len(compact["products"]) == 2 and compact["statuses"] == ["active"]
    entries = compact_entries(compact)
    for code, voucher in ((v.code, v) for v in Voucher.objects.all()):
        entry = entries[slow_name(compact, code)[:14]]
        assert entry["t"] == hmac.new(bytes.fromhex(compact["key"]), voucher.token.encode(), hashlib.sha256).hexdigest()[:10]
        named_in_full = next(e for e in full["vouchers"] if e["h"] == slow_name(full, code))
        assert entry["product"] == named_in_full["product"] and entry["uses_left"] == named_in_full["uses_left"]
        for field in ("valid_from", "valid_until"):
            assert entry[field] == (named_in_full[field] and dt.datetime.fromisoformat(named_in_full[field]))
    assert {k: v for k, v in compact.items() if k not in ("format", "names", "products", "statuses", "vouchers",
                                                          "key", "issued_at", "expires_at")} == \
        {k: v for k, v in full.items() if k not in ("vouchers", "key", "issued_at", "expires_at")}


def test_the_list_is_gzipped_for_a_device_that_takes_gzip(api, carol, offline_a, meal, issue):
    for _ in range(20):
        issue(meal)
    plain = snap(api(carol), shape="compact")
    zipped = snap(api(carol), shape="compact", HTTP_ACCEPT_ENCODING="gzip, deflate, br")
    assert "Content-Encoding" not in plain and zipped["Content-Encoding"] == "gzip"
    assert "Accept-Encoding" in zipped["Vary"]
    body = json.loads(gzip.decompress(zipped.content))
    assert len(body["vouchers"]) == 20 and len(zipped.content) < len(plain.content)


def refresh(client, etag, **query):
    return snap(client, shape="compact", HTTP_IF_NONE_MATCH=etag, **query)


def test_an_unchanged_list_is_not_sent_again_yet_the_device_holds_it_from_now(api, carol, offline_a, meal, issue):
    vouchers = [issue(meal) for _ in range(3)]
    first = snap(api(carol), shape="compact")
    assert first["Cache-Control"] == "no-store"
    OfflineSnapshot.objects.update(issued_at=timezone.now() - dt.timedelta(hours=13),
                                   expires_at=timezone.now() - dt.timedelta(hours=1))
    again = refresh(api(carol), first["ETag"])
    assert again.status_code == 304 and again.content == b"" and again["ETag"] == first["ETag"]
    expires = dt.datetime.fromisoformat(again["Offline-Expires-At"])
    assert expires - dt.datetime.fromisoformat(again["Offline-Issued-At"]) == dt.timedelta(hours=12)
    assert OfflineSnapshot.objects.filter(staff=carol, device="phone-1", expires_at=expires).exists()
    # What the phone takes under the list it kept counts as held, as after a fresh list.
    [result] = upload(api(carol), item(vouchers[0].code, "after-304")).json()["results"]
    assert result["result"] == "redeemed"
    # Another format's version, or none, is a whole list.
    assert snap(api(carol), HTTP_IF_NONE_MATCH=first["ETag"]).status_code == 200
    assert refresh(api(carol), 'W/"compact.0000"').status_code == 200


def change_redeem(w):
    services.voucher_redeem(member=w["carol"], raw_code=w["vouchers"][0].code)


def change_reverse(w):
    redemption = services.voucher_redeem(member=w["carol"], raw_code=w["vouchers"][1].code).redemption
    w["refetch"]()
    services.voucher_redeem(member=w["carol"], raw_code=w["vouchers"][0].code)
    services.redemption_reverse(member=w["olivia"], redemption_id=redemption.pk)


def change_void(w):
    services.voucher_void(member=w["olivia"], voucher_id=w["vouchers"][0].pk)


def change_freeze(w):
    services.voucher_freeze(member=w["olivia"], voucher_id=w["vouchers"][0].pk)


def change_issue(w):
    w["issue"](w["meal"])


def change_caps(w):
    w["api"](w["olivia"]).patch(f"/api/v1/stores/{w['store'].id}/", {"offline_max_value": "99.00"}, format="json")


def change_price(w):
    Product.objects.filter(pk=w["meal"].pk).update(face_value=Decimal("88.00"))


@pytest.mark.parametrize("change", [change_redeem, change_reverse, change_void, change_freeze, change_issue,
                                    change_caps, change_price])
def test_any_change_the_phone_decides_by_sends_a_new_list(api, carol, olivia, offline_a, meal, issue, change):
    vouchers = [issue(meal) for _ in range(2)]
    etag = {}

    def refetch():
        etag["now"] = snap(api(carol), shape="compact")["ETag"]

    refetch()
    assert refresh(api(carol), etag["now"]).status_code == 304
    change({"carol": carol, "olivia": olivia, "vouchers": vouchers, "issue": issue, "meal": meal, "api": api,
            "store": offline_a, "refetch": refetch})
    again = refresh(api(carol), etag["now"])
    assert again.status_code == 200 and again["ETag"] != etag["now"]
    assert refresh(api(carol), again["ETag"]).status_code == 304
