"""Password guessing is refused: ten wrong passwords lock a username out of every login."""

import pytest
from django.core.cache import cache
from rest_framework.test import APIClient

from tests.conftest import PASSWORD


@pytest.fixture(autouse=True)
def fresh_cache():
    cache.clear()
    yield
    cache.clear()


def token(username, password):
    return APIClient().post("/api/v1/auth/token/", {"username": username, "password": password}, format="json")


def test_ten_wrong_passwords_lock_the_account_for_every_login(carol, dave, client):
    for _ in range(10):
        assert token("carol", "guess").status_code == 400
    locked = token("carol", PASSWORD)
    assert locked.status_code == 429
    assert locked.json()["result"] == "throttled" and 0 < locked.json()["retry_after"] <= 15 * 60
    assert locked["Retry-After"] == str(locked.json()["retry_after"])
    page = client.post("/staff/login/", {"username": "carol", "password": PASSWORD})
    assert page.status_code == 200 and "锁定" in page.content.decode()
    assert not client.session.get("_auth_user_id")
    # Only the guessed account is locked.
    assert token("dave", PASSWORD).status_code == 200


def test_a_successful_login_forgets_earlier_mistakes(carol):
    for _ in range(9):
        token("carol", "guess")
    assert token("carol", PASSWORD).status_code == 200
    for _ in range(9):
        token("carol", "guess")
    assert token("carol", PASSWORD).status_code == 200


def test_the_lock_counts_usernames_case_blind(carol):
    for i in range(10):
        token("Carol" if i % 2 else "CAROL", "guess")
    assert token("carol", PASSWORD).status_code == 429


def test_one_password_tried_on_many_accounts_locks_the_address_out(db, client):
    from staff.services import merchant_create

    merchant_create(name="Spray", owner_username="victim", owner_password=PASSWORD)
    sprayer, shop = APIClient(REMOTE_ADDR="203.0.113.9"), APIClient(REMOTE_ADDR="198.51.100.7")
    answers = [
        sprayer.post("/api/v1/auth/token/", {"username": f"user{i}", "password": "123456a!"}, format="json")
        for i in range(30)
    ]
    assert [a.status_code for a in answers[:20]] == [400] * 20
    assert {a.status_code for a in answers[20:]} == {429}
    assert answers[-1].json()["result"] == "throttled" and answers[-1].json()["retry_after"] > 0
    # The right password from that address is refused too, on every login path ...
    assert sprayer.post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, format="json").status_code == 429
    page = client.post("/staff/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert page.status_code == 200 and "锁定" in page.content.decode()
    admin = client.post("/admin/login/", {"username": "victim", "password": PASSWORD}, REMOTE_ADDR="203.0.113.9")
    assert admin.status_code == 200 and not client.session.get("_auth_user_id")
    # ... while the account itself is not locked: its owner logs in from the shop.
    assert shop.post("/api/v1/auth/token/", {"username": "victim", "password": PASSWORD}, format="json").status_code == 200
