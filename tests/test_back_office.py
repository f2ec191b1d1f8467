"""The owner's back office: orders (核销回传), the daily statement (对账单), a voucher's history and
card passwords that never leak."""

import csv
import datetime as dt
import io
from decimal import Decimal

import pytest
from django.test import Client
from django.utils import timezone

from redemption import cipher, hotpath, services
from redemption.models import Voucher, VoucherLog
from redemption.reasons import Refusal
from tests.conftest import PASSWORD


def redeem(client, code, **extra):
    return client.post("/api/v1/redeem/", {"code": code, **extra}, format="json").json()


def order(product, order_no, channel="pdd", quantity=1):
    vouchers, _ = services.voucher_issue(product=product, order_no=order_no, channel=channel, quantity=quantity)
    return vouchers


def excel_rows(response):
    """The CSV as Excel in China reads it: UTF-8 with a BOM, then rows."""
    raw = b"".join(response.streaming_content)
    assert raw.startswith(b"\xef\xbb\xbf")
    return list(csv.reader(io.StringIO(raw.decode("utf-8-sig"), newline="")))


def today():
    return timezone.localdate().isoformat()


# ---- orders ----


def test_orders_say_how_far_each_order_is_redeemed(api, olivia, carol, meal, wash):
    unused = order(meal, "PDD-UNUSED")
    two_meals = order(meal, "PDD-TWO", quantity=2)
    passes = order(wash, "TB-PASS", channel="taobao")
    voided = order(meal, "YZ-REFUND", channel="youzan")
    redeem(api(carol), two_meals[0].code)
    redeem(api(carol), passes[0].code, uses=3)
    services.voucher_void(member=olivia, voucher_id=voided[0].id, reason="退款")
    rows = {r["order_no"]: r for r in api(olivia).get("/api/v1/orders/").json()["results"]}
    assert {k: r["status"] for k, r in rows.items()} == {
        "PDD-UNUSED": "unused", "PDD-TWO": "partly", "TB-PASS": "redeemed", "YZ-REFUND": "voided"}
    two = rows["PDD-TWO"]
    assert (two["channel"], two["vouchers"], two["uses_total"], two["uses_used"]) == ("pdd", 2, 2, 1)
    assert (two["face_value_total"], two["redeemed_value"]) == ("196.00", "98.00")
    assert two["first_redeemed_at"] == two["last_redeemed_at"] is not None
    assert rows["TB-PASS"]["redeemed_value"] == "90.00"
    assert rows["PDD-UNUSED"]["last_redeemed_at"] is None and unused


def test_a_reissued_voucher_counts_once_in_its_order(api, olivia, carol, wash):
    pass_ = order(wash, "PDD-RE")[0]
    redeem(api(carol), pass_.code)
    services.voucher_reissue(member=olivia, voucher_id=pass_.id)
    row = api(olivia).get("/api/v1/orders/", {"q": "PDD-RE"}).json()["results"][0]
    assert (row["vouchers"], row["uses_total"], row["uses_used"], row["status"]) == (1, 3, 1, "partly")


def test_orders_filter_by_channel_status_last_redemption_day_and_search(api, olivia, carol, meal):
    pdd, taobao, old = order(meal, "PDD-1")[0], order(meal, "TB-1", channel="taobao")[0], order(meal, "PDD-OLD")[0]
    redeem(api(carol), pdd.code)
    redeem(api(carol), taobao.code)
    last_week = timezone.now() - dt.timedelta(days=7)
    services.voucher_redeem(member=carol, raw_code=old.code)
    old.redemptions.update(at=last_week)
    hotpath.recount_orders(old.merchant_id, [(old.channel, old.order_no)])  # the order as of last week
    client = api(olivia)

    def numbers(**query):
        response = client.get("/api/v1/orders/", query)
        assert response.status_code == 200, response.content
        return sorted(r["order_no"] for r in response.json()["results"])

    assert numbers(channel="pdd", status="redeemed", **{"from": today(), "to": today()}) == ["PDD-1"]
    assert numbers(channel="pdd") == ["PDD-1", "PDD-OLD"]
    assert numbers(**{"to": (timezone.localdate() - dt.timedelta(days=1)).isoformat()}) == ["PDD-OLD"]
    assert numbers(q=taobao.code[-6:]) == ["TB-1"]
    assert numbers(q="PDD-1") == ["PDD-1"]
    assert numbers(q="nothing-like-it") == []


