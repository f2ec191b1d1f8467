"""The owner issues vouchers and acts on them from the dashboard alone, in Chromium, at phone and
laptop size: one order's codes with their QR and buyer link, a platform's order file and its
delivery file, and 作废 / 冻结 / 解冻 / 补发 on the voucher tab, each confirmed first."""

import csv
import json
import os
import re
import urllib.error
import urllib.request

import pytest

from tests.test_dashboard_browser import CHROMIUM, FLAGS, PASSWORD, app_server, call

pytestmark = pytest.mark.browser

SIZES = {"phone": {"width": 390, "height": 844}, "laptop": {"width": 1280, "height": 800}}
GROUPED = re.compile(r"^\d{4} \d{4} \d{4} \d{4}$")


def seed(base):
    owner = call(base, "/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD})["token"]
    east = call(base, "/api/v1/stores/", {"name": "东门店"}, owner)["id"]
    for username, role in (("carol", "clerk"), ("mike", "manager")):
        call(base, "/api/v1/staff/", {"username": username, "password": PASSWORD, "display_name": username,
                                      "role": role, "stores": [east]}, owner)
    meal = call(base, "/api/v1/products/", {"name": "双人套餐券", "face_value": "98.00"}, owner)["id"]
    clerk = call(base, "/api/v1/auth/token/", {"username": "carol", "password": PASSWORD})["token"]
    manager = call(base, "/api/v1/auth/token/", {"username": "mike", "password": PASSWORD})["token"]
    return {"owner": owner, "clerk": clerk, "manager": manager, "meal": meal}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory, "issuing") as base:
        yield {"base": base, **seed(base)}


@pytest.fixture(scope="module")
def chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def signed_in(chromium, server, size, username="olivia", where="/dashboard/"):
    context = chromium.new_context(viewport=SIZES[size], locale="zh-CN", accept_downloads=True,
                                   service_workers="block", is_mobile=size == "phone", has_touch=size == "phone")
    context.set_default_timeout(10_000)
    context.grant_permissions(["clipboard-read", "clipboard-write"], origin=server["base"])
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    page.goto(server["base"] + where)
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(server["base"] + where)
    page.wait_for_selector("body:not(.booting)")
    return page


@pytest.fixture(params=list(SIZES))
def owner_page(request, chromium, server):
    page = signed_in(chromium, server, request.param)
    page.size = request.param
    yield page
    page.context.close()


def screenshot(page, name):
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"{name}-{page.size}.png"), full_page=True)


def open_tab(page, name):
    page.click(f'.tabs [data-tab="{name}"]')
    page.wait_for_selector(f"#tab-{name}:not([hidden])")


def redeem(server, code):
    return call(server["base"], "/api/v1/redeem/", {"code": code}, server["clerk"])


def test_the_owner_issues_one_order_and_sees_each_code_its_qr_and_buyer_link(owner_page, server):
    page = owner_page
    open_tab(page, "issue")
    page.wait_for_selector("#issue-product option", state="attached")
    assert page.inner_text("#issue-product") == "双人套餐券"
    page.select_option("#issue-channel", "pdd")
    page.fill("#issue-order", f"PDD-ONE-{page.size}")
    page.fill("#issue-quantity", "2")
    page.fill("#issue-phone", "13800138000")
    page.click("#issue-submit")
    page.wait_for_selector("#issue-result li:nth-child(2)")

    shown = [c.strip() for c in page.locator("#issue-result .code").all_inner_texts()]
    assert len(shown) == 2 and all(GROUPED.match(c) for c in shown)
    assert page.is_hidden("#issue-repeated")
    page.wait_for_function("[...document.querySelectorAll('#issue-result img.qr')].every(i => i.complete && i.naturalWidth > 0)")
    link = page.inner_text("#issue-result li:first-child .link")
    assert link.startswith(server["base"] + "/v/")
    page.click("#issue-result li:first-child .line:first-child .copy")
    page.wait_for_function("document.querySelector('#issue-result .copy').textContent === '已复制'")
    assert page.evaluate("navigator.clipboard.readText()") == shown[0].replace(" ", "")
    screenshot(page, "issue-one")

    # The codes on screen are the ones the counter takes.
    assert redeem(server, shown[1].replace(" ", ""))["result"] == "redeemed"

    page.click("#issue-submit")
    page.wait_for_selector("#issue-repeated:not([hidden])")
    assert page.inner_text("#issue-repeated") == "该订单已发过券，以下是已发的券码。"
    assert [c.strip() for c in page.locator("#issue-result .code").all_inner_texts()] == shown
    assert page.errors == []


