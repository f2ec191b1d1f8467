"""The scanner in a real headless Chromium against a live server: what a clerk does at the counter."""

import json
import os
import tempfile
import threading
import time
from decimal import Decimal

import pytest
from django.db import connection

from redemption import services
from redemption.models import OfflineConflict, Product, Redemption
from redemption.pages import scanner as scanner_page
from staff.models import Store
from staff.services import merchant_create, staff_create
from tests.conftest import chromium_path as need_chromium

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "counter-2026"
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
    "--disable-background-networking", "--disable-component-update", "--disable-sync",
]


@pytest.fixture
def counter(transactional_db):
    owner = merchant_create(name="面包坊", owner_username="shop-owner", owner_password=PASSWORD)
    merchant = owner.merchant
    store = Store.objects.create(merchant=merchant, name="东门店")
    clerk = staff_create(merchant=merchant, username="shop-clerk", password=PASSWORD, display_name="小王", stores=[store])
    product = Product.objects.create(merchant=merchant, name="奶油蛋糕券", face_value=Decimal("68.00"), valid_days=30)
    pass_card = Product.objects.create(
        merchant=merchant, name="咖啡 3 次卡", face_value=Decimal("60.00"), uses_per_voucher=3, valid_days=30
    )
    (cake,), _ = services.voucher_issue(product=product, order_no="PDD-0001")
    (coffee,), _ = services.voucher_issue(product=pass_card, order_no="PDD-0002")
    # A family's order of three meals, and a car-wash pass that gives at most 2 a day.
    family, _ = services.voucher_issue(product=product, order_no="PDD-0003", channel="pdd", quantity=3,
                                       buyer_phone="13800138000")
    wash = Product.objects.create(merchant=merchant, name="洗车 5 次卡", face_value=Decimal("100.00"),
                                  uses_per_voucher=5, max_uses_per_day=2)
    (washes,), _ = services.voucher_issue(product=wash, order_no="YZ-0004", channel="youzan")
    staff_create(merchant=merchant, username="shop-manager", password=PASSWORD, display_name="李店长",
                 role="manager", stores=[store])
    return {"clerk": clerk, "cake": cake.code, "coffee": coffee.code, "cake_token": cake.token,
            "family": [v.code for v in family], "wash": washes.code}


