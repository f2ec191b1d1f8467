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