def find(page, order_no):
    open_tab(page, "history")
    page.fill("#history-q", order_no)
    page.click("#history-search button")
    page.wait_for_selector("#history-table [data-act]", state="attached")


def act(page, name, reason=None):
    page.click(f"#history-table [data-act={name}]")
    page.wait_for_selector("#sheet:not([hidden])")
    warning = page.inner_text("#sheet-warning")
    if reason is not None:
        page.fill("#sheet-reason", reason)
    page.click("#sheet-confirm")
    page.wait_for_selector("#sheet", state="hidden")
    page.wait_for_selector("#voucher-history:not([hidden])")
    return warning


def history(page, *words):
    """The voucher's history once it shows every one of `words` (it reloads after each action)."""
    page.wait_for_function(
        "words => words.every(w => document.getElementById('voucher-history-list').textContent.includes(w))",
        arg=list(words))
    return page.inner_text("#voucher-history-list")


def status(page):
    return page.inner_text("#history-table tbody tr:first-child .pill")


def test_the_owner_freezes_unfreezes_and_voids_a_voucher_each_after_confirming(owner_page, server):
    page = owner_page
    order_no = f"TB-ACT-{page.size.upper()}"
    code = call(server["base"], "/api/v1/vouchers/", {"product": server["meal"], "order_no": order_no,
                                                      "channel": "taobao"}, server["owner"])["vouchers"][0]["code"]
    find(page, order_no)
    assert status(page) == "有效"

    page.click("#history-table [data-act=freeze]")
    page.wait_for_selector("#sheet:not([hidden])")
    screenshot(page, "voucher-sheet")
    page.click("#sheet-cancel")
    assert page.is_hidden("#sheet") and status(page) == "有效"

    assert "不能核销" in act(page, "freeze")
    assert status(page) == "券已冻结" and "已冻结" in page.inner_text("#action-message")
    assert "冻结" in history(page, "冻结")
    assert redeem(server, code)["result"] == "frozen"

    act(page, "unfreeze")
    assert "已解冻" in history(page, "已解冻") and status(page) == "有效"

    page.click("#history-table [data-act=void]")
    assert page.inner_text("#sheet-warning") == "作废后此券立即失效，不可恢复。"
    page.click("#sheet-confirm")
    assert page.inner_text("#sheet-error") == "请填写原因，它会记入券记录。"
    page.fill("#sheet-reason", "平台已退款")
    page.click("#sheet-confirm")
    page.wait_for_function("document.querySelector('#history-table .pill').textContent === '券已作废'")
    page.wait_for_function("document.getElementById('voucher-history-list').textContent.includes('原因：平台已退款')")
    assert page.query_selector("#history-table [data-act]") is None
    assert redeem(server, code)["result"] == "voided"
    assert page.errors == []


def test_the_owner_reissues_and_sees_the_new_whole_code_once(owner_page, server):
    page = owner_page
    order_no = f"YZ-RE-{page.size.upper()}"
    old = call(server["base"], "/api/v1/vouchers/", {"product": server["meal"], "order_no": order_no,
                                                     "channel": "youzan"}, server["owner"])["vouchers"][0]["code"]
    find(page, order_no)
    assert "新券" in act(page, "reissue")
    new = page.inner_text("#reissued-code")
    assert GROUPED.match(new) and new.replace(" ", "") != old
    assert "只显示这一次" in page.inner_text("#reissued")
    assert "原因：补发" in history(page, "已补发", "原因：补发")
    screenshot(page, "voucher-reissued")
    page.click("#reissued-copy")
    page.wait_for_function("document.getElementById('reissued-copy').textContent === '已复制'")
    assert page.evaluate("navigator.clipboard.readText()") == new.replace(" ", "")
    assert redeem(server, old)["result"] == "voided"
    assert redeem(server, new.replace(" ", ""))["result"] == "redeemed"

    page.click("#history-search button")
    page.wait_for_selector("#history-table tbody tr:nth-child(2)")
    assert new.replace(" ", "") not in page.inner_text("#history-table")
    assert page.errors == []


def test_a_manager_has_no_issue_tab_and_no_voucher_actions(chromium, server):
    page = signed_in(chromium, server, "laptop", username="mike")
    assert page.query_selector('.tabs [data-tab="issue"]') is None
    assert page.query_selector('.tabs [data-tab="history"]') is None
    assert page.query_selector("#tab-issue, #sheet, [data-act]") is None
    page.goto(server["base"] + "/dashboard/#issue")
    page.wait_for_selector("body:not(.booting)")
    assert page.get_attribute("body", "data-shown") == "overview"
    answer = call(server["base"], "/api/v1/vouchers/", {"product": server["meal"], "order_no": "MGR-1"}, server["manager"])
    assert answer["ok"] is False
    assert page.errors == []
    page.context.close()


