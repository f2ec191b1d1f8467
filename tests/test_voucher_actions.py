import pytest

from redemption import codes
from redemption.models import Voucher


def redeem(client, code):
    return client.post("/api/v1/redeem/", {"code": code}, format="json")


def act(client, voucher, action, reason=""):
    return client.post(f"/api/v1/vouchers/{voucher.id}/{action}/", {"reason": reason}, format="json")


def test_a_voided_voucher_stops_working(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    response = act(api(olivia), voucher, "void", "买家退款")
    assert response.status_code == 200 and response.json()["voucher"]["status"] == "voided"
    refused = redeem(api(carol), voucher.code)
    assert (refused.status_code, refused.json()["result"]) == (409, "voided")
    assert refused.json()["voided_at"]
    assert act(api(olivia), voucher, "void").status_code == 409


def test_freeze_and_unfreeze(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    assert act(api(olivia), voucher, "freeze").json()["voucher"]["status"] == "frozen"
    assert redeem(api(carol), voucher.code).json()["result"] == "frozen"
    assert act(api(olivia), voucher, "unfreeze").json()["voucher"]["status"] == "active"
    assert redeem(api(carol), voucher.code).status_code == 200


def test_reissue_voids_the_old_code_and_carries_the_uses_left(api, olivia, carol, wash, issue):
    old = issue(wash)
    redeem(api(carol), old.code)
    response = act(api(olivia), old, "reissue", "顾客删除了短信")
    assert response.status_code == 201
    new = response.json()["new_voucher"]
    assert codes.damm_valid(new["code"]) and new["code"] != old.code
    assert new["uses_left"] == 2
    assert response.json()["voucher"]["status"] == "voided"
    assert redeem(api(carol), old.code).json()["result"] == "voided"
    assert redeem(api(carol), new["code"]).status_code == 200
    assert Voucher.objects.get(pk=new["id"]).replaces_id == old.id


def test_a_used_up_voucher_is_not_reissued(api, olivia, carol, meal, issue):
    voucher = issue(meal)
    redeem(api(carol), voucher.code)
    assert act(api(olivia), voucher, "reissue").status_code == 409
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE


@pytest.mark.parametrize("action", ["void", "freeze", "unfreeze", "reissue"])
def test_only_the_owner_of_the_merchant_acts_on_vouchers(api, mike, carol, oscar, meal, issue, action):
    voucher = issue(meal)
    assert act(api(carol), voucher, action).status_code == 403
    assert act(api(mike), voucher, action).status_code == 403
    assert act(api(oscar), voucher, action).status_code == 404
    voucher.refresh_from_db()
    assert voucher.state == Voucher.State.ACTIVE


def test_the_qr_codes(api, olivia, oscar, meal, issue):
    voucher = issue(meal)
    svg = api(olivia).get(f"/api/v1/vouchers/{voucher.id}/qr.svg", HTTP_ACCEPT="image/*")
    assert svg.status_code == 200 and svg["Content-Type"] == "image/svg+xml" and b"<svg" in svg.content
    png = api(olivia).get(f"/api/v1/vouchers/{voucher.id}/qr.png")
    assert png.status_code == 200 and png.content.startswith(b"\x89PNG")
    assert voucher.code.encode() not in svg.content
    assert api(oscar).get(f"/api/v1/vouchers/{voucher.id}/qr.svg").status_code == 404
