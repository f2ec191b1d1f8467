"""Running it: settings from the environment, health, the schema, the commands."""

import base64
import os
import secrets
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import CommandError, call_command

from redemption.models import Voucher

from staff.models import Membership, Merchant, Role

ROOT = Path(__file__).resolve().parent.parent


def manage(*args, **env):
    environment = {k: v for k, v in os.environ.items() if k not in ("DEBUG", "SECRET_KEY", "ALLOWED_HOSTS", "FIELD_ENCRYPTION_KEY")}
    environment.update(env)
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=environment,
                          capture_output=True, text=True, timeout=120)


PRODUCTION = {"DEBUG": "false", "ALLOWED_HOSTS": "hexiao.example.com"}


def test_production_settings_pass_check_deploy():
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50),
                    FIELD_ENCRYPTION_KEY=base64.urlsafe_b64encode(os.urandom(32)).decode(), **PRODUCTION)
    assert result.returncode == 0, result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_warns_while_card_passwords_hang_on_the_secret_key(tmp_path):
    result = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50), **PRODUCTION)
    assert result.returncode != 0 and "redemption.W001" in result.stderr
    key_file = tmp_path / "field.key"
    key_file.write_text(base64.urlsafe_b64encode(os.urandom(32)).decode() + "\n")
    from_file = manage("check", "--deploy", "--fail-level", "WARNING", SECRET_KEY=secrets.token_urlsafe(50),
                       FIELD_ENCRYPTION_KEY_FILE=str(key_file), **PRODUCTION)
    assert from_file.returncode == 0, from_file.stderr


def test_a_field_encryption_key_that_is_not_one_stops_the_start():
    result = manage("check", FIELD_ENCRYPTION_KEY="not-a-key")
    assert result.returncode != 0 and "FIELD_ENCRYPTION_KEY must be keys of 32 bytes" in result.stderr


@pytest.mark.parametrize(
    "env, complaint",
    [
        ({"DEBUG": "maybe"}, "DEBUG must be true or false"),
        ({"DEBUG": "false", "ALLOWED_HOSTS": "x.example.com"}, "SECRET_KEY must be set"),
        ({"DEBUG": "false", "SECRET_KEY": "k" * 50}, "ALLOWED_HOSTS must be set"),
        ({"DATABASE_URL": "mysql://db/x"}, "DATABASE_URL must start with"),
        ({"DATABASE_URL": "postgres://127.0.0.1:5432/"}, "names no database"),
        ({"REDIS_URL": "http://127.0.0.1"}, "REDIS_URL must start with"),
        ({"TIME_ZONE": "Mars/Olympus"}, "TIME_ZONE is not a known time zone"),
        ({"DB_POOL_SIZE": "0", "CONN_MAX_AGE": "forever", "DATABASE_URL": "postgres://h/db"},
         "CONN_MAX_AGE must be a whole number"),
        ({"DB_POOL_SIZE": "many", "DATABASE_URL": "postgres://h/db"}, "DB_POOL_SIZE must be a whole number"),
    ],
)
def test_wrong_settings_fail_loudly_at_start(env, complaint):
    result = manage("check", **env)
    assert result.returncode != 0
    assert complaint in result.stderr


def test_healthz(client, db):
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.json()["ok"] is True


def test_healthz_answers_503_when_the_channel_layer_is_down(client, db, settings):
    settings.CHANNEL_LAYERS = {
        "default": {"BACKEND": "channels_redis.core.RedisChannelLayer", "CONFIG": {"hosts": ["redis://127.0.0.1:1/0"]}}
    }
    response = client.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"ok": False, "database": True, "channel_layer": False}


def test_the_schema_documents_the_redeem_call(client, db):
    schema = client.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    paths = schema.json()["paths"]
    for path in ("/api/v1/redeem/", "/api/v1/check/", "/api/v1/redemptions/{id}/reverse/", "/api/v1/vouchers/"):
        assert path in paths
    assert client.get("/api/docs/").status_code == 200


def test_create_merchant(db, monkeypatch):
    call_command("create_merchant", "老王洗车", "--owner", "laowang", "--password", "wash-cars-daily")
    owner = Membership.objects.get(user__username="laowang")
    assert owner.role == Role.OWNER and owner.merchant.name == "老王洗车"
    monkeypatch.setenv("OWNER_PW", "another-long-one")
    call_command("create_merchant", "Second", "--owner", "second", "--password-env", "OWNER_PW")
    assert Merchant.objects.count() == 2
    with pytest.raises(CommandError, match="taken"):
        call_command("create_merchant", "Again", "--owner", "laowang", "--password", "wash-cars-daily")
    with pytest.raises(CommandError, match="password"):
        call_command("create_merchant", "Weak", "--owner", "weak", "--password", "123")
    with pytest.raises(CommandError, match="not set"):
        call_command("create_merchant", "Env", "--owner", "env", "--password-env", "NOT_THERE")
    assert Merchant.objects.count() == 2


def test_demo_makes_a_merchant_with_every_role_once(db, capsys):
    call_command("demo")
    call_command("demo")
    out = capsys.readouterr().out
    assert "demo-clerk" in out and "demo-2026" in out
    assert Merchant.objects.count() == 1
    assert set(Membership.objects.values_list("role", flat=True)) == {Role.OWNER, Role.MANAGER, Role.CLERK}
    statuses = {v.status() for v in Voucher.objects.all()}
    assert {"active", "expired", "voided"} <= statuses


def test_demo_if_empty_leaves_a_real_database_alone(db, capsys):
    call_command("create_merchant", "Real shop", "--owner", "real", "--password", "wash-cars-daily")
    call_command("demo", "--if-empty")
    assert Merchant.objects.count() == 1