def test_an_order_is_listed_by_the_day_of_its_last_standing_redemption(api, olivia, carol, wash):
    pass_ = order(wash, "PDD-LATE")[0]
    first = services.voucher_redeem(member=carol, raw_code=pass_.code).redemption
    first.__class__.objects.filter(pk=first.pk).update(at=timezone.now() - dt.timedelta(days=3))
    hotpath.recount_orders(pass_.merchant_id, [(pass_.channel, pass_.order_no)])
    services.voucher_redeem(member=carol, raw_code=pass_.code)
    three_days_ago = (timezone.localdate() - dt.timedelta(days=3)).isoformat()
    client = api(olivia)
    assert client.get("/api/v1/orders/", {"from": three_days_ago, "to": three_days_ago}).json()["count"] == 0
    assert client.get("/api/v1/orders/", {"from": today(), "to": today()}).json()["count"] == 1


def test_orders_come_in_pages_newest_redemption_first(api, olivia, carol, meal):
    for n in range(5):
        redeem(api(carol), order(meal, f"PDD-{n}")[0].code)
    client = api(olivia)
    first = client.get("/api/v1/orders/", {"page_size": 2}).json()
    second = client.get(first["next"]).json()
    assert first["count"] == 5 and [r["order_no"] for r in first["results"]] == ["PDD-4", "PDD-3"]
    assert [r["order_no"] for r in second["results"]] == ["PDD-2", "PDD-1"]
    assert client.get("/api/v1/orders/", {"page": 9}).status_code == 404


def test_a_manager_sees_the_orders_redeemed_in_their_stores(api, mike, carol, dave, meal):
    redeem(api(carol), order(meal, "PDD-A")[0].code)
    redeem(api(dave), order(meal, "PDD-B")[0].code)
    order(meal, "PDD-NONE")
    assert [r["order_no"] for r in api(mike).get("/api/v1/orders/").json()["results"]] == ["PDD-A"]
    assert api(carol).get("/api/v1/orders/").status_code == 403


@pytest.mark.parametrize("query", [{"channel": "fax"}, {"status": "lost"}, {"from": "2026-02-30"},
                                   {"from": "2026-05-02", "to": "2026-05-01"}, {"q": "x" * 65}, {"q": "a\x00b"}])
def test_bad_order_filters_are_a_clear_400(api, olivia, query):
    for path in ("/api/v1/orders/", "/api/v1/orders/export.csv"):
        response = api(olivia).get(path, query)
        assert response.status_code == 400 and response.json()["result"] == "invalid_request"


def test_todays_redeemed_pinduoduo_orders_export_for_the_platform(api, olivia, carol, meal):
    done = order(meal, "240601-553311")[0]
    redeem(api(carol), done.code)
    order(meal, "240601-000000")
    redeem(api(carol), order(meal, "TB-9", channel="taobao")[0].code)
    response = api(olivia).get("/api/v1/orders/export.csv",
                               {"channel": "pdd", "status": "redeemed", "from": today(), "to": today()})
    assert response.status_code == 200 and response["Content-Type"].startswith("text/csv")
    header, *rows = excel_rows(response)
    assert header[:6] == ["订单号", "渠道", "券数", "次数", "已用次数", "状态"]
    assert [(r[0], r[1], r[5], r[8], r[9]) for r in rows] == [("240601-553311", "拼多多", "已核销", "98.00", "98.00")]


# ---- the daily statement ----


def test_the_statement_gives_each_day_and_channel_with_reversals_and_net(api, olivia, carol, dave, meal, wash):
    redeem(api(carol), order(meal, "PDD-1")[0].code)
    rid = redeem(api(dave), order(meal, "PDD-2")[0].code)["redemption"]["id"]
    api(olivia).post(f"/api/v1/redemptions/{rid}/reverse/", {"reason": "点错了"}, format="json")
    redeem(api(carol), order(wash, "TB-1", channel="taobao")[0].code, uses=2)
    rows = api(olivia).get("/api/v1/stats/daily/").json()
    assert rows == [
        {"day": today(), "channel": "pdd", "redemptions": 2, "uses": 2, "value": "196.00", "reversed": 1,
         "reversed_value": "98.00", "net_value": "98.00"},
        {"day": today(), "channel": "taobao", "redemptions": 1, "uses": 2, "value": "60.00", "reversed": 0,
         "reversed_value": "0.00", "net_value": "60.00"},
    ]
    assert [r["channel"] for r in api(olivia).get("/api/v1/stats/daily/", {"channel": "taobao"}).json()] == ["taobao"]


