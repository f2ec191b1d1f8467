"""The owner's dashboard in a real headless Chromium against daphne: redemptions at the counter
show up live, without a reload.

The live feed needs WebSockets, which the WSGI live_server cannot serve, so daphne runs in a
subprocess on a SQLite file of its own, migrated and seeded here through the public API."""

import contextlib
import datetime
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from tests.conftest import chromium_path as need_chromium

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parent.parent
CHROMIUM = "/usr/bin/chromium"
PASSWORD = "counter-2026"
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", "--no-first-run"]
LIVE_WITHIN_MS = 5000


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def manage(env, *args):
    subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, check=True, capture_output=True)


def wait_until_up(base, proc):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise AssertionError("daphne exited: " + proc.stderr.read().decode(errors="replace")[-2000:])
        try:
            with urllib.request.urlopen(base + "/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except OSError:
            time.sleep(0.2)
    raise AssertionError("daphne did not come up")


def call(base, path, body, token=None):
    headers = {"Content-Type": "application/json"}
    if token:
        headers["Authorization"] = f"Token {token}"
    request = urllib.request.Request(base + path, data=json.dumps(body).encode(), headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            return json.load(response)
    except urllib.error.HTTPError as error:
        return json.load(error)


def seed(base):
    """Two stores, a clerk at the first, a meal voucher product and a handful of codes."""
    owner = call(base, "/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD})["token"]
    east = call(base, "/api/v1/stores/", {"name": "东门店"}, owner)["id"]
    call(base, "/api/v1/stores/", {"name": "西门店"}, owner)
    call(base, "/api/v1/staff/", {"username": "carol", "password": PASSWORD, "display_name": "小王",
                                  "role": "clerk", "stores": [east]}, owner)
    meal = call(base, "/api/v1/products/", {"name": "双人套餐券", "face_value": "98.00", "stores": [],
                                            "instructions": ""}, owner)["id"]
    vouchers = call(base, "/api/v1/vouchers/", {"product": meal, "order_no": "PDD-1", "quantity": 5}, owner)["vouchers"]
    clerk = call(base, "/api/v1/auth/token/", {"username": "carol", "password": PASSWORD})["token"]
    return {"clerk": clerk, "owner": owner, "east": east, "codes": [v["code"] for v in vouchers]}


@contextlib.contextmanager
def app_server(tmp_path_factory, name):
    """A daphne of the app on a fresh SQLite database with the merchant Acme (owner olivia): its base URL."""
    need_chromium()
    database = tmp_path_factory.mktemp(name) / "db.sqlite3"
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{database}", "REDIS_URL": "", "DEBUG": "true",
           "ALLOWED_HOSTS": "127.0.0.1", "LOG_LEVEL": "WARNING", "OWNER_PASSWORD": PASSWORD}
    manage(env, "migrate", "--noinput", "-v0")
    manage(env, "create_merchant", "Acme", "--owner", "olivia", "--password-env", "OWNER_PASSWORD")
    base = f"http://127.0.0.1:{free_port()}"
    proc = subprocess.Popen(
        [sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", base.rsplit(":", 1)[1], "config.asgi:application"],
        cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )
    try:
        wait_until_up(base, proc)
        yield base
    finally:
        stop(proc)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    with app_server(tmp_path_factory, "dashboard") as base:
        yield {"base": base, **seed(base)}


def stop(proc):
    # daphne waits for open WebSockets to close before it exits; a test server need not.
    proc.terminate()
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


@pytest.fixture(scope="module")
def codes(server):
    """Fresh codes, one per use: the server and its vouchers last for the whole module."""
    return iter(server["codes"])


@pytest.fixture(scope="module")
def chromium():
    need_chromium()
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def page(chromium):
    context = chromium.new_context(viewport={"width": 1280, "height": 800}, locale="zh-CN")
    context.set_default_timeout(10_000)
    page = context.new_page()
    page.errors = []
    page.on("pageerror", lambda error: page.errors.append(error))
    yield page
    context.close()


def open_dashboard(page, base):
    page.goto(base + "/dashboard/")
    page.fill("#id_username", "olivia")
    page.fill("#id_password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(base + "/dashboard/")
    page.wait_for_selector("#conn.conn-live")
    page.wait_for_function("document.getElementById('t-redemptions').textContent !== '–'")


def redeem(server, code):
    return call(server["base"], "/api/v1/redeem/", {"code": code}, server["clerk"])


def tile(page, name):
    return int(page.inner_text(f"#t-{name}"))


def test_a_redemption_at_the_counter_appears_live_and_is_counted(page, server, codes):
    open_dashboard(page, server["base"])
    assert page.inner_text("#conn-text") == "实时"
    before = tile(page, "redemptions")
    page.evaluate("window.sameDocument = true")

    code = next(codes)
    answer = redeem(server, code)
    assert answer["result"] == "redeemed"

    row = page.wait_for_selector(f'#feed .ev.ok[data-redemption="{answer["redemption"]["id"]}"]', timeout=LIVE_WITHIN_MS)
    text = row.inner_text()
    assert "双人套餐券" in text and "东门店" in text and "小王" in text and "****" + code[-4:] in text
    assert code not in text
    page.wait_for_function(f"document.getElementById('t-redemptions').textContent === '{before + 1}'",
                           timeout=LIVE_WITHIN_MS)
    assert page.evaluate("window.sameDocument === true"), "the page reloaded"
    assert page.errors == []


def test_refused_attempts_show_red_and_a_burst_raises_the_alert(page, server):
    open_dashboard(page, server["base"])
    refused = tile(page, "refused")
    assert page.is_hidden("#alert")

    for n in range(5):
        assert redeem(server, f"NOPE{n:04d}")["result"] == "not_found"

    page.wait_for_function("document.querySelectorAll('#feed .ev.bad').length >= 5", timeout=LIVE_WITHIN_MS)
    assert "券码不存在" in page.inner_text("#feed .ev.bad")
    page.wait_for_selector("#alert:not([hidden])")
    assert page.inner_text("#alert-text") == "异常：1分钟内 5 次无效核销尝试（员工 小王）"
    assert tile(page, "refused") == refused + 5


def test_a_burst_of_order_lookups_raises_its_own_alert(page, server):
    open_dashboard(page, server["base"])
    owner = call(server["base"], "/api/v1/auth/token/", {"username": "olivia", "password": PASSWORD})["token"]
    request = urllib.request.Request(server["base"] + "/api/v1/vouchers/lookup/?order_no=PDD-1",
                                     headers={"Authorization": f"Token {owner}"})
    for _ in range(5):
        with urllib.request.urlopen(request, timeout=10) as response:
            assert len(json.load(response)["results"]) == 5
    page.wait_for_function("document.querySelectorAll('#feed .ev.look').length >= 5", timeout=LIVE_WITHIN_MS)
    row = page.inner_text("#feed .ev.look")
    assert "按订单号查找" in row and "****DD-1" in row and "找到 5 张" in row
    page.wait_for_selector("#alert:not([hidden])")
    assert page.inner_text("#alert-text") == "异常：1分钟内查找订单 5 次（员工 olivia）"
    assert page.errors == []


def test_the_offline_tab_shows_each_phone_and_the_owner_settles_a_conflict(page, server, codes):
    base = server["base"]
    patch = urllib.request.Request(base + f"/api/v1/stores/{server['east']}/", method="PATCH",
                                   data=json.dumps({"offline_enabled": True, "offline_max_redemptions": 5}).encode(),
                                   headers={"Authorization": f"Token {server['owner']}", "Content-Type": "application/json"})
    urllib.request.urlopen(patch, timeout=10).close()
    snapshot = urllib.request.Request(base + "/api/v1/offline/snapshot/?device=phone-east-1",
                                      headers={"Authorization": f"Token {server['clerk']}"})
    urllib.request.urlopen(snapshot, timeout=10).close()
    code = next(codes)
    assert redeem(server, code)["result"] == "redeemed"  # used online meanwhile
    scanned = datetime.datetime.now(datetime.UTC).isoformat()
    uploaded = call(base, "/api/v1/offline/upload/", {"device": "phone-east-1", "items": [
        {"idempotency_key": "k-1", "code": code, "scanned_at": scanned}]}, server["clerk"])
    assert uploaded["results"][0]["result"] == "already_redeemed"

    open_dashboard(page, base)
    page.click('.tabs [data-tab="offline"]')
    page.wait_for_selector("#devices-table td:has-text('小王')")
    row = page.inner_text("#devices-table tbody tr")
    assert "东门店" in row and "phone-ea" in row
    page.wait_for_selector("#conflicts-table [data-settle]")
    assert "已核销" in page.inner_text("#conflicts-table") and code[-4:] in page.inner_text("#conflicts-table")
    page.screenshot(path=os.path.join(os.environ["SCREENSHOTS"], "dashboard-offline.png")) if os.environ.get("SCREENSHOTS") else None
    page.on("dialog", lambda dialog: dialog.accept("已联系顾客，补收现金"))
    page.click("#conflicts-table [data-settle]")
    page.wait_for_selector("#conflicts-table td.empty")
    assert "没有待处理的冲突" in page.inner_text("#conflicts-table")
    page.check("#conflicts-all")
    page.wait_for_selector("#conflicts-table td:has-text('olivia')")
    assert page.errors == []


def test_a_reversal_strikes_the_row_through(page, server, codes):
    open_dashboard(page, server["base"])
    answer = redeem(server, next(codes))
    redemption = answer["redemption"]["id"]
    page.wait_for_selector(f'#feed .ev.ok[data-redemption="{redemption}"]')

    call(server["base"], f"/api/v1/redemptions/{redemption}/reverse/", {"reason": "顾客取消"}, server["clerk"])
    row = page.wait_for_selector(f'#feed .ev.reversed[data-redemption="{redemption}"]')
    assert "已撤销" in row.inner_text()
    assert row.evaluate("r => getComputedStyle(r.querySelector('.ev-main')).textDecorationLine") == "line-through"


def test_after_a_drop_it_reconnects_and_replays_what_it_missed(page, server, codes):
    sockets = []
    cut = {"on": False}

    def through(ws):
        sockets.append(ws)
        if cut["on"]:
            ws.close(code=1012, reason="restarting")
        else:
            ws.connect_to_server()

    page.route_web_socket("**/ws/dashboard/**", through)
    open_dashboard(page, server["base"])

    cut["on"] = True
    sockets[-1].close(code=1012, reason="restarting")
    page.wait_for_function("document.getElementById('conn-text').textContent === '重连中…'")
    missed = redeem(server, next(codes))["redemption"]["id"]
    page.wait_for_timeout(300)
    assert not page.query_selector(f'[data-redemption="{missed}"]')

    cut["on"] = False
    page.wait_for_selector(f'#feed .ev.ok[data-redemption="{missed}"]', timeout=20_000)
    page.wait_for_selector("#conn.conn-live")
    assert "after=" in sockets[-1].url


def test_today_moves_on_at_the_merchants_midnight(page, server):
    # 23:59 in Shanghai is 15:59 UTC, whatever zone the machine running the test is in.
    page.clock.install(time=datetime.datetime(2026, 3, 1, 15, 59, tzinfo=datetime.UTC))
    open_dashboard(page, server["base"])
    assert page.input_value("#from") == "2026-03-01"

    page.clock.run_for("02:00")
    page.wait_for_function("document.getElementById('from').value === '2026-03-02'")
    assert page.input_value("#to") == "2026-03-02"
    assert page.get_attribute("[data-range=today]", "aria-pressed") == "true"
