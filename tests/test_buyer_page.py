"""The buyer's voucher page /v/<token>/ and the live QR it shows."""

import datetime as dt
import gzip
import time

import pytest
from django.contrib.staticfiles import finders
from django.db import connection
from django.utils import timezone

from redemption import codes
from redemption.pages import buyer
from redemption.models import Product, Voucher
from staff.models import Store

PAGE_BUDGET = 40 * 1024


def page(client, voucher, **headers):
    return client.get(f"/v/{voucher.token}/", **headers)


def text_of(response):
    return response.content.decode()


def redeem(api, member, code):
    return api(member).post("/api/v1/redeem/", {"code": code}, format="json")


@pytest.fixture
def live(acme):
    return Product.objects.create(merchant=acme, name="储值会员卡", face_value=100, uses_per_voucher=10,
                                  require_live_qr=True, instructions="请出示动态二维码。")


def test_active_voucher_shows_product_status_uses_code_and_qr(client, meal, issue, store_a, store_b):
    meal.instructions = "每桌限用一张。"
    meal.save()
    store_a.address = "人民路 88 号"
    store_a.save()
    voucher = issue(meal, buyer_phone="13800138000")
    html = text_of(page(client, voucher))
    assert "Acme" in html and "双人套餐券" in html
    assert "可使用" in html
    assert "剩余 <b>1</b>/1 次" in html
    assert codes.group(voucher.code) in html
    assert '<div class="qr"' in html and "<svg" in html
    assert "A 人民路店" in html and "人民路 88 号" in html and "B 滨江店" in html and "全部门店通用" in html
    assert "每桌限用一张。" in html and "使用说明" in html
    assert "13800138000" not in html and voucher.order_no not in html
    assert codes.mask_order(voucher.order_no) in html


def test_qr_carries_the_page_address_which_the_scanner_redeems(client, api, carol, meal, issue):
    voucher = issue(meal)
    html = text_of(page(client, voucher))
    url = f"http://testserver/v/{voucher.token}/"
    assert buyer.qr_svg(url) in html
    assert redeem(api, carol, url).status_code == 200


def test_pass_shows_uses_left_of_total(client, wash, issue):
    voucher = issue(wash, uses_left=2)
    html = text_of(page(client, voucher))
    assert "剩余 <b>2</b>/3 次" in html
    assert html.count('<i class="on">') == 2


def test_store_limited_product_lists_only_its_stores(client, meal, issue, store_a, store_b):
    meal.stores.set([store_b])
    html = text_of(page(client, issue(meal)))
    assert "B 滨江店" in html and "A 人民路店" not in html and "全部门店通用" not in html


def test_merchant_text_is_escaped(client, acme, meal, issue):
    Store.objects.create(merchant=acme, name="<script>alert(1)</script>")
    html = text_of(page(client, issue(meal)))
    assert "<script>alert(1)" not in html and "&lt;script&gt;alert(1)" in html


def test_validity_in_the_merchant_time_zone(client, acme, meal, issue):
    acme.time_zone = "Asia/Shanghai"
    acme.save()
    until = dt.datetime(2099, 12, 31, 15, 59, 59, tzinfo=dt.UTC)  # 23:59:59 in Shanghai
    assert "有效期至 2099-12-31 23:59" in text_of(page(client, issue(meal, valid_until=until)))
    assert "长期有效" in text_of(page(client, issue(meal, valid_until=None)))


def test_not_yet_valid_voucher_says_when_it_starts(client, meal, issue):
    start = timezone.now() + dt.timedelta(days=3)
    html = text_of(page(client, issue(meal, valid_from=start)))
    assert "未生效" in html and "生效时间" in html


@pytest.mark.parametrize(
    ("overrides", "badge"),
    [
        ({"uses_left": 0}, "已使用"),
        ({"valid_until": timezone.now() - dt.timedelta(days=1)}, "已过期"),
        ({"state": Voucher.State.VOIDED}, "已作废（已退款）"),
        ({"state": Voucher.State.FROZEN}, "已冻结"),
    ],
)
def test_unusable_voucher_shows_status_and_no_qr_or_code(client, meal, issue, overrides, badge):
    voucher = issue(meal, **overrides)
    html = text_of(page(client, voucher))
    assert badge in html
    assert '<div class="qr"' not in html and "<svg xmlns" not in html
    assert codes.group(voucher.code) not in html and voucher.code not in html


def test_redeemed_at_the_counter_shows_used_with_when_and_where(client, api, carol, meal, issue):
    voucher = issue(meal)
    assert redeem(api, carol, voucher.code).status_code == 200
    html = text_of(page(client, voucher))
    assert "已使用" in html and "最近使用" in html and "A 人民路店" in html
    assert client.get(f"/v/{voucher.token}/status.json").json() == {"status": "redeemed", "uses_left": 0}


@pytest.mark.parametrize("token", ["x" * 24, "short", "a%00" + "b" * 20, "é" * 20])
def test_unknown_token_is_a_friendly_404(client, db, token):
    response = client.get(f"/v/{token}/")
    assert response.status_code == 404
    assert "券不存在或链接有误" in text_of(response)
    assert response["Cache-Control"] == "no-store"