def test_a_manager_reads_the_statement_of_their_stores(api, olivia, mike, carol, dave, meal, store_b):
    redeem(api(carol), order(meal, "PDD-1")[0].code)
    redeem(api(dave), order(meal, "PDD-2")[0].code)
    assert [r["redemptions"] for r in api(mike).get("/api/v1/stats/daily/").json()] == [1]
    assert api(mike).get("/api/v1/stats/daily/", {"store": store_b.id}).json() == []
    assert [r["redemptions"] for r in api(olivia).get("/api/v1/stats/daily/", {"store": store_b.id}).json()] == [1]


def test_the_statement_adds_up_to_the_redemption_export_of_the_same_days(api, olivia, carol, dave, meal, wash):
    for n in range(4):
        redeem(api(carol if n % 2 else dave), order(meal, f"PDD-{n}")[0].code)
    redeem(api(carol), order(wash, "TB-1", channel="taobao")[0].code, uses=3)
    rid = redeem(api(dave), order(meal, "YZ-1", channel="youzan")[0].code)["redemption"]["id"]
    api(olivia).post(f"/api/v1/redemptions/{rid}/reverse/", {}, format="json")
    yesterday = (timezone.localdate() - dt.timedelta(days=1)).isoformat()
    query = {"from": yesterday, "to": today()}
    _header, *exported = excel_rows(api(olivia).get("/api/v1/redemptions/export.csv", query))
    header, *statement = excel_rows(api(olivia).get("/api/v1/stats/daily.csv", query))
    assert header == ["日期", "渠道", "核销笔数", "核销次数", "核销金额", "撤销笔数", "撤销金额", "净额"]
    assert sum(int(r[2]) for r in statement) == len(exported)
    assert sum(int(r[3]) for r in statement) == sum(int(r[6]) for r in exported)
    assert sum(Decimal(r[4]) for r in statement) == sum(Decimal(r[7]) for r in exported)
    assert sum(int(r[5]) for r in statement) == sum(r[8] == "是" for r in exported)
    assert sum(Decimal(r[6]) for r in statement) == sum(Decimal(r[7]) for r in exported if r[8] == "是")
    assert sum(Decimal(r[7]) for r in statement) == sum(Decimal(r[7]) for r in exported if r[8] == "否")


def test_a_day_with_nothing_has_no_rows_and_bad_ranges_are_refused(api, olivia):
    assert api(olivia).get("/api/v1/stats/daily/", {"from": "2024-01-01", "to": "2024-01-31"}).json() == []
    for query in ({"from": "2026-13-01"}, {"channel": "fax"}, {"store": "A"}, {"from": "2020-01-01", "to": "2024-01-01"}):
        for path in ("/api/v1/stats/daily/", "/api/v1/stats/daily.csv"):
            assert api(olivia).get(path, query).status_code == 400


# ---- a voucher's history ----


