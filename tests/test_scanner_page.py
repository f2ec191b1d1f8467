"""The scanner PWA as the server hands it out: pages, manifest, service worker and the first-load budget."""

import gzip
import json
import os
import re

import pytest
from django.contrib.staticfiles import finders

from redemption import codes
from staff.models import Role, Store
from staff.services import merchant_create, staff_create

PASSWORD = "counter-2026"
FIRST_LOAD_BUDGET = 150 * 1024


@pytest.fixture
def shop(db):
    owner = merchant_create(name="面包坊", owner_username="shop-owner", owner_password=PASSWORD)
    merchant = owner.merchant
    east = Store.objects.create(merchant=merchant, name="东门店")
    west = Store.objects.create(merchant=merchant, name="西门店")
    clerk = staff_create(merchant=merchant, username="shop-clerk", password=PASSWORD, display_name="小王", stores=[east])
    manager = staff_create(
        merchant=merchant, username="shop-manager", password=PASSWORD, display_name="赵店长",
        role=Role.MANAGER, stores=[east, west],
    )
    return {"owner": owner, "clerk": clerk, "manager": manager, "east": east, "west": west}


def login(client, member):
    client.force_login(member.user)
    return client


def page_config(html):
    match = re.search(r'<script id="hx-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_scanner_needs_login(client, db):
    response = client.get("/staff/")
    assert response.status_code == 302
    assert response["Location"].startswith("/staff/login/")


def test_login_page_in_chinese_and_logs_in_to_the_scanner(client, shop):
    page = client.get("/staff/login/")
    html = page.content.decode()
    assert page.status_code == 200
    assert '<html lang="zh-hans">' in html
    assert "账号" in html and "密码" in html and "登录" in html
    assert 'name="viewport"' in html

    response = client.post("/staff/login/", {"username": "shop-clerk", "password": PASSWORD})
    assert response.status_code == 302
    assert response["Location"] == "/staff/"


def test_wrong_password_stays_on_login_with_an_error(client, shop):
    response = client.post("/staff/login/", {"username": "shop-clerk", "password": "wrong-password"})
    assert response.status_code == 200
    assert 'class="form-error"' in response.content.decode()


def test_login_page_in_english(client, db):
    html = client.get("/staff/login/", HTTP_ACCEPT_LANGUAGE="en").content.decode()
    assert '<html lang="en">' in html
    assert "Log in" in html and "Password" in html


def test_clerk_sees_their_one_store_and_no_picker(client, shop):
    response = login(client, shop["clerk"]).get("/staff/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "东门店" in html and "西门店" not in html
    assert '<select id="store"' not in html
    assert "no-cache" in response["Cache-Control"]
    assert "csrftoken" in response.cookies
    config = page_config(html)
    assert config["stores"] == [{"id": shop["east"].id, "name": "东门店", "offline": False}]
    assert config["staff"] == {"id": shop["clerk"].id, "name": "小王", "may_lookup": False}
    assert config["urls"]["check"] == "/api/v1/check/"
    assert config["urls"]["redeem"] == "/api/v1/redeem/"


def test_manager_with_two_stores_gets_a_picker(client, shop):
    html = login(client, shop["manager"]).get("/staff/").content.decode()
    assert '<select id="store"' in html
    assert f'<option value="{shop["east"].id}">东门店</option>' in html
    assert f'<option value="{shop["west"].id}">西门店</option>' in html


def test_owner_works_in_every_store_of_the_merchant(client, shop):
    config = page_config(login(client, shop["owner"]).get("/staff/").content.decode())
    assert [s["name"] for s in config["stores"]] == ["东门店", "西门店"]


def test_manifest_makes_the_scanner_installable(client, db):
    response = client.get("/staff/manifest.webmanifest")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/manifest+json")
    manifest = json.loads(response.content)
    assert manifest["name"] == "核销助手"
    assert manifest["start_url"] == "/staff/"
    assert manifest["display"] == "standalone"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        assert finders.find(icon["src"].removeprefix("/static/")), icon["src"]


def test_service_worker_is_served_for_the_staff_scope(client, db):
    response = client.get("/staff/sw.js")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/javascript")
    assert response["Service-Worker-Allowed"] == "/staff/"
    assert "no-cache" in response["Cache-Control"]
    body = response.content.decode()
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", body).group(1))
    assert "/static/staff/app.js" in shell and "/static/staff/app.css" in shell
    for url in shell:
        assert finders.find(url.removeprefix("/static/")), url
    assert re.search(r'const VERSION = "[0-9a-f]{12}";', body)


def test_service_worker_never_handles_api_requests(client, db):
    body = client.get("/staff/sw.js").content.decode()
    # Only the scanner page and static files are answered from the cache; nothing under /api/.
    assert 'url.pathname === SCOPE' in body and "url.pathname.startsWith(STATIC_PREFIX)" in body
    assert "/api/" not in body.split("self.addEventListener(\"fetch\"")[1].split("});")[0]


def test_pages_work_with_hashed_static_names(client, shop, settings, tmp_path):
    """Production serves static files under content-hashed names from a manifest."""
    from django.core.management import call_command

    settings.STATIC_ROOT = tmp_path
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.ManifestStaticFilesStorage"},
    }
    call_command("collectstatic", "--noinput", verbosity=0)
    worker = client.get("/staff/sw.js").content.decode()
    assert re.search(r'"/static/staff/app\.[0-9a-f]{12}\.js"', worker)
    assert 'const STATIC_PREFIX = "/static/";' in worker
    assert client.get("/staff/manifest.webmanifest").status_code == 200
    html = login(client, shop["clerk"]).get("/staff/").content.decode()
    assert re.search(r'src="/static/staff/app\.[0-9a-f]{12}\.js"', html)


def first_load_assets(html):
    """What the page loads at once: its scripts, the modules it preloads, its stylesheets (URLs)."""
    return (
        re.findall(r'<script[^>]+src="([^"]+)"', html)
        + re.findall(r'<link rel="modulepreload" href="([^"]+)"', html)
        + re.findall(r'<link rel="stylesheet" href="([^"]+)"', html)
    )


def asset_bytes(client, url):
    if url.startswith("/static/"):
        with open(finders.find(url.removeprefix("/static/")), "rb") as f:
            return f.read()
    return client.get(url).content  # the words catalogue


def test_first_load_fits_the_budget(client, shop):
    html = login(client, shop["clerk"]).get("/staff/").content
    assets = first_load_assets(html.decode())
    assert "/static/staff/app.js" in assets and "/static/staff/app.css" in assets and "/jsi18n/" in assets
    assert not any("jsqr" in url.lower() for url in assets), "the QR decoder must load only with the camera"
    total = len(gzip.compress(html)) + sum(len(gzip.compress(asset_bytes(client, url))) for url in assets)
    assert total <= FIRST_LOAD_BUDGET, f"first load is {total} bytes gzipped"


def test_vendored_decoder_is_there_for_the_camera(client, shop):
    config = page_config(login(client, shop["clerk"]).get("/staff/").content.decode())
    name = config["urls"]["jsqr"].removeprefix("/static/")
    assert finders.find(name)
    assert finders.find("vendor/jsqr/LICENSE")


def test_client_damm_table_matches_the_server():
    with open(finders.find("staff/js/codes.js"), encoding="utf-8") as f:
        script = f.read()
    rows = re.search(r"const DAMM = (.*?);", script, re.S).group(1)
    table = "".join(re.findall(r'"(\d{10})"', rows))
    assert table == "".join(str(d) for row in codes._DAMM for d in row)


def imported_modules(name, found=None):
    """Every module `name` imports, directly or through another, as static names (staff/js/x.js)."""
    found = set() if found is None else found
    with open(finders.find(name), encoding="utf-8") as f:
        source = f.read()
    folder = name.rsplit("/", 1)[0]
    for target in re.findall(r'^import\s[^;]*?from\s+"(\./[^"]+)"', source, re.MULTILINE | re.DOTALL):
        module = os.path.normpath(f"{folder}/{target}")
        if module not in found:
            found.add(module)
            imported_modules(module, found)
    return found


def test_the_page_preloads_exactly_the_modules_the_scanner_imports(client, shop):
    html = login(client, shop["clerk"]).get("/staff/").content.decode()
    preloaded = {url.removeprefix("/static/") for url in re.findall(r'<link rel="modulepreload" href="([^"]+)"', html)}
    assert preloaded == imported_modules("staff/app.js")


def test_the_service_worker_keeps_every_module_the_scanner_imports(client, db):
    shell = json.loads(re.search(r"const SHELL = (\[.*?\]);", client.get("/staff/sw.js").content.decode()).group(1))
    assert {f"/static/{name}" for name in imported_modules("staff/app.js")} <= set(shell)
