"""Every endpoint against every role: owner, manager, clerk, another merchant's owner, nobody."""

import pytest
from rest_framework.test import APIClient

from django.utils import timezone

from redemption import codes, services
from redemption.models import OfflineConflict
from staff.models import Store

ROLES = ["olivia", "mike", "carol", "oscar", "anonymous"]
ALLOWED, FORBIDDEN, UNAUTHORIZED = "allowed", 403, 401

# (name, method, path, body) -> who is let in. "allowed" means: not 401/403.
MATRIX = [
    ("check", "post", "/api/v1/check/", lambda c: {"code": c["code"]}, {"olivia", "mike", "carol", "oscar"}),
    ("redeem", "post", "/api/v1/redeem/", lambda c: {"code": codes.generate()}, {"olivia", "mike", "carol", "oscar"}),
    ("order redeem", "post", "/api/v1/redeem/order/", lambda c: {"code": c["code"], "vouchers": [{"id": c["voucher"]}]},
     {"olivia", "mike", "carol", "oscar"}),
    # Redeeming a voucher found by lookup, by its id: never a clerk.
    ("redeem by id", "post", "/api/v1/redeem/", lambda c: {"voucher": c["voucher"]}, {"olivia", "mike", "oscar"}),
    ("lookup by order", "get", "/api/v1/vouchers/lookup/?order_no=T-1", None, {"olivia", "mike", "oscar"}),
    ("lookup by phone", "get", "/api/v1/vouchers/lookup/?phone=13800138000", None, {"olivia", "mike", "oscar"}),
    ("lookup by phone, posted", "post", "/api/v1/vouchers/lookup/", lambda c: {"phone": "13800138000"},
     {"olivia", "mike", "oscar"}),
    ("mine", "get", "/api/v1/redemptions/mine/", None, {"olivia", "mike", "carol", "oscar"}),
    ("offline snapshot", "get", "/api/v1/offline/snapshot/", None, {"olivia", "mike", "carol", "oscar"}),
    ("offline upload", "post", "/api/v1/offline/upload/", lambda c: {"device": "d", "items": []},
     {"olivia", "mike", "carol", "oscar"}),
    ("offline conflicts", "get", "/api/v1/offline/conflicts/", None, {"olivia", "mike", "oscar"}),
    ("offline devices", "get", "/api/v1/offline/devices/", None, {"olivia", "mike", "oscar"}),
    ("redemption list", "get", "/api/v1/redemptions/", None, {"olivia", "mike", "oscar"}),
    ("stores", "get", "/api/v1/stores/", None, {"olivia", "oscar"}),
    ("store create", "post", "/api/v1/stores/", lambda c: {"name": "新店"}, {"olivia", "oscar"}),
    ("staff", "get", "/api/v1/staff/", None, {"olivia", "oscar"}),
    ("staff create", "post", "/api/v1/staff/",
     lambda c: {"username": f"new-{c['who']}", "password": "long-enough-pw", "display_name": "新人", "role": "clerk"},
     {"olivia", "oscar"}),
    ("products", "get", "/api/v1/products/", None, {"olivia", "oscar"}),
    ("product create", "post", "/api/v1/products/", lambda c: {"name": "券", "face_value": "9.90"}, {"olivia", "oscar"}),
    ("vouchers", "get", "/api/v1/vouchers/", None, {"olivia", "oscar"}),
    ("voucher issue", "post", "/api/v1/vouchers/", lambda c: {"product": c["product"], "order_no": "M-1"}, {"olivia", "oscar"}),
    ("staff stats", "get", "/api/v1/stats/staff/", None, {"olivia", "mike", "oscar"}),
    ("store stats", "get", "/api/v1/stats/stores/", None, {"olivia", "mike", "oscar"}),
    ("product stats", "get", "/api/v1/stats/products/", None, {"olivia", "mike", "oscar"}),
    ("export", "get", "/api/v1/redemptions/export.csv", None, {"olivia", "mike", "oscar"}),
    ("orders", "get", "/api/v1/orders/", None, {"olivia", "mike", "oscar"}),
    ("orders export", "get", "/api/v1/orders/export.csv", None, {"olivia", "mike", "oscar"}),
    ("daily statement", "get", "/api/v1/stats/daily/", None, {"olivia", "mike", "oscar"}),
    ("daily statement csv", "get", "/api/v1/stats/daily.csv", None, {"olivia", "mike", "oscar"}),
    ("devices", "get", "/api/v1/devices/", None, {"olivia", "mike", "oscar"}),
    ("sign this device out", "delete", "/api/v1/auth/token/", None, {"olivia", "mike", "carol", "oscar"}),
    ("issue from a file", "post", "/api/v1/vouchers/issue-file/", lambda c: {"product": c["product"], "channel": "pdd"},
     {"olivia", "oscar"}),
]

