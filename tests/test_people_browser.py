"""The owner's 员工 tab in Chromium: a clerk added without a password signs in on a phone with one
tap on the sign-in QR, and when the owner signs that phone out its next scan asks for a sign-in while
the clerk's other phone goes on redeeming."""

import os
import re
import time

import pytest

from tests.test_dashboard_browser import CHROMIUM, FLAGS, PASSWORD, app_server, call

pytestmark = pytest.mark.browser

LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
ANDROID_WECHAT = ("Mozilla/5.0 (Linux; Android 14; Pixel 8) AppleWebKit/537.36 (KHTML, like Gecko) "
                  "Chrome/120.0 Mobile Safari/537.36 MicroMessenger/8.0.47")
IPHONE_SAFARI = ("Mozilla/5.0 (iPhone; CPU iPhone OS 17_4 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) "
                 "Version/17.4 Mobile/15E148 Safari/604.1")
COUNTDOWN = re.compile(r"^(10:00|09:[0-5]\d)$")


def seed(base):
    owner = call(base, "/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD})["token"]
    east = call(base, "/api/v1/stores/", {"name": "东门店"}, owner)["id"]
    call(base, "/api/v1/stores/", {"name": "西门店"}, owner)
    call(base, "/api/v1/staff/", {"username": "carol", "password": PASSWORD, "display_name": "小王",
                                  "role": "clerk", "stores": [east]}, owner)
    meal = call(base, "/api/v1/products/", {"name": "双人套餐券", "face_value": "98.00"}, owner)["id"]
    # One voucher an order: a scan of a many-voucher order would redeem its siblings too.
    orders = [call(base, "/api/v1/vouchers/", {"product": meal, "order_no": f"PDD-{n}"}, owner) for n in (1, 2)]
    return {"codes": [order["vouchers"][0]["code"] for order in orders]}


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory, "people") as base:
        yield {"base": base, **seed(base)}


@pytest.fixture(scope="module")
def chromium(server):
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


def new_page(chromium, viewport, user_agent=None):
    phone = viewport == PHONE
    context = chromium.new_context(viewport=viewport, locale="zh-CN", service_workers="block", is_mobile=phone,
                                   has_touch=phone, user_agent=user_agent)
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    return page


def owner_on_people_tab(chromium, server, viewport):
    page = new_page(chromium, viewport)
    page.goto(server["base"] + "/dashboard/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("body:not(.booting)")
    page.click('.tabs [data-tab="people"]')
    page.wait_for_selector("#people-list .member")
    return page


def member_row(page, name):
    return page.locator("#people-list .member", has=page.locator(".member-head b", has_text=name))


def show_qr(page, name):
    """Opens the member's sign-in QR; its link, as the copy field holds it."""
    member_row(page, name).get_by_role("button", name="登录二维码").click()
    page.wait_for_selector("#qr-body:not([hidden])")
    return page.input_value("#qr-link")


def close_qr(page):
    page.click("#qr-close")
    page.wait_for_selector("#qr-sheet", state="hidden")


def sign_in_by_qr(chromium, link, user_agent):
    phone = new_page(chromium, PHONE, user_agent)
    phone.goto(link)
    assert "小李" in phone.inner_text("#signin-who")
    screenshot(phone, "signin-phone")
    phone.click("#signin-go")
    phone.wait_for_url("**/staff/")
    phone.wait_for_selector("body:not(.booting)")
    return phone


def redeem(phone, code):
    phone.fill("#code", code)
    phone.press("#code", "Enter")
    phone.wait_for_selector("#confirm:not([hidden])")
    phone.click("#c-go")
    phone.wait_for_selector("#result.ok:not([hidden])")
    assert phone.inner_text("#r-title") == "核销成功"
    phone.click("#r-next")


def device_rows(page, name):
    return member_row(page, name).locator("table.devices tbody tr")


def screenshot(page, name):
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, f"people-{name}.png"), full_page=True)