def test_the_history_tells_everything_that_happened_oldest_first(api, olivia, carol, wash, store_a):
    pass_ = order(wash, "PDD-77889900")[0]
    Client().get(f"/v/{pass_.token}/")
    Client().get(f"/v/{pass_.token}/")
    clerk = api(carol)
    clerk.post("/api/v1/check/", {"code": pass_.code}, format="json")
    rid = redeem(clerk, pass_.code)["redemption"]["id"]
    api(olivia).post(f"/api/v1/redemptions/{rid}/reverse/", {"reason": "点错了"}, format="json")
    redeem(clerk, pass_.code, uses=5)  # more than are left: refused
    services.voucher_freeze(member=olivia, voucher_id=pass_.id)
    redeem(clerk, pass_.code)  # frozen: refused
    services.voucher_freeze(member=olivia, voucher_id=pass_.id, frozen=False)
    api(olivia).post(f"/api/v1/vouchers/{pass_.id}/reveal/")
    new = api(olivia).post(f"/api/v1/vouchers/{pass_.id}/reissue/", {"reason": "买家说没收到"}, format="json").json()

    body = api(olivia).get(f"/api/v1/vouchers/{pass_.id}/history/").json()
    assert body["voucher"]["status"] == "voided" and body["voucher"]["code_masked"] == "****" + pass_.code[-4:]
    types = [e["type"] for e in body["events"]]
    assert types == ["issued", "viewed", "checked", "redeemed", "reversed", "refused", "frozen", "refused",
                     "unfrozen", "revealed", "voided", "reissued"]
    events = {e["type"]: e for e in body["events"]}
    assert (events["issued"]["channel"], events["issued"]["order_no"]) == ("pdd", "PDD-77889900")
    assert events["viewed"]["count"] == 2 and events["viewed"]["last_at"] >= events["viewed"]["at"]
    assert events["redeemed"]["staff"]["display_name"] == "Carol" and events["redeemed"]["store"]["id"] == store_a.id
    assert (events["reversed"]["staff"]["display_name"], events["reversed"]["reason"]) == ("Olivia", "点错了")
    refusals = [(e["reason"], e["kind"], e["staff"]["display_name"]) for e in body["events"] if e["type"] == "refused"]
    assert refusals == [("insufficient_uses", "redeem", "Carol"), ("frozen", "redeem", "Carol")]
    assert events["revealed"]["staff"]["display_name"] == "Olivia"
    assert events["reissued"]["new_code_masked"] == new["new_voucher"]["code_masked"]
    assert events["voided"]["reason"] == "买家说没收到"
    text = str(body)
    assert pass_.code not in text and new["new_voucher"]["code"] not in text


def test_the_buyer_page_counts_its_openings_in_one_update(db, meal, issue, django_assert_max_num_queries):
    voucher = issue(meal)
    Client().get(f"/v/{voucher.token}/")
    voucher.refresh_from_db()
    first = voucher.first_viewed_at
    assert voucher.view_count == 1 and first == voucher.last_viewed_at
    services.voucher_viewed(voucher.pk, first + dt.timedelta(hours=2))
    voucher.refresh_from_db()
    assert (voucher.view_count, voucher.first_viewed_at) == (2, first)
    assert voucher.last_viewed_at == first + dt.timedelta(hours=2)
    with django_assert_max_num_queries(1):
        services.voucher_viewed(voucher.pk)
    Client().head(f"/v/{voucher.token}/")
    Client().get(f"/v/{voucher.token}/status.json")
    voucher.refresh_from_db()
    assert voucher.view_count == 3


def test_a_voucher_voided_before_the_log_existed_still_shows_its_void(api, olivia, meal, issue):
    voucher = issue(meal)
    Voucher.objects.filter(pk=voucher.pk).update(state=Voucher.State.VOIDED, voided_at=timezone.now(), void_reason="旧数据")
    events = api(olivia).get(f"/api/v1/vouchers/{voucher.id}/history/").json()["events"]
    assert [(e["type"], e.get("reason"), e.get("staff")) for e in events][-1] == ("voided", "旧数据", None)


def test_the_printable_history_is_for_the_owner(client, olivia, carol, mike, meal, issue, oscar):
    voucher = issue(meal)
    services.voucher_redeem(member=carol, raw_code=voucher.code)
    page = f"/dashboard/vouchers/{voucher.id}/history/"
    assert client.get(page).status_code == 302
    client.login(username="mike", password=PASSWORD)
    assert client.get(page).status_code == 403
    client.login(username="oscar", password=PASSWORD)
    assert client.get(page).status_code == 404
    client.login(username="olivia", password=PASSWORD)
    response = client.get(page)
    html = response.content.decode()
    assert response.status_code == 200 and "券记录" in html and "核销" in html and "Carol" in html and "A 人民路店" in html
    assert voucher.code not in html and "****" + voucher.code[-4:] in html
    assert "dashboard/history.css" in html
    from django.contrib.staticfiles import finders

    with open(finders.find("dashboard/history.css"), encoding="utf-8") as sheet:
        assert "@media print" in sheet.read()


# ---- card passwords ----


def import_cards(api, owner, product, text="code,password,order_no\nCARD-7001,s3cret-pw-1,JD-1\n"):
    from django.core.files.uploadedfile import SimpleUploadedFile

    upload = SimpleUploadedFile("cards.csv", text.encode(), content_type="text/csv")
    response = api(owner).post("/api/v1/vouchers/import/", {"product": product.id, "file": upload}, format="multipart")
    assert response.status_code == 201, response.content
    return Voucher.objects.latest("id")