# Endpoints about one object of Acme's: another merchant's owner is let in and told "not found".
OBJECT_MATRIX = [
    ("reverse", "post", "/api/v1/redemptions/{redemption}/reverse/", {"olivia", "mike", "carol"}),
    ("staff member", "get", "/api/v1/staff/{carol}/", {"olivia"}),
    ("store", "get", "/api/v1/stores/{store}/", {"olivia"}),
    ("store change", "patch", "/api/v1/stores/{store}/", {"olivia"}),
    ("settle conflict", "post", "/api/v1/offline/conflicts/{conflict}/settle/", {"olivia", "mike"}),
    ("staff change", "patch", "/api/v1/staff/{carol}/", {"olivia"}),
    ("void", "post", "/api/v1/vouchers/{voucher}/void/", {"olivia"}),
    ("freeze", "post", "/api/v1/vouchers/{voucher}/freeze/", {"olivia"}),
    ("unfreeze", "post", "/api/v1/vouchers/{voucher}/unfreeze/", {"olivia"}),
    ("reissue", "post", "/api/v1/vouchers/{voucher}/reissue/", {"olivia"}),
    ("qr svg", "get", "/api/v1/vouchers/{voucher}/qr.svg", {"olivia"}),
    ("qr png", "get", "/api/v1/vouchers/{voucher}/qr.png", {"olivia"}),
    ("history", "get", "/api/v1/vouchers/{voucher}/history/", {"olivia"}),
    ("reveal", "post", "/api/v1/vouchers/{voucher}/reveal/", {"olivia"}),
    ("sign-in QR", "post", "/api/v1/staff/{carol}/signin-qr/", {"olivia", "mike"}),
    ("delivery file", "get", "/api/v1/vouchers/issue-file/{batch}/delivery.csv", {"olivia"}),
    ("delivery workbook", "get", "/api/v1/vouchers/issue-file/{batch}/delivery.xlsx", {"olivia"}),
]


@pytest.fixture
def cast(olivia, mike, carol, dave, oscar):
    return {"olivia": olivia, "mike": mike, "carol": carol, "oscar": oscar, "anonymous": None}


@pytest.mark.parametrize("name, method, path, body, allowed", MATRIX, ids=[row[0] for row in MATRIX])
@pytest.mark.parametrize("who", ROLES)
def test_endpoint_access(api, cast, meal, issue, who, name, method, path, body, allowed):
    voucher = issue(meal)
    # Offline on everywhere: a snapshot's own 403 (offline_disabled) is not what this test is about.
    Store.objects.update(offline_enabled=True)
    context = {"code": voucher.code, "who": who, "product": meal.id, "voucher": voucher.id}
    client = api(cast[who])
    data = body(context) if body else None
    response = getattr(client, method)(path, data, format="json")
    if who == "anonymous":
        assert response.status_code == 401
        assert response["WWW-Authenticate"] == "Token"
    elif who in allowed:
        assert response.status_code not in (401, 403), response.json()
    else:
        assert response.status_code == 403
        assert response.json()["ok"] is False and response.json()["result"] == "forbidden"


@pytest.mark.parametrize("name, method, path, allowed", OBJECT_MATRIX, ids=[row[0] for row in OBJECT_MATRIX])
@pytest.mark.parametrize("who", ROLES)
def test_object_access(api, cast, meal, issue, who, name, method, path, allowed):
    carol = cast["carol"]
    voucher = issue(meal)
    redemption = api(carol).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json").json()["redemption"]
    store = carol.stores.get()
    conflict = OfflineConflict.objects.create(
        merchant=carol.merchant, store=store, staff=carol, device="d", idempotency_key="k", code_masked="****1234",
        result="already_redeemed", scanned_at=timezone.now(),
    )
    batch = services.vouchers_issue_file(member=cast["olivia"], product=meal, channel="pdd", raw="订单号\nP-1\n".encode())
    url = path.format(redemption=redemption["id"], carol=carol.id, voucher=voucher.id, store=store.id,
                      conflict=conflict.id, batch=batch.pk)
    response = getattr(api(cast[who]), method)(url, {}, format="json")
    if who == "anonymous":
        assert response.status_code == 401
    elif who == "oscar":
        assert response.status_code == 404
    elif who in allowed:
        assert response.status_code in (200, 201), response.content
    else:
        assert response.status_code == 403
        assert response.json()["result"] == "forbidden"


def test_issuing_vouchers_is_for_owners_only(api, olivia, mike, carol, meal):
    body = {"product": meal.id, "order_no": "PDD-1"}
    assert api(carol).post("/api/v1/vouchers/", body, format="json").status_code == 403
    assert api(mike).post("/api/v1/vouchers/", body, format="json").status_code == 403
    assert api(olivia).post("/api/v1/vouchers/", body, format="json").status_code == 201


