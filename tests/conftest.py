"""The cast: Acme has two stores; olivia owns it, mike manages store A, carol clerks at A,
dave clerks at B; oscar owns Other Co. Products: a meal voucher (1 use) and a car-wash pass (3 uses)."""

import logging
import os
import re
import shutil
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.db import DatabaseError
from knox.models import AuthTokenManager
from rest_framework.test import APIClient

from config.logs import JsonFormatter, PlainFormatter
from redemption import cipher, hotpath, services
from redemption.models import OrderTotal, Product, Voucher, Webhook
from tests import processes
from staff.models import Role, Store
from staff import devices, lockout
from staff.services import merchant_create, staff_create

IN_CI = os.environ.get("CI") == "true"
PASSWORD = "correct-horse-9"


def pytest_configure(config):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


def pytest_collection_modifyitems(config, items):
    """PostgreSQL and Redis tests run when DATABASE_URL / REDIS_URL point at them (make test does both
    in CI); on the default SQLite set-up they are left out, and the summary says so."""
    on_postgres = settings.DATABASES["default"]["ENGINE"].endswith("postgresql")
    on_redis = bool(settings.REDIS_URL)
    keep, left_out = [], []
    for item in items:
        needs_pg = item.get_closest_marker("postgres") and not on_postgres
        needs_redis = item.get_closest_marker("redis") and not on_redis
        (left_out if needs_pg or needs_redis else keep).append(item)
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = keep
        config._services_note = (
            f"{len(left_out)} tests need PostgreSQL or Redis and were left out: "
            "run with DATABASE_URL=postgres://... and REDIS_URL=redis://..."
        )


def pytest_terminal_summary(terminalreporter, config):
    note = getattr(config, "_services_note", None)
    if note:
        terminalreporter.write_line(note)
    for line in getattr(config, "_leaks", []):
        terminalreporter.write_line(line, red=True)


# The whole run's log, in both formats, is searched at the end for every secret the tests used:
# codes, buyer-page tokens, card passwords, API tokens, webhook secrets, phone numbers, passwords.
class RunLog(logging.Handler):
    formatters = (PlainFormatter(), JsonFormatter())

    def __init__(self):
        super().__init__()
        self.lines = []

    def emit(self, record):
        self.lines.extend(formatter.format(record) for formatter in self.formatters)


RUN_LOG = RunLog()
SECRETS = {PASSWORD}
SHORTEST_SECRET = 8  # shorter codes could be in a line by chance
PHONE = re.compile(r"(?<!\d)1[3-9]\d{9}(?!\d)")


def _noting_secrets(make, pick):
    """`make`, noting the secret in what it returns (an API token, a sign-in link's token): the
    database keeps only their hashes, so they are caught as they are made."""
    def noted(*args, **kwargs):
        made = make(*args, **kwargs)
        SECRETS.add(pick(made))
        return made
    return noted


def pytest_sessionstart(session):
    logging.getLogger().addHandler(RUN_LOG)
    AuthTokenManager.create = _noting_secrets(AuthTokenManager.create, lambda made: made[1])
    devices.signin_link_create = _noting_secrets(devices.signin_link_create, lambda made: made[1])
    for source in Path(__file__).parent.glob("*.py"):  # phone numbers the tests send, looked up or not
        SECRETS.update(PHONE.findall(source.read_text()))


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_teardown(item):
    """Before the test's database goes, note the secrets in it."""
    if "_django_db_helper" not in item.fixturenames:
        return
    try:
        for code, token, phone, ciphertext, key in Voucher.objects.values_list(
            "code", "token", "buyer_phone", "password_ciphertext", "password_key"
        ):
            SECRETS.update((code, token, phone, cipher.decrypt(ciphertext, key)))
        SECRETS.update(Webhook.objects.values_list("secret", flat=True))
    except DatabaseError:  # the test left its transaction broken: it fails for that already
        pass


