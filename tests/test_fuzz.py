"""No input gives a 500: random text, random JSON and random query strings at the endpoints."""

import json
import urllib.error
import urllib.request

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from tests.conftest import token_for

from tests.processes import Server

EXAMPLES = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=10), inner, max_size=4),
    max_leaves=12,
)
code_like = st.one_of(
    st.text(max_size=200),
    st.text(alphabet="0123456789０１２３４５６７８９ -—\t\r\n", max_size=40),
    st.from_regex(r"https?://[a-z.]{1,20}/v/[A-Za-z0-9_-]{0,40}/?", fullmatch=True),
    st.from_regex(r"LQ1\.[A-Za-z0-9_-]{0,30}\.[0-9-]{0,12}\.[0-9a-f]{0,24}", fullmatch=True),
)
ANSWERS = {200, 400, 404, 409, 422, 429}


def assert_answer(response):
    assert response.status_code in ANSWERS, (response.status_code, response.content[:300])
    body = response.json()
    assert isinstance(body["ok"], bool) and body["result"]


@EXAMPLES
@given(code=code_like, uses=st.one_of(st.none(), st.integers(-5, 5000), st.text(max_size=5)))
def test_redeem_and_check_answer_any_code(api, carol, meal, issue, code, uses):
    client = api(carol)
    body = {"code": code} if uses is None else {"code": code, "uses": uses}
    assert_answer(client.post("/api/v1/redeem/", body, format="json"))
    assert_answer(client.post("/api/v1/check/", {"code": code}, format="json"))


@EXAMPLES
@given(body=json_values)
def test_any_json_body(api, olivia, store_a, body):
    client = api(olivia)
    for path in ("/api/v1/redeem/", "/api/v1/products/", "/api/v1/staff/", "/api/v1/vouchers/", "/api/v1/stores/"):
        response = client.post(path, json.dumps(body), content_type="application/json")
        assert response.status_code < 500, (path, response.content[:300])


@EXAMPLES
@given(params=st.dictionaries(st.sampled_from(["from", "to", "store", "staff", "page", "status", "q", "product", "order_no"]),
                              st.text(max_size=20), max_size=4))
def test_any_query_string(api, olivia, params):
    client = api(olivia)
    for path in ("/api/v1/redemptions/", "/api/v1/vouchers/", "/api/v1/stats/staff/", "/api/v1/stats/products/",
                 "/api/v1/redemptions/export.csv"):
        response = client.get(path, params)
        assert response.status_code < 500, (path, params, response.content[:300])


def test_giant_ids_are_not_found_or_refused(api, olivia, carol):
    giant = "9" * 30
    assert api(olivia).get(f"/api/v1/staff/{giant}/").status_code == 404
    assert api(olivia).post(f"/api/v1/vouchers/{'9' * 18}/void/", {}, format="json").status_code == 404
    assert api(carol).post("/api/v1/redeem/", {"code": "1", "store": int(giant)}, format="json").status_code == 400
    assert api(olivia).get("/api/v1/redemptions/", {"store": giant}).status_code == 400


def test_nul_characters_are_refused_not_crashed_on(api, olivia):
    client = api(olivia)
    assert client.get("/api/v1/vouchers/", {"q": "12\x0034"}).status_code == 400
    assert client.post("/api/v1/stores/", {"name": "a\x00b"}, format="json").status_code == 400
    token = api(None).post("/api/v1/auth/token/", {"username": "olivia\x00", "password": "x"}, format="json")
    assert token.status_code == 400


def raw_post(url, token, body, content_type):
    request = urllib.request.Request(url, data=body, method="POST",
                                     headers={"Content-Type": content_type, "Authorization": f"Token {token}"})
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, response.headers.get("Content-Type"), response.read()
    except urllib.error.HTTPError as error:
        return error.code, error.headers.get("Content-Type"), error.read()


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
def test_a_multipart_body_without_parts_is_answered_in_json_by_the_real_server(olivia):
    """As production serves it (daphne): a form with no parts, or none that can be read, reaches
    the API and is answered like any bad input, never with a bare 400."""
    token = token_for(olivia)
    server = Server().start()
    try:
        for body in (b"--xyz--\r\n", b"not a form"):
            for path in ("/api/v1/redeem/order/", "/api/v1/offline/conflicts/1/settle/", "/api/v1/stores/",
                         "/api/v1/vouchers/import/"):
                status, content_type, answer = raw_post(server.url + path, token, body, "multipart/form-data; boundary=xyz")
                assert content_type == "application/json", (path, body, status, answer)
                assert status in (400, 404) and json.loads(answer)["ok"] is False, (path, body, status, answer)
    finally:
        server.stop()


def test_a_page_size_that_is_not_a_whole_number_from_1_is_refused(api, olivia):
    client = api(olivia)
    for size in ("null", "0", "-1", "1.5", "²"):
        response = client.get("/api/v1/vouchers/", {"page_size": size})
        assert response.status_code == 400 and "page_size" in response.json()["errors"], size
    assert client.get("/api/v1/vouchers/", {"page_size": "9999"}).status_code == 200
    assert client.get("/api/v1/vouchers/", {"page_size": ""}).status_code == 200


def test_in_json_a_value_must_have_the_type_the_schema_gives_it(api, olivia, carol, store_a):
    owner = api(olivia)
    refused = [
        ("post", "/api/v1/stores/", {"name": "新店", "address": 0}, "address"),
        ("patch", f"/api/v1/stores/{store_a.id}/", {"offline_max_value": 300}, "offline_max_value"),
        ("patch", f"/api/v1/stores/{store_a.id}/", {"offline_max_value": "-1"}, "offline_max_value"),
        ("patch", f"/api/v1/stores/{store_a.id}/", {"offline_enabled": "yes"}, "offline_enabled"),
        ("patch", f"/api/v1/stores/{store_a.id}/", {"offline_max_redemptions": "20"}, "offline_max_redemptions"),
    ]
    for method, path, body, field in refused:
        response = getattr(owner, method)(path, body, format="json", HTTP_ACCEPT_LANGUAGE="zh-hans")
        assert response.status_code == 400 and field in response.json()["errors"], (body, response.content)
    upload = api(carol).post("/api/v1/offline/upload/", {"device": 0, "items": []}, format="json")
    assert upload.status_code == 400 and "device" in upload.json()["errors"]
    assert owner.get(f"/api/v1/stores/{store_a.id}/").json()["offline_enabled"] is False


def test_a_form_still_sends_everything_as_text(api, olivia, store_a):
    response = api(olivia).patch(f"/api/v1/stores/{store_a.id}/", {"offline_enabled": "true", "offline_max_value": "300"},
                                 format="multipart")
    assert response.status_code == 200 and response.json()["offline_max_value"] == "300.00"
