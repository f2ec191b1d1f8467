"""The owner's dashboard page as the server hands it out: who may see it, what it is told, its weight."""

import gzip
import json
import re

from django.contrib.staticfiles import finders

from redemption import services
from tests.conftest import PASSWORD

PAGE_BUDGET = 60 * 1024


def log_in(client, member):
    assert client.login(username=member.user.username, password=PASSWORD)
    return client


def page_config(html):
    match = re.search(r'<script id="dash-config" type="application/json">(.*?)</script>', html, re.S)
    return json.loads(match.group(1))


def test_it_sends_anonymous_visitors_to_the_login(client, db):
    response = client.get("/dashboard/")
    assert response.status_code == 302
    assert response["Location"] == "/staff/login/?next=/dashboard/"


def test_a_clerk_is_refused_in_words_with_a_way_back(client, carol):
    response = log_in(client, carol).get("/dashboard/")
    html = response.content.decode()
    assert response.status_code == 403
    assert "无权访问：仅店主和店长可查看数据看板" in html
    assert 'href="/staff/"' in html
    assert "dash-config" not in html


def test_the_owner_sees_every_store_of_the_merchant(client, olivia, mike, store_a, store_b, oscar):
    response = log_in(client, olivia).get("/dashboard/")
    html = response.content.decode()
    assert response.status_code == 200
    assert "A 人民路店" in html and "B 滨江店" in html
    assert "Other store" not in html
    assert "no-cache" in response["Cache-Control"]
    config = page_config(html)
    assert [s["name"] for s in config["stores"]] == ["A 人民路店", "B 滨江店"]
    assert config["tz"] == "Asia/Shanghai"
    assert config["urls"]["ws"] == "/ws/dashboard/"


def test_a_manager_sees_only_their_store(client, mike, store_a, store_b):
    html = log_in(client, mike).get("/dashboard/").content.decode()
    assert "A 人民路店" in html
    assert "B 滨江店" not in html
    assert [s["id"] for s in page_config(html)["stores"]] == [store_a.id]


def test_the_page_speaks_the_browsers_language(client, olivia):
    log_in(client, olivia)
    assert '<html lang="zh-hans">' in client.get("/dashboard/").content.decode()
    assert '<html lang="en">' in client.get("/dashboard/", HTTP_ACCEPT_LANGUAGE="en").content.decode()


def test_the_feed_replays_todays_events_and_counts_only_later_ones(client, olivia, carol, meal, issue, store_a):
    config = page_config(log_in(client, olivia).get("/dashboard/").content.decode())
    assert config["feedAfter"] == config["lastEventId"] == 0

    services.voucher_redeem(member=carol, raw_code=issue(meal).code, store_id=store_a.id)
    config = page_config(client.get("/dashboard/").content.decode())
    assert config["feedAfter"] < config["lastEventId"]


def test_a_manager_replays_only_their_stores_events(client, mike, dave, meal, issue, store_b):
    services.voucher_redeem(member=dave, raw_code=issue(meal).code, store_id=store_b.id)
    config = page_config(log_in(client, mike).get("/dashboard/").content.decode())
    assert config["feedAfter"] == config["lastEventId"] == 0


def test_page_and_its_scripts_fit_the_budget(client, olivia, store_a, store_b):
    html = log_in(client, olivia).get("/dashboard/").content
    assets = set(re.findall(rb'(?:src|href)="(/static/[^"]+\.(?:js|css)|/jsi18n/)"', html))
    assert {b"/static/dashboard/dashboard.js", b"/static/dashboard/dashboard.css", b"/jsi18n/"} <= assets
    total = len(gzip.compress(html))
    for url in assets:
        url = url.decode()
        if url.startswith("/static/"):
            with open(finders.find(url.removeprefix("/static/")), "rb") as f:
                total += len(gzip.compress(f.read()))
        else:
            total += len(gzip.compress(client.get(url).content))
    assert total <= PAGE_BUDGET, f"{total} bytes gzipped"


def test_the_staff_tab_is_the_owners_alone(client, olivia, mike):
    owner_html = log_in(client, olivia).get("/dashboard/").content.decode()
    assert 'data-tab="people"' in owner_html and 'id="tab-people"' in owner_html
    assert page_config(owner_html)["urls"]["devices"] == "/api/v1/devices/"
    client.logout()
    manager_html = log_in(client, mike).get("/dashboard/").content.decode()
    assert 'data-tab="people"' not in manager_html and 'id="qr-sheet"' not in manager_html