# ---- the order file (POST /api/v1/vouchers/issue-file/) ----

@pytest.fixture
def file_page(owner_page, server):
    open_tab(owner_page, "issue")
    owner_page.wait_for_selector("#issue-product option", state="attached")
    # Every word the progress line shows, in order: an upload on loopback is over in a blink.
    owner_page.evaluate("""() => {
      window.progressSeen = [];
      new MutationObserver(() => window.progressSeen.push(document.getElementById('issue-progress').textContent))
        .observe(document.getElementById('issue-progress'), {childList: true, characterData: true, subtree: true});
    }""")
    return owner_page


def upload(page, path, channel):
    page.select_option("#issue-channel", channel)
    page.set_input_files("#issue-file", str(path))
    page.click("#issue-upload")
    page.wait_for_function("!document.getElementById('issue-upload').disabled")


def delivered(page):
    with page.expect_download() as download:
        page.click("#issue-delivery")
    with open(download.value.path(), encoding="utf-8-sig", newline="") as saved:
        header, *rows = list(csv.reader(saved))
    assert header == ["订单号", "券码", "券链接", "有效期至"]
    return rows


def redeem_at_the_scanner(chromium, server, code):
    page = signed_in(chromium, server, "phone", username="carol", where="/staff/")
    page.fill("#code", code)
    page.press("#code", "Enter")
    page.wait_for_selector("#confirm:not([hidden])")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    title = page.inner_text("#r-title")
    page.context.close()
    return title


def test_the_owner_issues_a_pinduoduo_csv_and_a_taobao_xlsx_and_downloads_the_delivery_file(
        file_page, server, chromium, tmp_path):
    page, size = file_page, file_page.size
    call(server["base"], "/api/v1/vouchers/", {"product": server["meal"], "order_no": f"PDD-OLD-{size}",
                                               "channel": "pdd"}, server["owner"])
    pdd = tmp_path / "pdd.csv"
    pdd.write_text("商品,订单号,商品数量,收货人手机\n"
                   f'双人套餐,="2406{size}01",2,13800138000\n'
                   f"双人套餐,PDD-OLD-{size},1,\n"
                   f"双人套餐,2406{size}03,1,13900139000\n", encoding="utf-8-sig")
    upload(page, pdd, "pdd")
    assert page.inner_text("#issue-progress") == "共 3 个订单，已生成 4 张券；其中 1 个订单已发过券"
    assert any(t.startswith("上传中") for t in page.evaluate("window.progressSeen"))
    assert "生成中…" in page.evaluate("window.progressSeen")
    screenshot(page, "issue-file")
    rows = delivered(page)
    assert sorted(r[0] for r in rows) == sorted([f"2406{size}01"] * 2 + [f"PDD-OLD-{size}", f"2406{size}03"])
    assert redeem_at_the_scanner(chromium, server, rows[0][1]) == "核销成功"

    from openpyxl import Workbook

    book = Workbook()
    book.active.append(["订单编号", "购买数量", "买家手机号"])
    book.active.append([f"TB{size}0001", 1, "13700137000"])
    book.active.append([f"TB{size}0002", 3, None])
    book.save(tmp_path / "taobao.xlsx")
    upload(page, tmp_path / "taobao.xlsx", "taobao")
    assert page.inner_text("#issue-progress") == "共 2 个订单，已生成 4 张券"
    assert len(delivered(page)) == 4
    assert page.errors == []


def test_a_file_with_a_mangled_order_number_and_a_bad_quantity_names_both_lines_and_issues_nothing(file_page, server, tmp_path):
    page = file_page
    bad = tmp_path / "bad.csv"
    bad.write_text("订单号,数量\n1.23457E+17,1\nGOOD-1,两份\n", encoding="utf-8")
    upload(page, bad, "pdd")
    lines = page.locator("#issue-bad-lines li").all_inner_texts()
    assert [line.split("：")[0] for line in lines] == ["第 2 行", "第 3 行"]
    assert page.is_hidden("#issue-download")
    screenshot(page, "issue-file-bad")
    request = urllib.request.Request(server["base"] + "/api/v1/vouchers/?order_no=GOOD-1",
                                     headers={"Authorization": f"Token {server['owner']}"})
    with urllib.request.urlopen(request, timeout=10) as response:
        assert json.load(response)["count"] == 0
    assert page.errors == []