def test_card_passwords_are_kept_encrypted_and_revealed_only_to_the_owner(api, olivia, mike, carol, oscar, meal):
    card = import_cards(api, olivia, meal)
    assert "s3cret" not in card.password_ciphertext and card.password_key == cipher.keys()[0].id
    response = api(olivia).post(f"/api/v1/vouchers/{card.id}/reveal/")
    assert response.status_code == 200 and response.json() == {"code": "CARD7001", "password": "s3cret-pw-1"}
    assert response["Cache-Control"] == "no-store"
    assert api(mike).post(f"/api/v1/vouchers/{card.id}/reveal/").status_code == 403
    assert api(carol).post(f"/api/v1/vouchers/{card.id}/reveal/").status_code == 403
    assert api(oscar).post(f"/api/v1/vouchers/{card.id}/reveal/").status_code == 404
    log = VoucherLog.objects.get(voucher=card)
    assert (log.action, log.staff_id) == ("revealed", olivia.id)


def test_no_list_export_log_admin_page_or_event_ever_shows_a_card_password(api, client, olivia, carol, meal, caplog):
    card = import_cards(api, olivia, meal)
    caplog.set_level("DEBUG")
    owner = api(olivia)
    services.voucher_redeem(member=carol, raw_code=card.code)
    owner.post(f"/api/v1/vouchers/{card.id}/reveal/")
    seen = [
        owner.get("/api/v1/vouchers/").content,
        owner.get("/api/v1/vouchers/", {"q": "7001"}).content,
        owner.get("/api/v1/redemptions/").content,
        owner.get("/api/v1/orders/").content,
        owner.get(f"/api/v1/vouchers/{card.id}/history/").content,
        b"".join(owner.get("/api/v1/redemptions/export.csv").streaming_content),
        b"".join(owner.get("/api/v1/orders/export.csv").streaming_content),
    ]
    client.login(username="olivia", password=PASSWORD)
    for url in (f"/admin/redemption/voucher/{card.id}/change/", "/admin/redemption/voucher/",
                "/admin/redemption/redemption/", f"/dashboard/vouchers/{card.id}/history/"):
        response = client.get(url)
        assert response.status_code == 200, url
        seen.append(response.content)
    from redemption.models import Event
    seen += [str(e.data).encode() for e in Event.objects.all()]
    seen.append(caplog.text.encode())
    for text in seen:
        assert b"s3cret-pw-1" not in text and b"CARD7001" not in text


def test_keys_rotate_the_first_encrypts_and_every_one_decrypts(settings, api, olivia, meal):
    import base64
    import os

    card = import_cards(api, olivia, meal)
    derived_id = card.password_key
    settings.FIELD_ENCRYPTION_KEYS = [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    assert not cipher.key_is_derived() and cipher.keys()[0].id != derived_id
    assert api(olivia).post(f"/api/v1/vouchers/{card.id}/reveal/").json()["password"] == "s3cret-pw-1"
    assert services.passwords_reencrypt() == 1
    card.refresh_from_db()
    assert card.password_key == cipher.keys()[0].id
    settings.FIELD_ENCRYPTION_KEYS = settings.FIELD_ENCRYPTION_KEYS + [base64.urlsafe_b64encode(os.urandom(32)).decode()]
    assert api(olivia).post(f"/api/v1/vouchers/{card.id}/reveal/").json()["password"] == "s3cret-pw-1"
    settings.SECRET_KEY = "another-secret-" + "y" * 40
    assert cipher.decrypt(card.password_ciphertext, card.password_key) == "s3cret-pw-1"
    with pytest.raises(cipher.UnknownKey):
        cipher.decrypt("AAAA", "feedbeef")


# ---- reissue ----


def test_reissuing_a_used_up_voucher_is_refused_with_its_true_status(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    services.voucher_redeem(member=carol, raw_code=voucher.code)
    response = api(olivia).post(f"/api/v1/vouchers/{voucher.id}/reissue/", {}, format="json")
    assert response.status_code == 409 and response.json()["result"] == "already_redeemed"
    assert response.json()["voucher"]["status"] == "redeemed"
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE and not VoucherLog.objects.filter(voucher=voucher).exists()
    with pytest.raises(Refusal):
        services.voucher_reissue(member=olivia, voucher_id=voucher.id)
