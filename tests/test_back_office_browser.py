"""The owner's evening, from the dashboard alone, in Chromium: export today's redeemed Pinduoduo
orders, read the day's net per platform, and print one disputed voucher's history."""

import csv
import io

import pytest

from tests.test_dashboard_browser import CHROMIUM, FLAGS, PASSWORD, app_server, call

pytestmark = pytest.mark.browser


def seed(base):
    """A store and its clerk; two Pinduoduo orders and a Taobao one, one of each PDD redeemed, one
    Taobao redemption reversed."""
    owner = call(base, "/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD})["token"]
    store = call(base, "/api/v1/stores/", {"name": "东门店"}, owner)["id"]
    call(base, "/api/v1/staff/", {"username": "carol", "password": PASSWORD, "display_name": "小王",
                                  "role": "clerk", "stores": [store]}, owner)
    meal = call(base, "/api/v1/products/", {"name": "双人套餐券", "face_value": "98.00"}, owner)["id"]
    clerk = call(base, "/api/v1/auth/token/", {"username": "carol", "password": PASSWORD})["token"]

    def issued(order_no, channel):
        return call(base, "/api/v1/vouchers/", {"product": meal, "order_no": order_no, "channel": channel}, owner)["vouchers"][0]

    done = issued("PDD-240601-8831", "pdd")
    issued("PDD-240601-0002", "pdd")
    taobao = issued("TB-7781", "taobao")
    call(base, "/api/v1/check/", {"code": done["code"]}, clerk)
    call(base, "/api/v1/redeem/", {"code": done["code"]}, clerk)
    call(base, "/api/v1/redeem/", {"code": done["code"]}, clerk)  # refused: already redeemed
    undone = call(base, "/api/v1/redeem/", {"code": taobao["code"]}, clerk)["redemption"]["id"]
    call(base, f"/api/v1/redemptions/{undone}/reverse/", {"reason": "点错了"}, owner)
    return {"disputed": done}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory, "backoffice") as base:
        yield {"base": base, **seed(base)}


@pytest.fixture(scope="module", params=[{"width": 390, "height": 844}, {"width": 1280, "height": 800}],
                ids=["phone", "laptop"])
def page(request, server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        context = browser.new_context(viewport=request.param, locale="zh-CN", accept_downloads=True)
        context.set_default_timeout(10_000)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        base = server["base"]
        page.goto(base + "/dashboard/")
        page.fill("#id_username", "olivia")
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(base + "/dashboard/")
        yield page
        browser.close()


def test_the_owner_exports_todays_redeemed_pinduoduo_orders(page):
    page.click(".tabs [data-tab=orders]")
    page.wait_for_selector("#orders-table tbody tr")
    page.select_option("#orders-channel", "pdd")
    page.select_option("#orders-status", "redeemed")
    page.wait_for_function("document.getElementById('orders-count').textContent.includes('1')")
    assert "PDD-240601-8831" in page.inner_text("#orders-table") and "TB-7781" not in page.inner_text("#orders-table")
    with page.expect_download() as download:
        page.click("#orders-export")
    with open(download.value.path(), encoding="utf-8-sig", newline="") as saved:
        header, *rows = list(csv.reader(saved))
    assert header[0] == "订单号" and [(r[0], r[1], r[5]) for r in rows] == [("PDD-240601-8831", "拼多多", "已核销")]
    assert page.errors == []


def test_the_owner_reads_the_days_net_per_platform(page):
    page.click(".tabs [data-tab=statement]")
    page.wait_for_selector("#statement-table tbody tr:nth-child(3)")
    rows = [r.split("\t") for r in page.inner_text("#statement-table tbody").splitlines()]
    by_channel = {r[1]: r for r in rows}
    assert by_channel["拼多多"][-1] == "¥98.00"
    assert by_channel["淘宝"][-1] == "¥0.00" and by_channel["淘宝"][-2] == "¥98.00"
    assert by_channel["合计"][-1] == "¥98.00"
    with page.expect_download() as download:
        page.click("#statement-csv")
    text = open(download.value.path(), encoding="utf-8-sig", newline="").read()
    header, *lines = list(csv.reader(io.StringIO(text)))
    assert header[-1] == "净额" and sorted(line[-1] for line in lines) == ["0.00", "98.00"]


def test_the_owner_prints_the_history_of_a_disputed_voucher(page, server):
    code = server["disputed"]["code"]
    page.click(".tabs [data-tab=history]")
    page.fill("#history-q", code[-6:])
    page.click("#history-search button")
    page.click("#history-table a.link-btn")
    page.wait_for_selector("table.events")
    text = page.inner_text("table.events")
    for words in ("发券", "到店验券", "已核销", "核销被拒", "东门店", "小王", "PDD-240601-8831"):
        assert words in text
    assert code not in page.content()
    page.emulate_media(media="print")
    assert page.is_hidden(".actions") and page.is_visible("table.events")
    assert len(page.pdf(format="A4")) > 1000
    page.emulate_media(media="screen")
    page.go_back()
    assert page.errors == []
