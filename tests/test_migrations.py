"""Upgrades keep data: a database made by the first release (redemption 0006, staff 0001) migrates
forward with every row, id and link intact, and the database still enforces its rules."""

import datetime as dt
from decimal import Decimal

import pytest
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError

FIRST_RELEASE = [("redemption", "0006_redemption_value"), ("staff", "0001_initial")]
AFTER_MOVE = [("redemption", "0007_merchant_store_to_staff"), ("staff", "0003_merchant_store_tables")]

NOW = dt.datetime(2026, 11, 20, 4, 0, tzinfo=dt.timezone.utc)


def fill_first_release(apps):
    """One of everything, linked as the first release links them."""
    get = apps.get_model
    User = get("auth", "User")
    merchant = get("redemption", "Merchant").objects.create(name="鲜味小馆", time_zone="Asia/Shanghai")
    east, west = (get("redemption", "Store").objects.create(merchant=merchant, name=n) for n in ("东店", "西店"))
    owner = get("staff", "Membership").objects.create(
        user=User.objects.create(username="wang"), merchant=merchant, role="owner", display_name="王老板"
    )
    clerk = get("staff", "Membership").objects.create(
        user=User.objects.create(username="zhang"), merchant=merchant, role="clerk", display_name="小张"
    )
    clerk.stores.set([east])
    product = get("redemption", "Product").objects.create(
        merchant=merchant, name="洗车 5 次卡", face_value=Decimal("100.00"), uses_per_voucher=5
    )
    product.stores.set([east, west])
    voucher = get("redemption", "Voucher").objects.create(
        merchant=merchant, product=product, code="0821517038377979", token="t" * 24, channel="pdd",
        order_no="PDD-1", uses_total=5, uses_left=3, password="卡密-1",
    )
    redemption = get("redemption", "Redemption").objects.create(
        merchant=merchant, voucher=voucher, store=east, staff=clerk, uses=2, value=Decimal("40"), at=NOW,
        idempotency_key="k-1",
    )
    get("redemption", "Attempt").objects.create(
        merchant=merchant, staff=clerk, store=east, voucher=voucher, kind="redeem",
        input_masked="************7979", result="redeemed", at=NOW,
    )
    event = get("redemption", "Event").objects.create(
        merchant=merchant, store=east, type="redemption.created", data={"id": redemption.pk}, at=NOW
    )
    webhook = get("redemption", "Webhook").objects.create(
        merchant=merchant, url="https://erp.example.com/hook", events=["redemption.created"]
    )
    get("redemption", "Delivery").objects.create(webhook=webhook, event=event)
    return {"merchant": merchant.pk, "stores": {east.pk, west.pk}, "owner": owner.pk, "clerk": clerk.pk,
            "product": product.pk, "voucher": voucher.pk, "redemption": redemption.pk, "east": east.pk}


def counts(apps, models):
    return {label: apps.get_model(*label.split(".")).objects.count() for label in models}