def test_a_clerk_added_without_a_password_signs_in_by_qr_and_the_owner_signs_one_phone_out(chromium, server):
    owner = owner_on_people_tab(chromium, server, LAPTOP)
    owner.fill("#people-name", "小李")
    owner.check("#people-stores label:has-text('东门店') input")
    owner.click("#people-add-go")
    owner.wait_for_selector("#people-message:not([hidden])")
    row = member_row(owner, "小李")
    row.wait_for()
    assert "核销员" in row.inner_text() and "东门店" in row.inner_text() and "在职" in row.inner_text()
    assert "未在任何设备上登录" in row.inner_text()

    link = show_qr(owner, "小李")
    assert owner.inner_text("#qr-title") == "小李 的登录二维码"
    assert COUNTDOWN.match(owner.inner_text("#qr-left"))
    assert owner.locator("#qr-image").bounding_box()["width"] >= 240
    owner.wait_for_function("document.getElementById('qr-image').naturalWidth > 0")
    assert "仅可使用一次" in owner.inner_text("#qr-body")
    screenshot(owner, "qr-laptop")
    wechat = sign_in_by_qr(chromium, link, ANDROID_WECHAT)
    redeem(wechat, server["codes"][0])

    # A second phone of the same clerk, by a second QR.
    close_qr(owner)
    iphone = sign_in_by_qr(chromium, show_qr(owner, "小李"), IPHONE_SAFARI)
    close_qr(owner)
    device_rows(owner, "小李").nth(1).wait_for()
    assert device_rows(owner, "小李").count() == 2
    listed = member_row(owner, "小李").inner_text()
    assert "Android · WeChat" in listed and "iPhone · Safari" in listed and "扫码登录" in listed
    assert "刚刚" in listed
    screenshot(owner, "devices-laptop")

    device_rows(owner, "小李").filter(has_text="Android · WeChat").get_by_role("button", name="退出登录").click()
    assert owner.inner_text("#people-sheet-warning") == "该设备将立即退出，需重新登录。"
    owner.click("#people-sheet-confirm")
    owner.wait_for_selector("#people-sheet", state="hidden")
    owner.wait_for_function("!document.querySelector('#people-list').innerText.includes('Android · WeChat')")
    assert device_rows(owner, "小李").count() == 1

    wechat.fill("#code", server["codes"][1])
    wechat.press("#code", "Enter")
    wechat.wait_for_url("**/staff/login/**")
    wechat.goto(link)
    assert wechat.inner_text("#signin-gone") == "二维码已失效"
    screenshot(wechat, "signin-gone-phone")
    redeem(iphone, server["codes"][1])
    assert owner.errors == wechat.errors == iphone.errors == []
    for page in (owner, wechat, iphone):
        page.context.close()


def test_on_a_phone_the_owner_shows_a_qr_that_runs_out_and_makes_a_new_one(chromium, server):
    from playwright.sync_api import expect

    owner = owner_on_people_tab(chromium, server, PHONE)
    owner.clock.install()
    show_qr(owner, "小王")
    assert COUNTDOWN.match(owner.inner_text("#qr-left"))
    box = owner.locator("#qr-image").bounding_box()
    assert box["width"] >= 240 and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"]
    screenshot(owner, "qr-phone")

    owner.clock.run_for("10:01")
    expect(owner.locator("#qr-expired")).to_be_visible()
    assert owner.inner_text("#qr-left") == "00:00"
    assert "二维码已过期" in owner.inner_text("#qr-expired")
    screenshot(owner, "qr-expired-phone")
    # The server's clock did not move: the page's goes back to it before asking for a new QR.
    owner.clock.set_system_time(time.time())
    owner.click("#qr-again")
    expect(owner.locator("#qr-left")).not_to_have_text("00:00")
    assert owner.is_hidden("#qr-expired")
    assert COUNTDOWN.match(owner.inner_text("#qr-left"))
    close_qr(owner)
    screenshot(owner, "list-phone")
    assert owner.errors == []
    owner.context.close()


def test_the_owner_deactivates_a_member_after_confirming(chromium, server):
    owner = owner_on_people_tab(chromium, server, LAPTOP)
    member_row(owner, "小王").get_by_role("button", name="停用").click()
    assert owner.inner_text("#people-sheet-title") == "停用 小王？"
    owner.click("#people-sheet-cancel")
    assert "在职" in member_row(owner, "小王").inner_text()

    member_row(owner, "小王").get_by_role("button", name="停用").click()
    owner.click("#people-sheet-confirm")
    owner.wait_for_selector("#people-sheet", state="hidden")
    owner.wait_for_function("document.querySelector('#people-list .member-gone') !== null")
    row = member_row(owner, "小王")
    assert "已停用" in row.inner_text()
    assert row.get_by_role("button").count() == 0
    owner_row = member_row(owner, "olivia").first
    assert owner_row.get_by_role("button", name="登录二维码").count() == 0
    assert owner.errors == []
    owner.context.close()