def test_live_qr_product_hides_the_code_and_its_payload_redeems(client, api, carol, live, issue):
    voucher = issue(live)
    html = text_of(page(client, voucher))
    assert "动态码每30秒刷新，截图无效" in html
    assert voucher.code not in html and codes.group(voucher.code) not in html
    assert "不提供券码" in html

    response = client.get(f"/v/{voucher.token}/live.json")
    assert response.status_code == 200
    data = response.json()
    assert data["payload"].startswith(f"LQ1.{voucher.token}.")
    assert data["svg"] == buyer.qr_svg(data["payload"])
    assert 1 <= data["expires_in"] <= 30
    assert '<div class="qr" id="qr"' in html

    typed = redeem(api, carol, voucher.code)
    assert typed.status_code == 409 and typed.json()["result"] == "live_qr_required"
    assert redeem(api, carol, data["payload"]).status_code == 200


def test_live_payload_from_a_screenshot_minutes_old_is_refused(api, carol, live, issue):
    voucher = issue(live)
    old = codes.live_qr_payload(voucher.token, at=time.time() - 120)
    response = redeem(api, carol, old)
    assert response.status_code == 409 and response.json()["result"] == "qr_expired"


def test_live_json_answers_409_once_the_voucher_cannot_be_used(client, live, issue):
    voucher = issue(live, uses_left=0)
    response = client.get(f"/v/{voucher.token}/live.json")
    assert response.status_code == 409 and response.json() == {"status": "redeemed"}
    assert response["Cache-Control"] == "no-store"
    assert '<div class="qr"' not in text_of(page(client, voucher))


def test_live_json_is_only_for_live_qr_products(client, meal, issue):
    assert client.get(f"/v/{issue(meal).token}/live.json").status_code == 404
    assert client.get("/v/" + "x" * 24 + "/live.json").status_code == 404


def test_page_polls_status_and_uses(client, api, carol, wash, issue):
    voucher = issue(wash)
    assert client.get(f"/v/{voucher.token}/status.json").json() == {"status": "active", "uses_left": 3}
    redeem(api, carol, voucher.code)
    assert client.get(f"/v/{voucher.token}/status.json").json() == {"status": "active", "uses_left": 2}


def test_the_address_is_kept_private(client, live, issue):
    voucher = issue(live)
    for url in (f"/v/{voucher.token}/", f"/v/{voucher.token}/live.json", f"/v/{voucher.token}/status.json"):
        response = client.get(url)
        assert "no-store" in response["Cache-Control"], url
        assert "noindex" in response["X-Robots-Tag"], url
        assert response["Referrer-Policy"] == "no-referrer", url
    assert "frame-ancestors 'none'" in client.get(f"/v/{voucher.token}/")["Content-Security-Policy"]
    # Link previews in chat apps often ask with HEAD first.
    head = client.head(f"/v/{voucher.token}/")
    assert head.status_code == 200 and head["Referrer-Policy"] == "no-referrer"


def test_english_when_the_browser_asks(client, wash, issue):
    voucher = issue(wash, uses_left=2)
    response = page(client, voucher, HTTP_ACCEPT_LANGUAGE="en")
    html = text_of(response)
    assert '<html lang="en">' in html
    assert "Ready to use" in html and "Uses left: <b>2</b>/3" in html and "How to use" in html
    assert "可使用" not in html
    missing = client.get("/v/" + "x" * 24 + "/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Voucher not found" in text_of(missing)


def test_voucher_url_from_the_issue_api_opens_the_page(client, api, olivia, meal):
    response = api(olivia).post("/api/v1/vouchers/", {"product": meal.id, "order_no": "X1"}, format="json")
    assert response.status_code == 201
    issued = response.json()["vouchers"][0]
    opened = client.get(issued["voucher_url"])
    assert opened.status_code == 200
    assert codes.group(issued["code"]) in text_of(opened)


def test_page_stays_small(client, live, issue):
    html = page(client, issue(live)).content
    assets = [finders.find(name) for name in ("buyer/buyer.css", "buyer/buyer.js")]
    total = len(gzip.compress(html)) + sum(len(gzip.compress(open(a, "rb").read())) for a in assets)
    assert total <= PAGE_BUDGET


@pytest.fixture
def phone(monkeypatch):
    """A headless Chromium the size of a phone, and the script errors and CSP violations it reports."""
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("browser tests need the playwright package (pip install -r requirements-browser.txt)")
    from tests.conftest import chromium_path

    executable = chromium_path()
    # Playwright's sync API keeps an event loop on this thread; the test's own ORM calls are sync.
    monkeypatch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=executable, args=["--no-sandbox", "--disable-gpu"])
        page = browser.new_page(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
        page.set_default_timeout(10_000)
        errors = []
        page.on("pageerror", lambda error: errors.append(str(error)))
        page.on("console", lambda m: errors.append(m.text) if "Content Security Policy" in m.text else None)
        yield page, errors
        browser.close()


@pytest.mark.browser
@pytest.mark.django_db(transaction=True)
def test_live_qr_changes_on_screen_and_the_page_turns_used_after_the_scan(phone, live_server, settings, live, issue):
    settings.LIVE_QR_STEP = 2
    page, errors = phone
    voucher = issue(live)
    page.goto(f"{live_server.url}/v/{voucher.token}/")
    first = page.inner_html("#qr")
    page.wait_for_function("first => document.getElementById('qr').innerHTML !== first", arg=first)
    assert "秒后刷新" in page.inner_text("#countdown")

    # The counter uses the last of it (the redeem itself is tested through the API above).
    Voucher.objects.filter(pk=voucher.pk).update(uses_left=0)
    # Playwright's event loop makes this an async context with a connection of its own: hand it
    # back now, or the test database is still in use when it is dropped.
    connection.close()
    # Coming back to the page (or the next 15 s poll) shows what the counter did.
    page.evaluate("document.dispatchEvent(new Event('visibilitychange'))")
    page.wait_for_selector(".badge-redeemed")
    assert page.query_selector("#qr") is None
    assert errors == []