def test_an_upgrade_from_the_first_release_keeps_every_row_and_link(migrator):
    old = migrator.apply_initial_migration(FIRST_RELEASE)
    ids = fill_first_release(old.apps)
    moved = ["Merchant", "Store"]
    kept = ["Product", "Voucher", "Redemption", "Attempt", "Event", "Webhook", "Delivery"]
    before = counts(old.apps, [f"redemption.{m}" for m in moved + kept] + ["staff.Membership"])
    ContentType = old.apps.get_model("contenttypes", "ContentType")
    merchant_type = ContentType.objects.get_for_model(old.apps.get_model("redemption", "Merchant")).pk

    new = migrator.apply_tested_migration(AFTER_MOVE)
    get = new.apps.get_model
    after = counts(new.apps, [f"staff.{m}" for m in moved] + [f"redemption.{m}" for m in kept] + ["staff.Membership"])
    assert list(after.values()) == list(before.values())

    merchant = get("staff", "Merchant").objects.get(pk=ids["merchant"])
    assert merchant.name == "鲜味小馆"
    assert set(merchant.stores.values_list("pk", flat=True)) == ids["stores"]
    clerk = get("staff", "Membership").objects.get(pk=ids["clerk"])
    assert list(clerk.stores.values_list("pk", flat=True)) == [ids["east"]]
    assert clerk.merchant_id == ids["merchant"]
    product = get("redemption", "Product").objects.get(pk=ids["product"])
    assert set(product.stores.values_list("pk", flat=True)) == ids["stores"]
    redemption = get("redemption", "Redemption").objects.select_related("store__merchant", "voucher").get(
        pk=ids["redemption"]
    )
    assert (redemption.store.name, redemption.store.merchant.name) == ("东店", "鲜味小馆")
    assert (redemption.voucher.uses_left, redemption.voucher.password) == (3, "卡密-1")
    # Admin history and permissions follow the model: its content type moved, with the same id.
    assert get("contenttypes", "ContentType").objects.get(pk=merchant_type).app_label == "staff"

    # The rules still hold in the database after the move.
    Voucher, Store = get("redemption", "Voucher"), get("staff", "Store")
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.filter(pk=ids["voucher"]).update(uses_left=-1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Voucher.objects.create(merchant=merchant, product=product, code="0821517038377979", token="u" * 24,
                               order_no="PDD-2", uses_total=1, uses_left=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        get("redemption", "Redemption").objects.create(
            merchant=merchant, voucher=redemption.voucher, store=redemption.store, staff=clerk, uses=1,
            at=NOW, idempotency_key="k-1",
        )
    # A store a redemption points at cannot vanish under it (PROTECT survived the move).
    with pytest.raises(ProtectedError), transaction.atomic():
        Store.objects.filter(pk=ids["east"]).delete()
    assert Store.objects.filter(pk=ids["east"]).exists()
    # New rows continue the ids: the sequences came along with the tables.
    assert Store.objects.create(merchant=merchant, name="南店").pk > max(ids["stores"])


def test_the_move_can_be_undone_and_done_again(migrator):
    old = migrator.apply_initial_migration(FIRST_RELEASE)
    ids = fill_first_release(old.apps)
    migrator.apply_tested_migration(AFTER_MOVE)
    back = migrator.apply_tested_migration(FIRST_RELEASE)
    assert back.apps.get_model("redemption", "Merchant").objects.get(pk=ids["merchant"]).name == "鲜味小馆"
    assert back.apps.get_model("redemption", "Store").objects.count() == 2


TOTALS = [("redemption", "0008_daily_totals_and_first_use")]


def utc(*args):
    return dt.datetime(*args, tzinfo=dt.timezone.utc)


def test_an_upgrade_fills_the_daily_totals_and_first_uses(migrator):
    old = migrator.apply_initial_migration(AFTER_MOVE)
    get = old.apps.get_model
    User, Merchant, Store, Membership = (get("auth", "User"), get("staff", "Merchant"), get("staff", "Store"),
                                         get("staff", "Membership"))
    Product, Voucher, Redemption = get("redemption", "Product"), get("redemption", "Voucher"), get("redemption", "Redemption")
    shanghai = Merchant.objects.create(name="鲜味小馆", time_zone="Asia/Shanghai")
    new_york = Merchant.objects.create(name="Deli", time_zone="America/New_York")
    east, deli = Store.objects.create(merchant=shanghai, name="东店"), Store.objects.create(merchant=new_york, name="Deli")
    zhang = Membership.objects.create(user=User.objects.create(username="zhang"), merchant=shanghai, display_name="小张")
    sam = Membership.objects.create(user=User.objects.create(username="sam"), merchant=new_york, display_name="Sam")

    def voucher(merchant, code, channel, uses):
        product = Product.objects.create(merchant=merchant, name=code, face_value=Decimal("100.00"), uses_per_voucher=uses)
        return Voucher.objects.create(merchant=merchant, product=product, code=code, token=code * 6, channel=channel,
                                      order_no=code, uses_total=uses, uses_left=0)

    def redemption(voucher, store, staff, at, uses=1, reversed_at=None):
        return Redemption.objects.create(merchant=voucher.merchant, voucher=voucher, store=store, staff=staff, uses=uses,
                                         value=Decimal("20") * uses, at=at, reversed_at=reversed_at)

    wash, meal, bagel = voucher(shanghai, "WASH", "pdd", 5), voucher(shanghai, "MEAL", "meituan", 1), voucher(new_york, "BAGL", "manual", 1)
    redemption(wash, east, zhang, utc(2026, 11, 20, 15, 59), uses=2)  # 23:59 on the 20th in Shanghai
    redemption(wash, east, zhang, utc(2026, 11, 20, 16, 1), reversed_at=utc(2026, 11, 21, 1))  # 00:01 on the 21st
    redemption(wash, east, zhang, utc(2026, 11, 21, 4))
    redemption(meal, east, zhang, utc(2026, 11, 21, 2), reversed_at=utc(2026, 11, 21, 3))
    redemption(bagel, deli, sam, utc(2026, 11, 21, 3))  # 22:00 on the 20th in New York

    new = migrator.apply_tested_migration(TOTALS)
    get = new.apps.get_model
    totals = {
        (t.merchant_id, t.day.isoformat(), t.channel): (t.redemptions, t.uses, t.value, t.reversed, t.reversed_uses,
                                                        t.reversed_value, t.first_at, t.last_at)
        for t in get("redemption", "DailyTotal").objects.all()
    }
    assert totals == {
        (shanghai.pk, "2026-11-20", "pdd"): (1, 2, 40, 0, 0, 0, utc(2026, 11, 20, 15, 59), utc(2026, 11, 20, 15, 59)),
        (shanghai.pk, "2026-11-21", "pdd"): (2, 2, 40, 1, 1, 20, utc(2026, 11, 21, 4), utc(2026, 11, 21, 4)),
        (shanghai.pk, "2026-11-21", "meituan"): (1, 1, 20, 1, 1, 20, None, None),
        (new_york.pk, "2026-11-20", "manual"): (1, 1, 20, 0, 0, 0, utc(2026, 11, 21, 3), utc(2026, 11, 21, 3)),
    }
    first_uses = dict(get("redemption", "Voucher").objects.values_list("code", "first_used_at"))
    assert first_uses == {"WASH": utc(2026, 11, 20, 15, 59), "MEAL": None, "BAGL": utc(2026, 11, 21, 3)}


BEFORE_ENCRYPTION = [("redemption", "0009_redemption_rules_orders_lookup")]
ENCRYPTED = [("redemption", "0010_back_office_history_and_card_passwords")]


def test_an_upgrade_encrypts_the_card_passwords_and_keeps_every_voucher(migrator):
    from redemption import cipher

    old = migrator.apply_initial_migration(BEFORE_ENCRYPTION)
    get = old.apps.get_model
    merchant = get("staff", "Merchant").objects.create(name="卡券小铺", time_zone="Asia/Shanghai")
    product = get("redemption", "Product").objects.create(merchant=merchant, name="视频月卡", face_value=Decimal("25.00"))
    Voucher = get("redemption", "Voucher")
    for n, password in enumerate(["卡密-一", "", "p@ss,word 3"]):
        Voucher.objects.create(merchant=merchant, product=product, code=f"CARD{n}", token=f"tok{n}" * 6, channel="other",
                               order_no="JD-1", line=n + 1, uses_total=1, uses_left=1, password=password)
    before = {v.code: (v.pk, v.password) for v in Voucher.objects.all()}

    new = migrator.apply_tested_migration(ENCRYPTED)
    after = {v.code: v for v in new.apps.get_model("redemption", "Voucher").objects.all()}
    assert {code: v.pk for code, v in after.items()} == {code: pk for code, (pk, _pw) in before.items()}
    for code, (_pk, password) in before.items():
        voucher = after[code]
        assert cipher.decrypt(voucher.password_ciphertext, voucher.password_key) == password
        assert password == "" or password not in voucher.password_ciphertext
    assert after["CARD1"].password_ciphertext == after["CARD1"].password_key == ""
    assert [f.name for f in after["CARD0"]._meta.fields if f.name == "password"] == []

    back = migrator.apply_tested_migration(BEFORE_ENCRYPTION)
    restored = dict(back.apps.get_model("redemption", "Voucher").objects.values_list("code", "password"))
    assert restored == {code: password for code, (_pk, password) in before.items()}


def test_an_upgrade_fills_the_rules_counters_and_the_order_totals(migrator):
    old = migrator.apply_initial_migration(TOTALS)
    get = old.apps.get_model
    User, Merchant, Store, Membership = (get("auth", "User"), get("staff", "Merchant"), get("staff", "Store"),
                                         get("staff", "Membership"))
    Product, Voucher, Redemption = get("redemption", "Product"), get("redemption", "Voucher"), get("redemption", "Redemption")
    shop = Merchant.objects.create(name="洗车行", time_zone="Asia/Shanghai")
    east = Store.objects.create(merchant=shop, name="东店")
    zhang = Membership.objects.create(user=User.objects.create(username="zhang"), merchant=shop, display_name="小张")
    wash = Product.objects.create(merchant=shop, name="洗车 5 次卡", face_value=Decimal("100.00"), uses_per_voucher=5)
    family = [Voucher.objects.create(merchant=shop, product=wash, code=f"FAM{n}", token=f"FAM{n}" * 6, channel="pdd",
                                     order_no="PDD-9", line=n, uses_total=5, uses_left=5 - n, buyer_phone="138 0013-8000")
              for n in (1, 2)]
    for at in (utc(2026, 11, 20, 15, 0), utc(2026, 11, 20, 17, 0), utc(2026, 11, 21, 1, 0)):  # 23:00 20th; 01:00, 09:00 21st
        Redemption.objects.create(merchant=shop, voucher=family[1], store=east, staff=zhang, uses=1, value=20, at=at)
    Redemption.objects.create(merchant=shop, voucher=family[0], store=east, staff=zhang, uses=1, value=20,
                              at=utc(2026, 11, 21, 2, 0))
    Redemption.objects.create(merchant=shop, voucher=family[0], store=east, staff=zhang, uses=1, value=20,
                              at=utc(2026, 11, 21, 3, 0), reversed_at=utc(2026, 11, 21, 4, 0))

    new = migrator.apply_tested_migration([("redemption", "0012_order_totals")])
    get = new.apps.get_model
    counters = {v.code: (v.day_uses, v.day_uses_on, v.last_used_at, v.buyer_phone)
                for v in get("redemption", "Voucher").objects.all()}
    assert counters == {
        "FAM1": (1, dt.date(2026, 11, 21), utc(2026, 11, 21, 2, 0), "13800138000"),
        "FAM2": (2, dt.date(2026, 11, 21), utc(2026, 11, 21, 1, 0), "13800138000"),
    }
    [total] = get("redemption", "OrderTotal").objects.all()
    assert (total.channel, total.order_no, total.vouchers, total.uses_total, total.uses_used, total.open) == (
        "pdd", "PDD-9", 2, 10, 3, 2)
    assert (total.redeemed_value, total.first_at, total.last_at) == (80, utc(2026, 11, 20, 15, 0), utc(2026, 11, 21, 2, 0))


SECOND_RELEASE = [("redemption", "0012_order_totals"), ("staff", "0004_store_offline_caps"),
                  ("authtoken", "0004_alter_tokenproxy_options"), ("knox", "0009_extend_authtoken_field")]
THIRD_RELEASE = [("redemption", "0015_retention_refusal_totals"), ("staff", "0008_merchant_offline_salt")]


def test_an_upgrade_from_the_second_release_hashes_tokens_in_place_and_keeps_every_row(migrator):
    from staff.auth import member_for_token

    old = migrator.apply_initial_migration(SECOND_RELEASE)
    get = old.apps.get_model
    User, Merchant, Store, Membership = (get("auth", "User"), get("staff", "Merchant"), get("staff", "Store"),
                                         get("staff", "Membership"))
    shop = Merchant.objects.create(name="洗车行", time_zone="Asia/Shanghai")
    east = Store.objects.create(merchant=shop, name="东店", offline_enabled=True)
    zhang = Membership.objects.create(user=User.objects.create(username="zhang"), merchant=shop, display_name="小张")
    wang = Membership.objects.create(user=User.objects.create(username="wang"), merchant=shop, display_name="王老板",
                                     role="owner")
    wash = get("redemption", "Product").objects.create(merchant=shop, name="洗车 5 次卡", face_value=Decimal("100.00"),
                                                       uses_per_voucher=5)
    get("redemption", "Voucher").objects.create(merchant=shop, product=wash, code="0821517038377979", token="t" * 24,
                                                channel="pdd", order_no="PDD-1", uses_total=5, uses_left=5)
    Token = get("authtoken", "Token")
    keys = {m.pk: Token.objects.create(key=f"{n:040x}", user=m.user).key for n, m in enumerate((zhang, wang), 7)}
    models = ["staff.Merchant", "staff.Store", "staff.Membership", "redemption.Product", "redemption.Voucher"]
    before = counts(old.apps, models)

    new = migrator.apply_tested_migration(THIRD_RELEASE)
    get = new.apps.get_model
    assert counts(new.apps, models) == before
    # No signed-in phone is signed out: each old token signs in as it did, now as a device of its own.
    for member_id, key in keys.items():
        user, member, _token = member_for_token(key)
        assert member.pk == member_id
    devices = get("staff", "Device").objects.all()
    assert sorted((d.member_id, d.how) for d in devices) == sorted((m, "token") for m in keys)
    # ... and no table holds a token that would sign anyone in.
    assert not get("authtoken", "Token").objects.exists()
    stored = {v for row in get("knox", "AuthToken").objects.values_list("digest", "token_key") for v in row}
    assert not set(keys.values()) & stored
    assert get("staff", "Store").objects.get(pk=east.pk).offline_enabled
    assert get("redemption", "Voucher").objects.get().offline_digest is None  # derived when first needed


PREVIOUS_RELEASE = [("redemption", "0012_order_totals"), ("staff", "0004_store_offline_caps")]
RETENTION = [("redemption", "0015_retention_refusal_totals")]


def test_an_upgrade_for_retention_keeps_every_attempt_event_and_phone(migrator):
    from django.db import connection

    old = migrator.apply_initial_migration(PREVIOUS_RELEASE)
    get = old.apps.get_model
    shop = get("staff", "Merchant").objects.create(name="洗车行", time_zone="Asia/Shanghai")
    east = get("staff", "Store").objects.create(merchant=shop, name="东店")
    zhang = get("staff", "Membership").objects.create(
        user=get("auth", "User").objects.create(username="zhang"), merchant=shop, display_name="小张")
    wash = get("redemption", "Product").objects.create(merchant=shop, name="洗车卡", face_value=Decimal("90.00"))
    voucher = get("redemption", "Voucher").objects.create(
        merchant=shop, product=wash, code="WASH1", token="w" * 24, order_no="PDD-1", uses_total=1, uses_left=0,
        buyer_phone="13800138000", voided_at=utc(2025, 1, 1), state="voided")
    for result in ("redeemed", "not_found", "redeemable", "already_redeemed"):
        get("redemption", "Attempt").objects.create(merchant=shop, staff=zhang, store=east, voucher=voucher,
                                                    kind="redeem", input_masked="****", result=result, at=utc(2025, 1, 1))
    event = get("redemption", "Event").objects.create(merchant=shop, type="redemption.created", data={},
                                                      at=utc(2025, 1, 1), fanned_out=True)
    hook = get("redemption", "Webhook").objects.create(merchant=shop, url="https://erp.example.com/hook", events=[])
    get("redemption", "Delivery").objects.create(webhook=hook, event=event, delivered_at=utc(2025, 1, 1))
    kept = ["Voucher", "Attempt", "Event", "Delivery"]
    before = counts(old.apps, [f"redemption.{m}" for m in kept])

    new = migrator.apply_tested_migration(RETENTION)
    get = new.apps.get_model
    assert counts(new.apps, [f"redemption.{m}" for m in kept]) == before
    assert get("redemption", "Voucher").objects.get(pk=voucher.pk).buyer_phone == "13800138000"
    # Nothing is pruned yet, so nothing is folded: the totals start empty and the stats still
    # count every refusal from the attempts themselves.
    RefusalTotal = get("redemption", "RefusalTotal")
    assert not RefusalTotal.objects.exists()
    RefusalTotal.objects.create(merchant_id=shop.pk, day=dt.date(2025, 1, 1), store=None, staff_id=zhang.pk, refused=2)
    with connection.cursor() as cursor:
        indexes = connection.introspection.get_constraints(cursor, "redemption_attempt")
    assert indexes["attempt_prunable"]["columns"] == ["at"]