def test_a_foreign_owner_sees_nothing_of_ours(api, oscar, olivia, carol, meal, issue, store_a):
    voucher = issue(meal)
    api(carol).post("/api/v1/redeem/", {"code": voucher.code}, format="json")
    client = api(oscar)
    assert client.post("/api/v1/check/", {"code": voucher.code}, format="json").json()["result"] == "not_found"
    assert client.get("/api/v1/redemptions/").json()["count"] == 0
    assert client.get("/api/v1/vouchers/").json()["count"] == 0
    assert [s["name"] for s in client.get("/api/v1/stores/").json()] == ["Other store"]
    assert [s["display_name"] for s in client.get("/api/v1/staff/").json()] == ["Oscar"]
    assert client.patch(f"/api/v1/staff/{carol.id}/", {"is_active": False}, format="json").status_code == 404
    assert client.post("/api/v1/products/", {"name": "x", "face_value": "1", "stores": [store_a.id]},
                       format="json").status_code == 400
    assert client.post("/api/v1/vouchers/", {"product": meal.id, "order_no": "X"}, format="json").status_code == 400


def test_a_manager_sees_only_their_stores(api, mike, carol, dave, meal, issue):
    api(carol).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json")
    api(dave).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json")
    rows = api(mike).get("/api/v1/redemptions/").json()["results"]
    assert [r["staff"]["display_name"] for r in rows] == ["Carol"]


def test_a_superuser_without_a_merchant_gets_no_api(db, django_user_model):
    admin = django_user_model.objects.create_superuser("root", password="x-long-password")
    client = APIClient()
    client.force_authenticate(admin)
    assert client.get("/api/v1/redemptions/").status_code == 403


def test_a_deactivated_clerk_loses_access_at_once(api, olivia, carol, meal, issue, client):
    clerk_api = api(carol)
    assert client.login(username="carol", password="correct-horse-9")
    voucher = issue(meal)
    assert clerk_api.post("/api/v1/check/", {"code": voucher.code}, format="json").status_code == 200
    response = api(olivia).patch(f"/api/v1/staff/{carol.id}/", {"is_active": False}, format="json")
    assert response.status_code == 200 and response.json()["is_active"] is False
    assert clerk_api.post("/api/v1/redeem/", {"code": voucher.code}, format="json").status_code == 401
    assert client.post("/api/v1/redeem/", {"code": voucher.code}, content_type="application/json").status_code in (401, 403)
    voucher.refresh_from_db()
    assert voucher.uses_left == 1


def test_session_auth_needs_csrf(carol, meal, issue):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.login(username="carol", password="correct-horse-9")
    voucher = issue(meal)
    refused = client.post("/api/v1/redeem/", {"code": voucher.code}, content_type="application/json")
    assert refused.status_code == 403
    client.get("/staff/")  # the scanner page sets the CSRF cookie
    token = client.cookies["csrftoken"].value
    done = client.post("/api/v1/redeem/", {"code": voucher.code}, content_type="application/json", HTTP_X_CSRFTOKEN=token)
    assert done.status_code == 200


def test_token_login(db, carol):
    client = APIClient()
    ok = client.post("/api/v1/auth/token/", {"username": "carol", "password": "correct-horse-9"}, format="json")
    assert ok.status_code == 200 and len(ok.json()["token"]) == 40
    wrong = client.post("/api/v1/auth/token/", {"username": "carol", "password": "nope"}, format="json")
    assert wrong.status_code == 400 and wrong.json()["result"] == "invalid_credentials"
    assert client.post("/api/v1/auth/token/", [1], format="json").status_code == 400


def test_a_manager_sees_only_the_orders_and_statement_of_their_stores(api, olivia, mike, carol, dave, meal, issue):
    api(carol).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json")
    api(dave).post("/api/v1/redeem/", {"code": issue(meal).code}, format="json")
    assert api(mike).get("/api/v1/orders/").json()["count"] == 1
    assert api(olivia).get("/api/v1/orders/").json()["count"] == 2
    assert [r["redemptions"] for r in api(mike).get("/api/v1/stats/daily/").json()] == [1]
    exported = b"".join(api(mike).get("/api/v1/orders/export.csv").streaming_content).decode("utf-8-sig")
    assert len(exported.strip().splitlines()) == 2


def test_a_foreign_owner_sees_none_of_our_orders_statement_or_history(api, oscar, carol, meal, issue):
    voucher = issue(meal)
    api(carol).post("/api/v1/redeem/", {"code": voucher.code}, format="json")
    client = api(oscar)
    assert client.get("/api/v1/orders/").json()["count"] == 0
    assert client.get("/api/v1/orders/", {"q": voucher.order_no}).json()["count"] == 0
    assert client.get("/api/v1/stats/daily/").json() == []
    unknown = client.get("/api/v1/vouchers/987654321/history/")
    ours = client.get(f"/api/v1/vouchers/{voucher.id}/history/")
    assert ours.status_code == unknown.status_code == 404 and ours.json() == unknown.json()
    assert client.post(f"/api/v1/vouchers/{voucher.id}/reveal/").json() == client.post("/api/v1/vouchers/987654321/reveal/").json()