def leaks(lines, secrets):
    """(secret, line) for each line holding a secret: each line's 8-character windows are looked
    up among the secrets' first 8 characters, so the search is as fast for 100 000 secrets as for 10."""
    by_start = {}
    for secret in secrets:
        if len(secret) >= SHORTEST_SECRET:
            by_start.setdefault(secret[:SHORTEST_SECRET], []).append(secret)
    for line in lines:
        for at in range(len(line) - SHORTEST_SECRET + 1):
            for secret in by_start.get(line[at : at + SHORTEST_SECRET], ()):
                if line.startswith(secret, at):
                    yield secret, line


def pytest_sessionfinish(session):
    logging.getLogger().removeHandler(RUN_LOG)
    servers = [line for log in processes.LOGS.glob("*.log") for line in log.read_text(errors="replace").splitlines()]
    found = [
        "secret in the log: " + line.replace(secret, secret[:2] + "…" + secret[-2:])
        for secret, line in leaks(RUN_LOG.lines + servers, SECRETS)
    ]
    if found:
        session.config._leaks = found[:20]
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def chromium_path():
    """The browser to drive. Skips where there is none, but never lets CI pass by skipping."""
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        missing, path = "the playwright package (pip install -r requirements-browser.txt)", None
    else:
        path = shutil.which("chromium") or shutil.which("chromium-browser")
        missing = None if path else "Chromium (apt-get install chromium)"
    if missing:
        message = f"browser tests need {missing}"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


@pytest.fixture(autouse=True)
def fresh_login_counts():
    """Every test's client logs in from 127.0.0.1: one test's wrong passwords must not lock the next out."""
    lockout.forget_address("127.0.0.1")


@pytest.fixture
def acme(db):
    return merchant_create(name="Acme", owner_username="olivia", owner_password=PASSWORD, owner_display_name="Olivia").merchant


@pytest.fixture
def olivia(acme):
    return acme.members.get(role=Role.OWNER)


@pytest.fixture
def store_a(acme):
    return Store.objects.create(merchant=acme, name="A 人民路店")


@pytest.fixture
def store_b(acme):
    return Store.objects.create(merchant=acme, name="B 滨江店")


@pytest.fixture
def mike(acme, store_a, store_b):
    return staff_create(merchant=acme, username="mike", password=PASSWORD, display_name="Mike",
                        role=Role.MANAGER, stores=[store_a])


@pytest.fixture
def carol(acme, store_a):
    return staff_create(merchant=acme, username="carol", password=PASSWORD, display_name="Carol", stores=[store_a])


@pytest.fixture
def dave(acme, store_b):
    return staff_create(merchant=acme, username="dave", password=PASSWORD, display_name="Dave", stores=[store_b])


@pytest.fixture
def oscar(db):
    other = merchant_create(name="Other Co", owner_username="oscar", owner_password=PASSWORD, owner_display_name="Oscar")
    Store.objects.create(merchant=other.merchant, name="Other store")
    return other


@pytest.fixture
def meal(acme):
    return Product.objects.create(merchant=acme, name="双人套餐券", face_value=Decimal("98.00"))


@pytest.fixture
def wash(acme):
    return Product.objects.create(merchant=acme, name="洗车 3 次卡", face_value=Decimal("90.00"), uses_per_voucher=3)


@pytest.fixture
def issue():
    """issue(product, **voucher fields to override) -> a fresh voucher."""
    counter = iter(range(1, 10**6))

    def issue(product, **overrides):
        vouchers, _ = services.voucher_issue(product=product, order_no=f"T-{next(counter)}")
        voucher = vouchers[0]
        if overrides:
            issued_as = (voucher.channel, voucher.order_no)
            for name, value in overrides.items():
                setattr(voucher, name, value)
            voucher.save()
            # Moved to another channel or order: its order's total moves with it.
            OrderTotal.objects.filter(merchant_id=voucher.merchant_id, channel=issued_as[0], order_no=issued_as[1]).delete()
            hotpath.recount_orders(voucher.merchant_id, [(voucher.channel, voucher.order_no)])
        return voucher

    return issue


def token_for(member):
    """A fresh API token for a member: a device of its own, as the app's sign-in makes one."""
    return devices.token_for(member.user, name="test")


def api_as(member):
    client = APIClient()
    if member is not None:
        client.credentials(HTTP_AUTHORIZATION=f"Token {token_for(member)}")
    return client


@pytest.fixture
def api():
    return api_as