def qr_video(path, text, width=640, height=480):
    """A still Y4M video of a QR code, which Chromium plays as its fake camera."""
    import qrcode

    qr = qrcode.QRCode(border=4)
    qr.add_data(text)
    matrix = qr.get_matrix()
    cell = min(width, height) * 3 // 4 // len(matrix)
    left, top = (width - cell * len(matrix)) // 2, (height - cell * len(matrix)) // 2
    luma = bytearray(b"\xeb" * width * height)
    for y, row in enumerate(matrix):
        for x, dark in enumerate(row):
            if dark:
                for dy in range(cell):
                    start = (top + y * cell + dy) * width + left + x * cell
                    luma[start : start + cell] = b"\x10" * cell
    chroma = b"\x80" * (width * height // 2)
    with open(path, "wb") as f:
        f.write(f"YUV4MPEG2 W{width} H{height} F10:1 Ip A1:1 C420jpeg\n".encode())
        f.write(b"FRAME\n" + bytes(luma) + chroma)
    return path


@pytest.fixture
def camera_feed(request, counter, tmp_path):
    """None, or (indirectly parametrised) a fake camera showing the buyer page QR of the cake voucher."""
    if not getattr(request, "param", None):
        return None
    return qr_video(tmp_path / "qr.y4m", f"https://shop.example/v/{counter['cake_token']}/")


@pytest.fixture
def locale():
    return "zh-CN"


@pytest.fixture
def service_workers():
    # Off unless a test is about them, so a cached page never hides what the server answers.
    return "block"


@pytest.fixture
def browser(counter, locale, service_workers, camera_feed, monkeypatch):
    need_chromium()
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are done by now.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    args = FLAGS
    if camera_feed:
        args = FLAGS + [
            "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
            f"--use-file-for-fake-video-capture={camera_feed}",
        ]
    with tempfile.TemporaryDirectory() as profile, sync_playwright() as p:
        context = p.chromium.launch_persistent_context(
            profile, executable_path=CHROMIUM, args=args, headless=True,
            viewport={"width": 390, "height": 844}, locale=locale, is_mobile=True, has_touch=True,
            service_workers=service_workers,
        )
        context.set_default_timeout(10_000)
        yield context
        context.close()


def log_in(context, live_server, username="shop-clerk"):
    page = context.pages[0] if context.pages else context.new_page()
    errors = []
    page.on("pageerror", lambda error: errors.append(error))
    page.goto(live_server.url + "/staff/")
    page.fill("#id_username", username)
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(live_server.url + "/staff/")
    page.wait_for_selector("body:not(.booting)")
    return page, errors


def enter(page, code):
    page.fill("#code", code)
    page.press("#code", "Enter")


def test_clerk_redeems_a_code_then_the_same_code_is_refused(browser, live_server, counter):
    page, errors = log_in(browser, live_server)
    assert page.inner_text(".store-name") == "东门店"

    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    assert page.inner_text("#c-product") == "奶油蛋糕券"
    assert page.inner_text("#c-code") == "****" + counter["cake"][-4:]
    assert page.inner_text("#c-order") == "****0001"
    assert page.is_hidden("#c-stepper")

    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    assert page.inner_text("#r-title") == "核销成功"
    page.click("#r-next")

    enter(page, counter["cake"])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "已核销"
    facts = page.inner_text("#r-facts")
    assert "东门店" in facts and "小王" in facts
    assert errors == []


def test_hardware_scanner_types_anywhere_and_enter_submits(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    page.keyboard.press("Enter")
    page.wait_for_selector("#result.ok:not([hidden])")

    # The green screen is up and nothing is focused: a scanner just types and presses Enter.
    page.evaluate("document.activeElement.blur()")
    page.keyboard.type(counter["cake"] + "\n")
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "已核销"


@pytest.mark.parametrize("camera_feed", ["qr"], indirect=True)
def test_camera_reads_the_buyer_qr_with_the_bundled_decoder(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    scripts = []
    page.on("request", lambda r: scripts.append(r.url) if r.resource_type == "script" else None)
    page.click("#camera-btn")
    page.wait_for_selector("#confirm:not([hidden])", timeout=20_000)
    assert page.inner_text("#c-product") == "奶油蛋糕券"
    assert page.is_hidden("#camera")
    if not page.evaluate("'BarcodeDetector' in window"):
        assert any(url.endswith("/static/vendor/jsqr/jsQR.js") for url in scripts)


def test_a_typo_is_caught_before_asking_the_server(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    checks = []
    page.on("request", lambda r: checks.append(r.url) if "/api/v1/check/" in r.url else None)
    code = counter["cake"]
    typo = code[:-1] + str((int(code[-1]) + 1) % 10)

    # Typed as a Chinese input method gives it: full-width digits.
    page.fill("#code", "".join(chr(ord(d) + 0xFEE0) for d in typo))
    page.press("#code", "Enter")
    page.wait_for_selector("#code-hint.bad")
    assert "校验" in page.inner_text("#code-hint")
    assert page.input_value("#code") == " ".join(typo[i : i + 4] for i in range(0, 16, 4))
    assert page.inner_text("#check-btn") == "仍然查询"
    assert checks == []


def test_redeem_is_retried_with_the_same_key_after_a_dropped_connection(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    sent = []

    def flaky(route):
        sent.append(json.loads(route.request.post_data))
        if len(sent) == 1:
            route.abort("connectionreset")
        else:
            route.continue_()

    page.route("**/api/v1/redeem/", flaky)
    enter(page, counter["coffee"])
    page.wait_for_selector("#confirm:not([hidden])")
    page.click("#c-plus")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")

    assert len(sent) == 2
    assert sent[0]["idempotency_key"] == sent[1]["idempotency_key"]
    assert sent[1]["uses"] == 2
    assert "剩 1 次 / 共 3 次" in page.inner_text("#r-facts")


def test_todays_list_shows_the_redemption_and_undoes_it(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    page.click("#r-next")

    page.click("#today-btn")
    row = page.wait_for_selector(".today-row")
    assert "奶油蛋糕券" in row.inner_text()
    page.click(".btn-undo")
    assert page.inner_text(".btn-undo") == "确认撤销？"
    page.click(".btn-undo")
    page.wait_for_selector(".today-row.reversed")
    assert "已撤销" in page.inner_text("#toast")

    page.click("#today-close")
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")


@pytest.mark.parametrize("locale", ["en-US"])
def test_english_browser_gets_the_english_scanner(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    assert page.get_attribute("html", "lang") == "en"
    assert page.inner_text("#check-btn") == "Check code"
    enter(page, "0000000000000000")
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "Code not found"


@pytest.mark.parametrize("service_workers", ["allow"])
def test_service_worker_keeps_the_shell_and_no_api_answers(browser, live_server, counter):
    page, _ = log_in(browser, live_server)
    assert page.evaluate("navigator.serviceWorker.ready.then((r) => r.active.scriptURL)").endswith("/staff/sw.js")
    page.reload()
    page.wait_for_selector("body:not(.booting)")
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    kept = page.evaluate(
        """async () => {
            const urls = [];
            for (const name of await caches.keys()) {
                for (const request of await (await caches.open(name)).keys()) urls.push(new URL(request.url).pathname);
            }
            return urls;
        }"""
    )
    assert "/static/staff/app.js" in kept and "/staff/" in kept
    assert not [url for url in kept if url.startswith("/api/")]


@pytest.mark.parametrize("service_workers", ["allow"])
def test_when_the_network_is_slow_the_kept_scanner_opens_at_once(browser, live_server, counter, monkeypatch):
    page, _ = log_in(browser, live_server)
    page.wait_for_function("() => !!navigator.serviceWorker.controller")
    render = scanner_page.render

    def slow_render(*args, **kwargs):
        time.sleep(5)  # a weak signal: the page takes seconds to come over the network
        return render(*args, **kwargs)

    monkeypatch.setattr(scanner_page, "render", slow_render)
    started = time.monotonic()
    page.reload(wait_until="commit")
    page.wait_for_selector("body:not(.booting)")
    assert time.monotonic() - started < 2.5
    assert page.inner_text(".store-name") == "东门店"


SPOKEN = """
window.__spoken = [];
if (window.speechSynthesis) {
  window.speechSynthesis.speak = (u) => window.__spoken.push([u.text, u.lang]);
}
"""


def test_the_result_is_spoken_and_speech_can_be_switched_off(browser, live_server, counter):
    browser.add_init_script(SPOKEN)
    page, errors = log_in(browser, live_server)
    assert page.is_checked("#speech") and page.inner_text("label.speech-switch").strip() == "语音播报"
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    page.click("#r-next")
    enter(page, counter["cake"])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.evaluate("window.__spoken") == [["核销成功，剩余 0 次", "zh-CN"], ["已核销", "zh-CN"]]

    # Switched off on this device, it stays off after a reload, and nothing more is said.
    page.click("#r-next")
    page.uncheck("#speech")
    page.reload()
    page.wait_for_selector("body:not(.booting)")
    assert not page.is_checked("#speech")
    enter(page, counter["cake"])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.evaluate("window.__spoken") == []
    assert errors == []


def test_an_answer_lost_after_the_server_redeemed_is_confirmed_not_guessed(browser, live_server, counter):
    page, errors = log_in(browser, live_server)
    keys = []

    def handled_then_lost(route):
        keys.append(json.loads(route.request.post_data)["idempotency_key"])
        if len(keys) == 1:
            route.fetch()  # the server redeems ...
            route.abort("connectionreset")  # ... and its answer never arrives
        else:
            route.continue_()

    page.route("**/api/v1/redeem/", handled_then_lost)
    enter(page, counter["cake"])
    page.wait_for_selector("#confirm:not([hidden])")
    page.click("#c-go")
    page.wait_for_function("document.getElementById('c-status').textContent.includes('确认中')")
    assert page.is_hidden("#result")  # no green screen before the server has said so
    page.wait_for_selector("#result.ok:not([hidden])")
    assert len(set(keys)) == 1 and len(keys) >= 2
    # Asked while Playwright's event loop runs, the ORM gets a connection of its own: hand it back.
    redeemed = Redemption.objects.filter(voucher__code=counter["cake"]).count()
    connection.close()
    assert redeemed == 1
    assert errors == []


def shot(page, name):
    """A phone-size screenshot where SCREENSHOTS names a folder (make screenshots), to look at."""
    folder = os.environ.get("SCREENSHOTS")
    if folder:
        page.screenshot(path=os.path.join(folder, name + ".png"))


def test_a_clerk_redeems_a_three_voucher_order_with_one_scan_and_one_tap(browser, live_server, counter):
    browser.add_init_script(SPOKEN)
    page, errors = log_in(browser, live_server)
    enter(page, counter["family"][1])
    page.wait_for_selector("#confirm:not([hidden])")
    assert page.inner_text("#c-order-title") == "本单共 3 张券"
    boxes = page.locator("#c-order-list input[type=checkbox]")
    assert boxes.count() == 3 and all(boxes.nth(i).is_checked() for i in range(3))
    assert page.is_hidden("#c-stepper")
    assert page.inner_text("#c-go") == "确认核销 3 张"
    shot(page, "order-confirm")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    assert page.inner_text("#r-title") == "核销成功"
    assert "奶油蛋糕券 × 3" in page.inner_text("#r-msg")
    shot(page, "order-redeemed")
    assert page.evaluate("window.__spoken") == [["核销成功，共 3 张", "zh-CN"]]
    redeemed = Redemption.objects.filter(voucher__code__in=counter["family"]).count()
    connection.close()
    assert redeemed == 3
    assert errors == []


def test_unticking_one_redeems_the_others_and_the_used_one_offers_the_rest(browser, live_server, counter):
    page, errors = log_in(browser, live_server)
    enter(page, counter["family"][0])
    page.wait_for_selector("#confirm:not([hidden])")
    page.locator("#c-order-list input[type=checkbox]").nth(2).uncheck()
    assert page.inner_text("#c-go") == "确认核销 2 张"
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    page.click("#r-next")
    # The first voucher is used now; scanned again, it still opens the rest of the order.
    enter(page, counter["family"][0])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "已核销"
    assert page.inner_text("#r-order") == "核销本单其余 1 张"
    shot(page, "order-rest-offered")
    page.click("#r-order")
    page.wait_for_selector("#confirm:not([hidden])")
    offered = page.locator("#c-order-list input[type=checkbox]")
    assert [offered.nth(i).is_checked() for i in range(3)] == [False, False, True]
    assert "已核销" in page.inner_text("#c-order-list")
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    redeemed = Redemption.objects.filter(voucher__code__in=counter["family"]).count()
    connection.close()
    assert redeemed == 3
    assert errors == []


def test_two_a_day_refuses_the_third_use_with_when_it_opens_again(browser, live_server, counter):
    browser.add_init_script(SPOKEN)
    page, errors = log_in(browser, live_server)
    for _ in range(2):
        enter(page, counter["wash"])
        page.wait_for_selector("#confirm:not([hidden])")
        page.click("#c-go")
        page.wait_for_selector("#result.ok:not([hidden])")
        page.click("#r-next")
    enter(page, counter["wash"])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "今日次数已用完"
    assert page.inner_text("#r-msg") == "明天 00:00 后可用"
    shot(page, "daily-limit")
    assert page.evaluate("window.__spoken")[-1] == ["今日次数已用完", "zh-CN"]
    assert errors == []


def test_a_manager_finds_an_order_by_phone_and_redeems_one(browser, live_server, counter):
    page, errors = log_in(browser, live_server, "shop-manager")
    page.click("#lookup-btn")
    page.wait_for_selector("#lookup:not([hidden])")
    page.check("#lookup-phone")
    page.fill("#lookup-q", "138 0013 8000")
    urls = []
    page.on("request", lambda request: urls.append(request.url))
    page.click("#lookup-go")
    page.wait_for_selector("#lookup-list button")
    assert page.locator("#lookup-list button").count() == 3
    # The buyer's number went in the request's body, so no access log along the way holds it.
    assert urls and not any("0013" in url or "8000" in url for url in urls)
    assert "13800138000" not in page.inner_text("#lookup")
    shot(page, "lookup-found")
    page.locator("#lookup-list button").first.click()
    page.wait_for_selector("#confirm:not([hidden])")
    assert page.inner_text("#c-product") == "奶油蛋糕券"
    page.click("#c-go")
    page.wait_for_selector("#result.ok:not([hidden])")
    redeemed = Redemption.objects.filter(voucher__code__in=counter["family"]).count()
    connection.close()
    assert redeemed == 1
    assert errors == []


def test_a_clerk_has_no_lookup(browser, live_server, counter):
    page, errors = log_in(browser, live_server)
    assert page.is_hidden("#lookup-btn")
    assert errors == []


# ---- offline at the counter ----

SNAPSHOT_STORED = """async () => {
    const db = await new Promise((done, fail) => {
        const r = indexedDB.open("hx-offline", 1);
        r.onsuccess = () => done(r.result);
        r.onerror = () => fail(r.error);
        r.onupgradeneeded = () => { r.transaction.abort(); };
    });
    const all = await new Promise((done) => {
        const r = db.transaction("snapshots").objectStore("snapshots").getAll();
        r.onsuccess = () => done(r.result);
    });
    db.close();
    return JSON.stringify(all);
}"""


def offline_store(counter, **caps):
    """Offline on at the clerk's store, with caps (the ORM, before the browser's loop runs)."""
    store = counter["clerk"].stores.get()
    Store.objects.filter(pk=store.pk).update(offline_enabled=True, **caps)
    connection.close()


def ready_offline(browser, live_server):
    """Logged in with the service worker keeping the page, and the snapshot on the phone."""
    page, errors = log_in(browser, live_server)
    page.evaluate("navigator.serviceWorker.ready")
    with page.expect_response("**/api/v1/offline/snapshot/**") as answer:
        page.reload()  # now through the service worker, which keeps the page for offline use
    # A new list, or a 304 when the one fetched at sign-in is unchanged and the phone keeps it.
    assert answer.value.status in (200, 304)
    page.wait_for_selector("body:not(.booting)")
    page.wait_for_function(f"({SNAPSHOT_STORED})().then((s) => s.length > 10)")
    return page, errors


def take_offline(page, code):
    enter(page, code)
    page.wait_for_selector("#confirm:not([hidden])")
    assert "离线核销" in page.inner_text("#c-badge")
    page.click("#c-go")
    page.wait_for_selector("#result.pending:not([hidden])")
    shot(page, "offline-pending")
    assert page.inner_text("#r-title") == "待确认"
    assert page.inner_text("#r-msg") == "联网后自动上传"
    page.click("#r-next")


@pytest.mark.parametrize("service_workers", ["allow"])
def test_offline_a_scan_is_taken_amber_survives_a_reload_and_is_redeemed_on_reconnect(browser, live_server, counter):
    offline_store(counter)
    page, errors = ready_offline(browser, live_server)
    stored = page.evaluate(SNAPSHOT_STORED)
    for code in (counter["cake"], counter["coffee"], *counter["family"], counter["wash"]):
        assert code not in stored  # the snapshot names codes only by an HMAC of their slow digest
    assert '"name":"pbkdf2-sha256"' in stored

    browser.set_offline(True)
    take_offline(page, counter["cake"])
    shot(page, "offline-banner")
    assert "离线模式 · 待上传 1 笔" in page.inner_text("#offline")
    # The same code again on this phone: never twice.
    enter(page, counter["cake"])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "本机已离线核销过"
    page.click("#r-next")

    page.reload()  # offline: the service worker serves the page; the queue is still there
    page.wait_for_selector("body:not(.booting)")
    page.wait_for_function("document.getElementById('offline-text').textContent.includes('待上传 1 笔')")
    redeemed = Redemption.objects.filter(voucher__code=counter["cake"]).count()
    connection.close()
    assert redeemed == 0  # nothing reached the server yet: amber, never green

    browser.set_offline(False)
    page.wait_for_selector("#offline", state="hidden", timeout=30_000)
    page.wait_for_function("document.getElementById('today-count').textContent === '1'")
    redemption = Redemption.objects.get(voucher__code=counter["cake"])
    connection.close()
    assert redemption.offline and redemption.scanned_at < redemption.at
    assert errors == []


@pytest.mark.parametrize("service_workers", ["allow"])
def test_offline_a_code_used_online_meanwhile_comes_back_as_a_conflict(browser, live_server, counter):
    offline_store(counter)
    page, errors = ready_offline(browser, live_server)
    browser.set_offline(True)
    take_offline(page, counter["coffee"])
    # Meanwhile, at another counter that is online, the pass is used up.
    def use_up():  # off Playwright's event loop, as another server's request would be
        try:
            for _ in range(3):
                services.voucher_redeem(member=counter["clerk"], raw_code=counter["coffee"])
        finally:
            connection.close()

    elsewhere = threading.Thread(target=use_up)
    elsewhere.start()
    elsewhere.join()
    browser.set_offline(False)
    page.wait_for_selector("#sync-report:not([hidden])", timeout=30_000)
    report = page.inner_text("#sync-report")
    assert "已上传 1 笔：成功 0 笔，冲突 1 笔" in report and "已核销" in report and counter["coffee"][-4:] in report
    shot(page, "offline-conflict")
    conflicts = list(OfflineConflict.objects.values_list("result", flat=True))
    connection.close()
    assert conflicts == ["already_redeemed"]
    assert errors == []


@pytest.mark.parametrize("service_workers", ["allow"])
def test_offline_the_caps_stop_the_phone(browser, live_server, counter):
    offline_store(counter, offline_max_redemptions=2)
    page, errors = ready_offline(browser, live_server)
    browser.set_offline(True)
    take_offline(page, counter["family"][0])
    take_offline(page, counter["family"][1])
    enter(page, counter["family"][2])
    page.wait_for_selector("#result.bad:not([hidden])")
    assert page.inner_text("#r-title") == "超出离线额度"
    shot(page, "offline-cap")
    page.click("#r-next")
    # Logging out with redemptions on the phone is refused until they are uploaded.
    page.click("#logout button")
    page.wait_for_selector("#toast:not([hidden])")
    assert "未上传" in page.inner_text("#toast")
    assert page.url.endswith("/staff/")
    browser.set_offline(False)
    page.wait_for_selector("#offline", state="hidden", timeout=30_000)
    redeemed = Redemption.objects.filter(voucher__code__in=counter["family"], offline=True).count()
    connection.close()
    assert redeemed == 2
    assert errors == []
