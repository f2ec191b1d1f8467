"""The OpenAPI schema tells the truth: every documented operation is called for real, as the right
member of the cast, for its success and for each refusal it can give, and every answer is held to
what the schema documents for that status code: the body to its JSON schema (every field
documented, none missing), a file to its media type, the documented headers present. A status
the schema does not document for that operation fails, and so does a documented status that no
case here provokes. An operation added to the schema without cases here fails the first test."""

import datetime as dt
import json
import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any
from urllib.parse import urlencode, urlparse

import jsonschema
import pytest
from django.conf import settings
from django.contrib.auth import get_user_model
from django.contrib.auth.signals import user_login_failed
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client
from django.utils import timezone
from staff import devices
from staff.devices import token_for as new_token_for
from staff.models import Device
from rest_framework.test import APIClient

from redemption import services
from redemption.services import offline
from redemption.models import OfflineConflict, Product, Webhook
from redemption.reasons import Refusal
from staff import lockout
from staff.models import Membership, Store
from tests.conftest import PASSWORD, api_as

UNKNOWN_ID = 987654321


@pytest.fixture(scope="session")
def schema():
    response = Client().get("/api/schema/", {"format": "json"})
    assert response.status_code == 200
    return json.loads(response.content)


# --- The world the cases act in: the cast of conftest, and a few ways to get things into shape ---


class World:
    def __init__(self, *, olivia, mike, carol, dave, oscar, store_a, store_b, meal, wash, issue):
        self.olivia, self.mike, self.carol, self.dave, self.oscar = olivia, mike, carol, dave, oscar
        self.store_a, self.store_b, self.meal, self.wash, self.issue = store_a, store_b, meal, wash, issue

    def client(self, who):
        if who is None:
            return APIClient()
        if who == "stranger":  # a token that belongs to nobody
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION="Token " + "0" * 40)
            return client
        if who == "operator":  # the platform's superuser: logged in, but staff of no merchant
            user = get_user_model().objects.create_superuser("operator", password=PASSWORD)
            client = APIClient()
            client.credentials(HTTP_AUTHORIZATION=f"Token {new_token_for(user)}")
            return client
        return api_as(getattr(self, who))

    def voucher(self, product=None, **overrides):
        return self.issue(product or self.meal, **overrides)

    def code(self, **overrides):
        return self.voucher(**overrides).code

    def foreign_voucher(self):
        other = Product.objects.create(merchant=self.oscar.merchant, name="Other meal", face_value=Decimal("10.00"))
        return self.issue(other)

    def redeemed(self, by=None, voucher=None, uses=1):
        voucher = voucher or self.voucher()
        outcome = services.voucher_redeem(member=by or self.carol, raw_code=voucher.code, uses=uses)
        return outcome.redemption

    def used_up(self):
        voucher = self.voucher()
        self.redeemed(voucher=voucher)
        return voucher

    def reversed_redemption(self):
        redemption = self.redeemed()
        services.redemption_reverse(member=self.olivia, redemption_id=redemption.id)
        return redemption

    def voided(self):
        voucher = self.voucher()
        return services.voucher_void(member=self.olivia, voucher_id=voucher.id, reason="refund")

    def frozen(self):
        voucher = self.voucher()
        return services.voucher_freeze(member=self.olivia, voucher_id=voucher.id, frozen=True)

    def busy_day(self):
        """A redemption at each store, one of them reversed, and a refused attempt."""
        self.redeemed(by=self.carol)
        dave_s = self.redeemed(by=self.dave)
        services.redemption_reverse(member=self.olivia, redemption_id=dave_s.id)
        with pytest.raises(Refusal):
            services.voucher_redeem(member=self.carol, raw_code="NOSUCH99")

    def throttle(self, member):
        Membership.objects.filter(pk=member.pk).update(throttled_until=timezone.now() + dt.timedelta(seconds=60))

    def dated_product(self):
        product = Product.objects.create(
            merchant=self.olivia.merchant, name="季卡", face_value=Decimal("300.00"), uses_per_voucher=12,
            valid_from=timezone.now(), valid_until=timezone.now() + dt.timedelta(days=90), valid_days=30,
        )
        return store_only(product, self.store_a)

    def eventful(self):
        """A pass checked, redeemed, reversed, refused, frozen, unfrozen, revealed and reissued."""
        voucher = self.voucher(self.wash)
        Client().get(f"/v/{voucher.token}/")
        services.voucher_check(member=self.carol, raw_code=voucher.code)
        services.redemption_reverse(member=self.olivia, redemption_id=self.redeemed(voucher=voucher).id, reason="点错了")
        with pytest.raises(Refusal):
            services.voucher_redeem(member=self.carol, raw_code=voucher.code, uses=9)
        services.voucher_freeze(member=self.olivia, voucher_id=voucher.id)
        services.voucher_freeze(member=self.olivia, voucher_id=voucher.id, frozen=False)
        services.voucher_reveal(member=self.olivia, voucher_id=voucher.id)
        services.voucher_reissue(member=self.olivia, voucher_id=voucher.id, reason="没收到")
        return voucher

    def card(self):
        services.voucher_import(product=self.meal, raw="code,password\nCARD-5501,卡密-9\n".encode())
        return self.meal.vouchers.latest("id")

    def webhook(self):
        return Webhook.objects.create(merchant=self.olivia.merchant, url="https://93.184.216.34/hook",
                                      events=["redemption.created"])


@pytest.fixture
def world(olivia, mike, carol, dave, oscar, store_a, store_b, meal, wash, issue):
    yield World(olivia=olivia, mike=mike, carol=carol, dave=dave, oscar=oscar, store_a=store_a, store_b=store_b,
                meal=meal, wash=wash, issue=issue)
    lockout.forget("carol")  # the lock-out lives in the cache, which outlives the test database


# --- The cases ---


def lock_out(username):
    for _attempt in range(settings.LOGIN_FAILURES):
        user_login_failed.send(sender=__name__, credentials={"username": username})


def store_only(product, store):
    product.stores.set([store])
    return product


def two_redeemed(w):
    w.redeemed()
    w.redeemed(by=w.dave)


def today(w):
    return timezone.now().astimezone(w.olivia.merchant.tz).date().isoformat()


def issue_order(w):
    services.voucher_issue(product=w.meal, order_no="O-1")


def device_of(member):
    devices.token_for(member.user)
    return Device.objects.filter(member=member).latest("pk").pk


def batch(w):
    raw = "订单号,数量\nB-1,2\nB-2,1\n".encode()
    return services.vouchers_issue_file(member=w.olivia, product=w.meal, channel="pdd", raw=raw).pk


def csv_file(text, encoding="utf-8"):
    return SimpleUploadedFile("codes.csv", text.encode(encoding), content_type="text/csv")


@dataclass(frozen=True)
class Case:
    status: int
    who: str | None  # a member of the cast, "operator", "stranger", or None: anonymous
    why: str
    setup: Any = None  # a function of the world, run first
    id: Any = None  # the {id} in the path; a value, or a function of the world
    body: Any = None  # JSON (or form fields with form="multipart"); a value, or a function of the world
    query: Any = None
    form: str = "json"  # "json", "multipart", or the raw Content-Type of a bytes body
    headers: Any = None  # request headers, as the test client takes them (HTTP_IF_NONE_MATCH=...)


def anonymous(**kwargs):
    return Case(401, None, "anonymous", **kwargs)


def bad_token(**kwargs):
    return Case(401, "stranger", "a token that belongs to nobody", **kwargs)


def refused_to(who, **kwargs):
    return Case(403, who, f"{who} may not", **kwargs)


def not_json(who, **kwargs):
    return Case(415, who, "a text/plain body", body=b"code=1", form="text/plain", **kwargs)


def unknown_ids(who, **kwargs):
    return [
        Case(404, who, "an unknown id", id=UNKNOWN_ID, **kwargs),
        Case(404, who, "an id that is not a number", id="abc", **kwargs),
    ]


def own(w):
    return w.voucher().id


def family(w, channel="pdd"):
    """An order of three meals."""
    return services.voucher_issue(product=w.meal, order_no="PDD-3", channel=channel, quantity=3)[0]


def family_one_used(w):
    vouchers = family(w)
    services.voucher_redeem(member=w.carol, raw_code=vouchers[0].code)
    return vouchers


def with_rules(w, **rules):
    return Product.objects.create(merchant=w.olivia.merchant, name="洗车 5 次卡", face_value=Decimal("100.00"),
                                  uses_per_voucher=5, **rules)


def used_today(w, **rules):
    """A pass that gave a use a moment ago, under `rules`."""
    voucher = w.voucher(with_rules(w, **rules))
    services.voucher_redeem(member=w.carol, raw_code=voucher.code)
    return voucher


def closed_today(w):
    weekday = timezone.now().astimezone(w.olivia.merchant.tz).isoweekday()
    return w.voucher(with_rules(w, hours_from=dt.time(0), hours_until=dt.time(23, 59),
                                hours_weekdays=0b1111111 & ~(1 << (weekday - 1))))


def offline_on(w):
    Store.objects.filter(pk=w.store_a.pk).update(offline_enabled=True)


def held(w):
    offline.snapshot(member=w.carol, store_id=w.store_a.id, device="phone-1")


def a_conflict(w):
    """Carol's device took a code offline that was used meanwhile: a conflict for the owner."""
    offline_on(w)
    held(w)
    code = w.used_up().code
    offline.upload(member=w.carol, device="phone-1", items=[
        {"idempotency_key": "c-1", "code": code, "uses": 1, "store": None, "scanned_at": timezone.now()}])
    return OfflineConflict.objects.get(idempotency_key="c-1").pk


RULE_REFUSALS = [
    Case(409, "carol", "a pass used up for today", body=lambda w: {"code": used_today(w, max_uses_per_day=1).code}),
    Case(409, "carol", "a pass used a minute ago", body=lambda w: {"code": used_today(w, min_minutes_between_uses=60).code}),
    Case(409, "carol", "a pass not usable on this weekday", body=lambda w: {"code": closed_today(w).code}),
]


COUNTER_REFUSALS = [
    Case(400, "olivia", "an owner of two stores names none", body=lambda w: {"code": w.code()}),
    Case(400, "carol", "a store that is not a number", body=lambda w: {"code": w.code(), "store": "A"}),
    Case(403, "carol", "a clerk names another store", body=lambda w: {"code": w.code(), "store": w.store_b.id}),
    refused_to("operator", body={"code": "1234"}),
    Case(404, "carol", "an unknown code", body={"code": "ABCD-1234"}),
    Case(404, "carol", "another merchant's code", body=lambda w: {"code": w.foreign_voucher().code}),
    Case(409, "carol", "a voided voucher", body=lambda w: {"code": w.voided().code}),
    Case(409, "carol", "a frozen voucher", body=lambda w: {"code": w.frozen().code}),
    Case(409, "carol", "a used-up voucher", body=lambda w: {"code": w.used_up().code}),
    Case(409, "carol", "an expired voucher",
         body=lambda w: {"code": w.code(valid_until=timezone.now() - dt.timedelta(days=1))}),
    Case(409, "carol", "a voucher not valid yet",
         body=lambda w: {"code": w.code(valid_from=timezone.now() + dt.timedelta(days=1))}),
    Case(422, "carol", "an empty code", body={"code": ""}),
    Case(422, "carol", "a control character in the code", body={"code": "1234\x015678"}),
    Case(429, "carol", "a clerk locked out for guessing", setup=lambda w: w.throttle(w.carol),
         body=lambda w: {"code": w.code()}),
    anonymous(body={"code": "1234"}),
    bad_token(body={"code": "1234"}),
    not_json("carol"),
]

CASES = {
    ("POST", "/api/v1/auth/token/"): [
        Case(200, None, "the right password", body={"username": "carol", "password": PASSWORD}),
        Case(400, None, "a wrong password", body={"username": "carol", "password": "wrong-horse"}),
        Case(400, None, "no username", body={"password": PASSWORD}),
        Case(400, None, "a JSON list", body=["carol", PASSWORD]),
        Case(429, None, "a username locked out", setup=lambda w: lock_out("carol"),
             body={"username": "carol", "password": PASSWORD}),
        not_json(None),
    ],
    ("DELETE", "/api/v1/auth/token/"): [
        Case(200, "carol", "a clerk signs this phone out"),
        Case(200, "olivia", "the owner signs this device out"),
        anonymous(),
        bad_token(),
    ],
    ("GET", "/api/v1/devices/"): [
        Case(200, "olivia", "every member's devices", setup=lambda w: [devices.token_for(m.user) for m in (w.carol, w.dave)]),
        Case(200, "mike", "a manager's own and his clerks'"),
        Case(400, "olivia", "a page size that is not one", query={"page_size": "0"}),
        Case(404, "olivia", "a page past the last", query={"page": "99"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("POST", "/api/v1/devices/{id}/sign-out/"): [
        Case(200, "olivia", "the owner signs a clerk's phone out", id=lambda w: device_of(w.carol)),
        Case(200, "mike", "a manager signs his clerk's phone out", id=lambda w: device_of(w.carol)),
        Case(403, "mike", "a manager may not sign out the owner", id=lambda w: device_of(w.olivia)),
        refused_to("carol", id=lambda w: device_of(w.carol)),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's device", id=lambda w: device_of(w.carol)),
        anonymous(id=1),
    ],
    ("POST", "/api/v1/staff/{id}/signin-qr/"): [
        Case(201, "olivia", "the owner, for a clerk", id=lambda w: w.carol.id),
        Case(201, "olivia", "the owner, for a manager", id=lambda w: w.mike.id),
        Case(201, "mike", "a manager, for a clerk of his store", id=lambda w: w.carol.id),
        Case(403, "mike", "a manager, for a clerk of another store", id=lambda w: w.dave.id),
        refused_to("carol", id=lambda w: w.carol.id),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's member", id=lambda w: w.carol.id),
        anonymous(id=1),
    ],
    ("GET", "/api/v1/ping/"): [Case(200, None, "anyone")],
    ("POST", "/api/v1/check/"): [
        Case(200, "carol", "a clerk checks a good code", body=lambda w: {"code": w.code()}),
        Case(200, "carol", "a voucher of an order of three", body=lambda w: {"code": family(w)[1].code}),
        Case(409, "carol", "a used voucher of an order with two left", body=lambda w: {"code": family_one_used(w)[0].code}),
        *RULE_REFUSALS,
        Case(200, "olivia", "an owner checks at a store", body=lambda w: {"code": w.code(), "store": w.store_b.id}),
        *COUNTER_REFUSALS,
    ],
    ("POST", "/api/v1/redeem/"): [
        Case(200, "carol", "a clerk redeems", body=lambda w: {"code": w.code(), "idempotency_key": "k-1"}),
        Case(200, "mike", "a manager redeems two uses of a pass",
             body=lambda w: {"code": w.voucher(w.wash).code, "uses": 2}),
        Case(400, "carol", "zero uses", body=lambda w: {"code": w.code(), "uses": 0}),
        Case(200, "mike", "a manager redeems a voucher found by lookup", body=lambda w: {"voucher": w.voucher().id}),
        Case(403, "carol", "a clerk names a voucher by id", body=lambda w: {"voucher": w.voucher().id}),
        Case(404, "olivia", "another merchant's voucher by id",
             body=lambda w: {"voucher": w.foreign_voucher().id, "store": w.store_a.id}),
        *RULE_REFUSALS,
        Case(409, "carol", "more uses than are left", body=lambda w: {"code": w.voucher(w.wash).code, "uses": 4}),
        Case(409, "dave", "a voucher for another store",
             body=lambda w: {"code": w.voucher(store_only(w.meal, w.store_a)).code}),
        *COUNTER_REFUSALS,
    ],
    ("POST", "/api/v1/redeem/order/"): [
        Case(200, "carol", "a clerk redeems a whole order", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": x.id} for x in v], "idempotency_key": "tap"})(family(w))),
        Case(200, "mike", "the rest of an order, shown by its used voucher", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": v[1].id}, {"id": v[2].id, "uses": 1}]})(family_one_used(w))),
        Case(400, "carol", "no vouchers named", body=lambda w: {"code": w.code(), "vouchers": []}),
        Case(400, "carol", "a voucher named twice", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": v[1].id}, {"id": v[1].id}]})(family(w))),
        Case(400, "olivia", "an owner of two stores names none", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": v[0].id}]})(family(w))),
        Case(403, "carol", "a clerk names another store", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": v[0].id}], "store": w.store_b.id})(family(w))),
        Case(404, "carol", "a voucher of another order", body=lambda w: (lambda v: {
            "code": v[0].code, "vouchers": [{"id": w.voucher().id}]})(family(w))),
        Case(404, "carol", "an unknown code", body={"code": "ABCD-1234", "vouchers": [{"id": 1}]}),
        Case(409, "carol", "one of them used already", body=lambda w: (lambda v: {
            "code": v[1].code, "vouchers": [{"id": x.id} for x in v]})(family_one_used(w))),
        Case(422, "carol", "an empty code", body={"code": "", "vouchers": [{"id": 1}]}),
        Case(429, "carol", "a clerk locked out for guessing", setup=lambda w: w.throttle(w.carol),
             body=lambda w: {"code": w.code(), "vouchers": [{"id": 1}]}),
        anonymous(body={"code": "1234", "vouchers": [{"id": 1}]}),
        not_json("carol"),
    ],
    ("GET", "/api/v1/vouchers/lookup/"): [
        Case(200, "olivia", "the owner finds an order", setup=lambda w: family(w), query={"order_no": "PDD-3"}),
        Case(200, "mike", "a manager finds a phone number",
             setup=lambda w: services.voucher_issue(product=w.meal, order_no="TEL-1", buyer_phone="138 0013 8000"),
             query={"phone": "13800138000"}),
        Case(200, "mike", "nothing found", query={"order_no": "NO-SUCH"}),
        Case(400, "olivia", "neither an order number nor a phone number"),
        Case(400, "olivia", "both at once", query={"order_no": "PDD-3", "phone": "13800138000"}),
        Case(400, "olivia", "a phone number that is not one", query={"phone": "call me"}),
        refused_to("carol", query={"order_no": "PDD-3"}),
        Case(429, "mike", "a manager locked out for guessing", setup=lambda w: w.throttle(w.mike),
             query={"order_no": "PDD-3"}),
        anonymous(query={"order_no": "PDD-3"}),
    ],
    ("POST", "/api/v1/vouchers/lookup/"): [
        Case(200, "olivia", "the owner finds an order", setup=lambda w: family(w), body={"order_no": "PDD-3"}),
        Case(200, "mike", "a manager finds a phone number, kept out of the URL",
             setup=lambda w: services.voucher_issue(product=w.meal, order_no="TEL-1", buyer_phone="138 0013 8000"),
             body={"phone": "+86 138 0013 8000"}),
        Case(400, "olivia", "neither an order number nor a phone number", body={}),
        Case(400, "olivia", "a phone number that is not one", body={"phone": "call me"}),
        refused_to("carol", body={"order_no": "PDD-3"}),
        Case(429, "mike", "a manager locked out for guessing", setup=lambda w: w.throttle(w.mike),
             body={"phone": "13800138000"}),
        anonymous(body={"order_no": "PDD-3"}),
        not_json("olivia"),
    ],
    ("POST", "/api/v1/redemptions/{id}/reverse/"): [
        Case(200, "olivia", "the owner undoes a redemption", id=lambda w: w.redeemed().id,
             body={"reason": "mistake"}),
        Case(200, "carol", "a clerk undoes her own at once", id=lambda w: w.redeemed().id, body={}),
        Case(400, "olivia", "a reason too long", id=lambda w: w.redeemed().id, body={"reason": "x" * 201}),
        Case(403, "carol", "a clerk undoes another's", id=lambda w: w.redeemed(by=w.dave).id, body={}),
        *unknown_ids("olivia", body={}),
        Case(404, "oscar", "another merchant's redemption", id=lambda w: w.redeemed().id, body={}),
        Case(409, "olivia", "undone twice", id=lambda w: w.reversed_redemption().id, body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=lambda w: w.redeemed().id),
    ],
    ("GET", "/api/v1/redemptions/"): [
        Case(200, "olivia", "a page with a next page", setup=two_redeemed, query={"page_size": 1}),
        Case(200, "mike", "a manager's stores, filtered", setup=lambda w: w.busy_day(),
             query=lambda w: {"store": w.store_a.id, "from": today(w), "to": today(w)}),
        Case(200, "olivia", "the second page", setup=two_redeemed, query={"page_size": 1, "page": 2}),
        Case(400, "olivia", "a store that is not a number", query={"store": "A"}),
        Case(400, "olivia", "a date that is not one", query={"from": "2024-13-01"}),
        refused_to("carol"),
        Case(404, "olivia", "a page past the end", query={"page": 9}),
        anonymous(),
    ],
    ("GET", "/api/v1/redemptions/export.csv"): [
        Case(200, "olivia", "the owner's export", setup=lambda w: w.busy_day()),
        Case(200, "mike", "a manager's export of one store", query=lambda w: {"store": w.store_a.id}),
        Case(400, "olivia", "a range that ends before it starts", query={"from": "2024-05-02", "to": "2024-05-01"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("GET", "/api/v1/redemptions/mine/"): [
        Case(200, "carol", "a clerk's day", setup=lambda w: w.busy_day() or w.reversed_redemption()),
        Case(200, "dave", "an empty day"),
        refused_to("operator"),
        anonymous(),
    ],
    ("GET", "/api/v1/stats/staff/"): [
        Case(200, "olivia", "the owner's day", setup=lambda w: w.busy_day()),
        Case(200, "mike", "a manager's stores", setup=lambda w: w.busy_day(), query=lambda w: {"store": w.store_a.id}),
        Case(400, "olivia", "a date that is not one", query={"from": "yesterday"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("GET", "/api/v1/stats/stores/"): [
        Case(200, "olivia", "the owner's day", setup=lambda w: w.busy_day()),
        Case(200, "olivia", "a quiet range", query={"from": "2024-01-01", "to": "2024-01-31"}),
        Case(400, "mike", "more than a year", query={"from": "2020-01-01", "to": "2024-01-01"}),
        refused_to("dave"),
        anonymous(),
    ],
    ("GET", "/api/v1/stats/products/"): [
        Case(200, "olivia", "the owner's day", setup=lambda w: w.busy_day() or w.voided()),
        Case(400, "olivia", "a date that is not one", query={"to": "2024-02-30"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("GET", "/api/v1/stores/{id}/"): [
        Case(200, "olivia", "the owner's store and its offline caps", id=lambda w: w.store_a.id),
        refused_to("mike", id=lambda w: w.store_a.id),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's store", id=lambda w: w.store_a.id),
        anonymous(id=1),
    ],
    ("PATCH", "/api/v1/stores/{id}/"): [
        Case(200, "olivia", "offline turned on with caps", id=lambda w: w.store_a.id, body={
            "offline_enabled": True, "offline_max_redemptions": 30, "offline_max_value": "300.00",
            "offline_snapshot_hours": 8}),
        Case(400, "olivia", "a snapshot that lives a fortnight", id=lambda w: w.store_a.id,
             body={"offline_snapshot_hours": 336}),
        refused_to("mike", id=lambda w: w.store_a.id, body={"offline_enabled": True}),
        *unknown_ids("olivia", body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=lambda w: w.store_a.id),
    ],
    ("GET", "/api/v1/offline/snapshot/"): [
        Case(200, "carol", "a clerk's device at a store with offline on", setup=lambda w: offline_on(w),
             query={"device": "phone-1"}),
        Case(200, "carol", "the scanner's compact list", setup=lambda w: offline_on(w),
             query={"device": "phone-1", "shape": "compact"}),
        Case(304, "carol", "the list the device holds is unchanged", setup=lambda w: offline_on(w),
             query={"device": "phone-1", "shape": "compact"}, headers=lambda w: {"HTTP_IF_NONE_MATCH": w.client("carol").get(
                 "/api/v1/offline/snapshot/", {"device": "phone-1", "shape": "compact"})["ETag"]}),
        Case(400, "olivia", "an owner of two stores names none", setup=lambda w: offline_on(w)),
        Case(403, "carol", "a store with offline off"),
        Case(403, "carol", "a store that is not hers", setup=lambda w: offline_on(w), query=lambda w: {"store": w.store_b.id}),
        anonymous(),
    ],
    ("POST", "/api/v1/offline/upload/"): [
        Case(200, "carol", "one redeemed, one a conflict", setup=lambda w: offline_on(w) or held(w),
             body=lambda w: {"device": "phone-1", "items": [
                 {"idempotency_key": "a", "code": w.code(), "scanned_at": timezone.now().isoformat()},
                 {"idempotency_key": "b", "code": w.used_up().code, "scanned_at": timezone.now().isoformat()}]}),
        Case(400, "carol", "no device", body={"items": []}),
        refused_to("operator", body={"device": "x", "items": []}),
        anonymous(body={"device": "x", "items": []}),
        not_json("carol"),
    ],
    ("GET", "/api/v1/offline/conflicts/"): [
        Case(200, "olivia", "the conflicts still to settle", setup=lambda w: a_conflict(w), query={"settled": "false"}),
        Case(200, "mike", "a manager's stores", setup=lambda w: a_conflict(w)),
        Case(400, "olivia", "settled is neither", query={"settled": "maybe"}),
        Case(404, "olivia", "a page past the end", query={"page": 9}),
        refused_to("carol"),
        anonymous(),
    ],
    ("POST", "/api/v1/offline/conflicts/{id}/settle/"): [
        Case(200, "olivia", "settled with a note", id=lambda w: a_conflict(w), body={"note": "顾客已补款"}),
        Case(400, "olivia", "a note too long", id=lambda w: a_conflict(w), body={"note": "x" * 201}),
        refused_to("carol", id=lambda w: a_conflict(w), body={}),
        *unknown_ids("olivia", body={}),
        Case(404, "oscar", "another merchant's conflict", id=lambda w: a_conflict(w), body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=lambda w: a_conflict(w)),
    ],
    ("GET", "/api/v1/offline/devices/"): [
        Case(200, "olivia", "a device that took one offline", setup=lambda w: a_conflict(w)),
        refused_to("dave"),
        anonymous(),
    ],
    ("GET", "/api/v1/stores/"): [
        Case(200, "olivia", "the owner's stores"),
        refused_to("mike"),
        anonymous(),
    ],
    ("POST", "/api/v1/stores/"): [
        Case(201, "olivia", "a new store", body={"name": "C 西湖店", "address": "西湖路 1 号"}),
        Case(201, "olivia", "a new store without an address", body={"name": "D"}),
        Case(400, "olivia", "no name", body={"address": "somewhere"}),
        refused_to("mike", body={"name": "E"}),
        anonymous(body={"name": "E"}),
        not_json("olivia"),
    ],
    ("GET", "/api/v1/staff/"): [
        Case(200, "olivia", "the owner's staff"),
        refused_to("mike"),
        anonymous(),
    ],
    ("POST", "/api/v1/staff/"): [
        Case(201, "olivia", "a new clerk", body=lambda w: {
            "username": "erin", "password": PASSWORD, "display_name": "Erin", "role": "clerk", "stores": [w.store_b.id]}),
        Case(400, "olivia", "a username taken", body={
            "username": "carol", "password": PASSWORD, "display_name": "C2", "role": "clerk"}),
        Case(400, "olivia", "a store that is not a number", body={
            "username": "erin", "password": PASSWORD, "display_name": "Erin", "role": "clerk", "stores": ["A"]}),
        refused_to("mike", body={}),
        anonymous(body={}),
        not_json("olivia"),
    ],
    ("GET", "/api/v1/staff/{id}/"): [
        Case(200, "olivia", "a clerk", id=lambda w: w.carol.id),
        refused_to("carol", id=lambda w: w.carol.id),
        *unknown_ids("olivia"),
        Case(404, "olivia", "another merchant's owner", id=lambda w: w.oscar.id),
        anonymous(id=1),
    ],
    ("PATCH", "/api/v1/staff/{id}/"): [
        Case(200, "olivia", "a clerk moves store", id=lambda w: w.carol.id, body=lambda w: {"stores": [w.store_b.id]}),
        Case(200, "olivia", "a clerk deactivated", id=lambda w: w.dave.id, body={"is_active": False}),
        Case(200, "olivia", "nothing in a form", id=lambda w: w.dave.id, body={}, form="multipart"),
        Case(400, "olivia", "the owner's own role", id=lambda w: w.olivia.id, body={"role": "clerk"}),
        Case(400, "olivia", "a weak password", id=lambda w: w.carol.id, body={"password": "123"}),
        refused_to("mike", id=lambda w: w.carol.id, body={}),
        *unknown_ids("olivia", body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=lambda w: w.carol.id),
    ],
    ("GET", "/api/v1/products/"): [
        Case(200, "olivia", "the owner's products", setup=lambda w: w.dated_product()),
        refused_to("mike"),
        anonymous(),
    ],
    ("POST", "/api/v1/products/"): [
        Case(201, "olivia", "a product with dates and stores", body=lambda w: {
            "name": "下午茶", "face_value": "39.90", "uses_per_voucher": 2, "valid_from": "2030-01-01",
            "valid_until": "2030-12-31", "stores": [w.store_a.id], "instructions": "周末可用"}),
        Case(201, "olivia", "the least there is", body={"name": "Tea", "face_value": "5"}),
        Case(201, "olivia", "a pass with redemption rules", body={
            "name": "洗车 5 次卡", "face_value": "100", "uses_per_voucher": 5, "max_uses_per_day": 2,
            "min_minutes_between_uses": 30, "redeemable_hours": {"weekdays": [1, 2, 3, 4, 5, 6], "from": "10:00", "until": "22:00"}}),
        Case(400, "olivia", "hours across midnight", body={
            "name": "Tea", "face_value": "5", "redeemable_hours": {"weekdays": [1], "from": "22:00", "until": "02:00"}}),
        Case(400, "olivia", "no face value", body={"name": "Tea"}),
        Case(400, "olivia", "an end before the start", body={
            "name": "Tea", "face_value": "5", "valid_from": "2030-02-01", "valid_until": "2030-01-01"}),
        # Shanghai's offset in the year 230 was +08:05:43: no answer could give such a time in ISO 8601.
        Case(400, "olivia", "a time in antiquity",
             body={"name": "Tea", "face_value": "5", "valid_until": "0230-10-09T11:25:18Z"}),
        Case(400, "olivia", "a day in antiquity", body={"name": "Tea", "face_value": "5", "valid_from": "1900-01-01"}),
        refused_to("mike", body={}),
        anonymous(body={}),
        not_json("olivia"),
    ],
    ("GET", "/api/v1/vouchers/"): [
        Case(200, "olivia", "a page with a next page", setup=lambda w: w.voucher() and w.voucher(), query={"page_size": 1}),
        Case(200, "olivia", "filtered by status", setup=lambda w: w.voided(), query={"status": "voided"}),
        Case(200, "olivia", "found by order number",
             query=lambda w: {"q": w.voucher(buyer_phone="13800138000").order_no}),
        Case(400, "olivia", "an unknown status", query={"status": "lost"}),
        refused_to("mike"),
        refused_to("carol"),
        Case(404, "olivia", "a page past the end", query={"page": 2}),
        anonymous(),
    ],
    ("POST", "/api/v1/vouchers/"): [
        Case(201, "olivia", "vouchers for a new order", body=lambda w: {
            "product": w.meal.id, "order_no": "PDD-1", "channel": "pdd", "quantity": 2, "buyer_phone": "13800138000"}),
        Case(200, "olivia", "the same order again", setup=issue_order,
             body=lambda w: {"product": w.meal.id, "order_no": "O-1"}),
        Case(400, "olivia", "another merchant's product", body=lambda w: {
            "product": w.foreign_voucher().product_id, "order_no": "O-2"}),
        Case(400, "olivia", "an unknown channel",
             body=lambda w: {"product": w.meal.id, "order_no": "O-3", "channel": "fax"}),
        refused_to("mike", body={}),
        anonymous(body={}),
        not_json("olivia"),
    ],
    ("POST", "/api/v1/vouchers/import/"): [
        Case(201, "olivia", "a CSV of card codes", form="multipart", body=lambda w: {
            "product": w.meal.id, "file": csv_file("code,password,order_no\nCARD-0001,pw1,JD-1\nCARD-0002,pw2,JD-1\n")}),
        Case(201, "olivia", "a GB18030 file from Excel", form="multipart", body=lambda w: {
            "product": w.meal.id, "file": csv_file("code,order_no\nCARD-0003,京东-9\n", "gb18030")}),
        Case(400, "olivia", "an empty multipart body", body=b"", form="multipart/form-data; boundary=BoUnDaRy"),
        Case(400, "olivia", "no product", form="multipart", body={"file": csv_file("code\nCARD-0004\n")}),
        Case(400, "olivia", "JSON instead of a file", body=lambda w: {"product": w.meal.id}),
        Case(422, "olivia", "bad rows", form="multipart", body=lambda w: {
            "product": w.meal.id, "file": csv_file("code,valid_until\nCARD-0005,someday\n,\nCARD-0005,\n")}),
        Case(422, "olivia", "no header row", form="multipart", body=lambda w: {
            "product": w.meal.id, "file": csv_file("CARD-0006\n")}),
        refused_to("mike", form="multipart", body={}),
        anonymous(form="multipart", body={}),
        not_json("olivia"),
    ],
    ("POST", "/api/v1/vouchers/issue-file/"): [
        Case(201, "olivia", "a Pinduoduo export", form="multipart", body=lambda w: {
            "product": w.meal.id, "channel": "pdd", "file": csv_file("订单号,数量,收货人手机\nPDD-F-1,2,13800138000\n")}),
        Case(201, "olivia", "a Taobao export in GB18030 with an order issued before", form="multipart",
             setup=lambda w: services.voucher_issue(product=w.meal, order_no="TB-F-1", channel="taobao"),
             body=lambda w: {"product": w.meal.id, "channel": "taobao",
                             "file": csv_file('订单编号,购买数量\n="TB-F-1",1\nTB-F-2,1\n', "gb18030")}),
        Case(400, "olivia", "an empty multipart body", body=b"", form="multipart/form-data; boundary=BoUnDaRy"),
        Case(400, "olivia", "no channel", form="multipart", body=lambda w: {
            "product": w.meal.id, "file": csv_file("订单号\nX-1\n")}),
        Case(400, "olivia", "JSON instead of a file", body=lambda w: {"product": w.meal.id, "channel": "pdd"}),
        Case(422, "olivia", "Excel's scientific notation and a bad quantity", form="multipart", body=lambda w: {
            "product": w.meal.id, "channel": "pdd", "file": csv_file("订单号,数量\n1.23457E+17,1\nX-2,0\n")}),
        Case(422, "olivia", "no order number column", form="multipart", body=lambda w: {
            "product": w.meal.id, "channel": "pdd", "file": csv_file("商品\n套餐\n")}),
        refused_to("mike", form="multipart", body={}),
        refused_to("carol", form="multipart", body={}),
        anonymous(form="multipart", body={}),
        not_json("olivia"),
    ],
    ("GET", "/api/v1/vouchers/issue-file/{id}/delivery.csv"): [
        Case(200, "olivia", "a batch's delivery file", id=batch),
        refused_to("mike", id=batch),
        refused_to("carol", id=batch),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's batch", id=batch),
        anonymous(id=1),
    ],
    ("GET", "/api/v1/vouchers/issue-file/{id}/delivery.xlsx"): [
        Case(200, "olivia", "the same as a workbook", id=batch),
        refused_to("mike", id=batch),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's batch", id=batch),
        anonymous(id=1),
    ],
    ("GET", "/api/v1/vouchers/{id}/qr.svg"): [
        Case(200, "olivia", "the QR of a voucher", id=own),
        refused_to("mike", id=own),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's voucher", id=own),
        anonymous(id=1),
    ],
    ("GET", "/api/v1/vouchers/{id}/qr.png"): [
        Case(200, "olivia", "the QR of a voucher", id=own),
        refused_to("carol", id=own),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's voucher", id=own),
        anonymous(id=1),
    ],
    ("POST", "/api/v1/vouchers/{id}/void/"): [
        Case(200, "olivia", "a refund", id=own, body={"reason": "买家退款"}),
        Case(200, "olivia", "a used-up voucher", id=lambda w: w.used_up().id, body={}),
        Case(400, "olivia", "a reason too long", id=own, body={"reason": "x" * 201}),
        refused_to("mike", id=own, body={}),
        *unknown_ids("olivia", body={}),
        Case(404, "oscar", "another merchant's voucher", id=own, body={}),
        Case(409, "olivia", "voided twice", id=lambda w: w.voided().id, body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=own),
    ],
    ("POST", "/api/v1/vouchers/{id}/freeze/"): [
        Case(200, "olivia", "reported stolen", id=own, body={}),
        Case(400, "olivia", "a reason that is not text", id=own, body={"reason": ["a"]}),
        refused_to("carol", id=own, body={}),
        *unknown_ids("olivia", body={}),
        Case(409, "olivia", "a voided voucher", id=lambda w: w.voided().id, body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=own),
    ],
    ("POST", "/api/v1/vouchers/{id}/unfreeze/"): [
        Case(200, "olivia", "found again", id=lambda w: w.frozen().id, body={}),
        Case(400, "olivia", "a body that is a list", id=own, body=[]),
        refused_to("mike", id=own, body={}),
        *unknown_ids("olivia", body={}),
        Case(409, "olivia", "a voided voucher", id=lambda w: w.voided().id, body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=own),
    ],
    ("POST", "/api/v1/vouchers/{id}/reissue/"): [
        Case(201, "olivia", "补发 a fresh code", id=lambda w: w.voucher(buyer_phone="13800138000").id,
             body={"reason": "短信删了"}),
        Case(201, "olivia", "a pass with uses left", id=lambda w: w.redeemed(voucher=w.voucher(w.wash)).voucher_id,
             body={}),
        Case(400, "olivia", "a reason too long", id=own, body={"reason": "x" * 201}),
        refused_to("mike", id=own, body={}),
        *unknown_ids("olivia", body={}),
        Case(409, "olivia", "a used-up voucher", id=lambda w: w.used_up().id, body={}),
        Case(409, "olivia", "a voided voucher", id=lambda w: w.voided().id, body={}),
        anonymous(id=1, body={}),
        not_json("olivia", id=own),
    ],
    ("GET", "/api/v1/webhooks/"): [
        Case(200, "olivia", "the owner's webhooks", setup=lambda w: w.webhook()),
        refused_to("mike"),
        anonymous(),
    ],
    ("POST", "/api/v1/webhooks/"): [
        Case(201, "olivia", "a new webhook",
             body={"url": "https://93.184.216.34/hx", "events": ["redemption.created", "voucher.voided"]}),
        Case(400, "olivia", "a loopback address", body={"url": "http://127.0.0.1/hook", "events": ["redemption.created"]}),
        Case(400, "olivia", "an unknown event", body={"url": "https://93.184.216.34/hx", "events": ["order.paid"]}),
        refused_to("mike", body={}),
        anonymous(body={}),
        not_json("olivia"),
    ],
    ("DELETE", "/api/v1/webhooks/{id}/"): [
        Case(204, "olivia", "a webhook removed", id=lambda w: w.webhook().id),
        refused_to("mike", id=lambda w: w.webhook().id),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's webhook", id=lambda w: w.webhook().id),
        anonymous(id=1),
    ],
    ("GET", "/api/v1/orders/"): [
        Case(200, "olivia", "a page with a next page", setup=two_redeemed, query={"page_size": 1}),
        Case(200, "mike", "a manager's orders of today, filtered",
             setup=lambda w: w.busy_day() or issue_order(w),
             query=lambda w: {"channel": "manual", "status": "redeemed", "from": today(w), "to": today(w)}),
        Case(200, "olivia", "an order found by a code's ending", query=lambda w: {"q": w.used_up().code[-6:]}),
        Case(400, "olivia", "an unknown channel", query={"channel": "fax"}),
        Case(400, "olivia", "an unknown status", query={"status": "lost"}),
        refused_to("carol"),
        Case(404, "olivia", "a page past the end", query={"page": 9}),
        anonymous(),
    ],
    ("GET", "/api/v1/orders/export.csv"): [
        Case(200, "olivia", "the owner's redeemed orders of today", setup=lambda w: w.busy_day(),
             query=lambda w: {"status": "redeemed", "from": today(w), "to": today(w)}),
        Case(200, "mike", "a manager's orders", setup=two_redeemed),
        Case(400, "olivia", "a range that ends before it starts", query={"from": "2024-05-02", "to": "2024-05-01"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("GET", "/api/v1/stats/daily/"): [
        Case(200, "olivia", "the owner's day", setup=lambda w: w.busy_day()),
        Case(200, "mike", "a manager's store and channel", setup=lambda w: w.busy_day(),
             query=lambda w: {"store": w.store_a.id, "channel": "manual"}),
        Case(400, "olivia", "an unknown channel", query={"channel": "fax"}),
        refused_to("dave"),
        anonymous(),
    ],
    ("GET", "/api/v1/stats/daily.csv"): [
        Case(200, "olivia", "the owner's statement for Excel", setup=lambda w: w.busy_day()),
        Case(400, "mike", "more than a year", query={"from": "2020-01-01", "to": "2024-01-01"}),
        refused_to("carol"),
        anonymous(),
    ],
    ("GET", "/api/v1/vouchers/{id}/history/"): [
        Case(200, "olivia", "a voucher with a busy life", id=lambda w: w.eventful().id),
        Case(200, "olivia", "a voucher just issued", id=own),
        refused_to("mike", id=own),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's voucher", id=own),
        anonymous(id=1),
    ],
    ("POST", "/api/v1/vouchers/{id}/reveal/"): [
        Case(200, "olivia", "an imported card's code and password", id=lambda w: w.card().id),
        Case(200, "olivia", "a voucher without a password", id=own),
        refused_to("mike", id=own),
        *unknown_ids("olivia"),
        Case(404, "oscar", "another merchant's voucher", id=own),
        anonymous(id=1),
    ],
}


# --- Sending a case and judging the answer ---


def resolve(value, world):
    return value(world) if callable(value) else value


def send(world, method, path, case):
    assert ("{id}" in path) == (case.id is not None), f"{case.why}: give an id exactly where the path has one"
    if case.setup:
        case.setup(world)
    url = path.replace("{id}", str(resolve(case.id, world)))
    body = resolve(case.body, world)
    query = resolve(case.query, world)
    if query:
        url += "?" + urlencode(query)
    client = world.client(case.who)
    headers = resolve(case.headers, world) or {}
    if case.form == "json":
        return client.generic(method, url, "" if body is None else json.dumps(body), content_type="application/json",
                              **headers)
    if case.form == "multipart":
        return getattr(client, method.lower())(url, body, format="multipart", **headers)
    return client.generic(method, url, body, content_type=case.form, **headers)


def body_of(response):
    if getattr(response, "streaming", False):
        return b"".join(response.streaming_content)
    return response.content


FILE_SIGNATURES = {
    "image/png": lambda content: content.startswith(b"\x89PNG\r\n\x1a\n"),
    "image/svg+xml": lambda content: b"<svg" in content[:500],
    "text/csv": lambda content: content.startswith("\ufeff".encode()) and b"\n" in content,
    "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet": lambda content: content.startswith(b"PK\x03\x04"),
}


def check_against_schema(schema, method, path, response):
    operation = schema["paths"][path][method.lower()]
    status = str(response.status_code)
    documented = operation["responses"].get(status)
    assert documented is not None, (
        f"{method} {path} answered {status}, which its schema does not document "
        f"(documented: {sorted(operation['responses'])}): {body_of(response)[:300]!r}"
    )
    for name, header in documented.get("headers", {}).items():
        if header.get("required"):
            assert response.has_header(name), f"{method} {path} {status}: no {name} header"
    content = documented.get("content")
    body = body_of(response)
    if not content:
        assert body == b"", f"{method} {path} {status}: the schema documents no body, got {body[:200]!r}"
        return
    media_type = response.get("Content-Type", "").split(";")[0].strip()
    assert media_type in content, (
        f"{method} {path} {status}: answered {media_type or 'no Content-Type'}, "
        f"documented {sorted(content)}: {body[:200]!r}"
    )
    if media_type == "application/json":
        validator(schema, content[media_type]["schema"]).validate(json.loads(body))
    else:
        assert FILE_SIGNATURES[media_type](body), f"{method} {path} {status}: not a {media_type}: {body[:100]!r}"


# OpenAPI 3.0 schemas as JSON Schema: $ref resolved, `nullable` as a null alternative, and
# strict: an object answers only the properties its schema documents.
def json_schema(node, components):
    if isinstance(node, list):
        return [json_schema(item, components) for item in node]
    if not isinstance(node, dict):
        return node
    if "$ref" in node:
        return json_schema(components[node["$ref"].rsplit("/", 1)[-1]], components)
    converted = {}
    for key, value in node.items():
        if key == "properties":
            converted[key] = {name: json_schema(prop, components) for name, prop in value.items()}
        elif key not in ("nullable", "example", "readOnly", "writeOnly", "description", "title"):
            converted[key] = json_schema(value, components)
    if "allOf" in converted:
        converted = merge_all_of(converted)
    if converted.get("type") == "object" and "properties" in converted:
        converted.setdefault("additionalProperties", False)
    if node.get("nullable"):
        return {"anyOf": [converted, {"type": "null"}]}
    return converted


def merge_all_of(node):
    parts = node.pop("allOf")
    if len(parts) == 1 and not node:
        return parts[0]
    merged = {"type": "object", "properties": {}, "required": []}
    for part in [*parts, node]:
        merged["properties"].update(part.get("properties", {}))
        merged["required"] += part.get("required", [])
    return merged


FORMATS = jsonschema.FormatChecker(formats=())


@FORMATS.checks("date-time", raises=ValueError)
def _is_datetime_with_offset(value):
    return not isinstance(value, str) or dt.datetime.fromisoformat(value).tzinfo is not None


@FORMATS.checks("date", raises=ValueError)
def _is_date(value):
    return not isinstance(value, str) or bool(dt.date.fromisoformat(value)) and len(value) == 10


@FORMATS.checks("uri")
def _is_absolute_url(value):
    return not isinstance(value, str) or (urlparse(value).scheme in ("http", "https") and bool(urlparse(value).netloc))


@FORMATS.checks("decimal", raises=InvalidOperation)
def _is_decimal(value):
    return not isinstance(value, str) or Decimal(value).is_finite()


def validator(schema, response_schema):
    return jsonschema.Draft4Validator(json_schema(response_schema, schema["components"]["schemas"]), format_checker=FORMATS)


def documented_operations(schema):
    return {
        (method.upper(), path)
        for path, item in schema["paths"].items()
        for method in item
        if method in ("get", "post", "put", "patch", "delete")
    }


def case_id(operation, case):
    return f"{operation[0]} {operation[1]} {case.status} {case.why}"


ALL_CASES = [(operation, case) for operation, cases in CASES.items() for case in cases]


# --- The tests ---


def test_every_documented_operation_has_cases_here(schema):
    documented = documented_operations(schema)
    missing = sorted(documented - set(CASES))
    assert not missing, f"operations in the schema without cases in {__name__}.CASES (add them): {missing}"
    stale = sorted(set(CASES) - documented)
    assert not stale, f"cases for operations the schema no longer documents: {stale}"


@pytest.mark.parametrize("operation", sorted(CASES), ids=lambda op: f"{op[0]} {op[1]}")
def test_every_documented_status_is_provoked_by_a_case(schema, operation):
    method, path = operation
    documented = {int(status) for status in schema["paths"][path][method.lower()]["responses"]}
    provoked = {case.status for case in CASES[operation]}
    assert documented == provoked, (
        f"{method} {path}: documented {sorted(documented)}, provoked {sorted(provoked)}: "
        "document what it answers, and give a case for what it documents"
    )


@pytest.mark.parametrize("operation, case", ALL_CASES, ids=[case_id(*pair) for pair in ALL_CASES])
def test_the_answer_is_as_documented(schema, world, operation, case):
    method, path = operation
    response = send(world, method, path, case)
    assert response.status_code == case.status, (
        f"{case.why}: expected {case.status}, got {response.status_code}: {body_of(response)[:300]!r}"
    )
    check_against_schema(schema, method, path, response)


@pytest.mark.parametrize("method, url", [
    ("GET", "/api/v1/vouchers/abc/qr.svg"),
    ("POST", "/api/v1/vouchers/1x/void/"),
    ("GET", "/api/v1/staff/" + "9" * 30 + "/"),
    ("GET", "/api/v1/nothing/"),
    ("DELETE", "/api/v2/"),
    ("PUT", "/api/"),
])
def test_an_address_under_api_that_names_no_operation_answers_the_json_404(schema, db, method, url):
    response = Client(enforce_csrf_checks=True).generic(method, url)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    body = response.json()
    validator(schema, {"$ref": "#/components/schemas/Error"}).validate(body)
    assert body["result"] == "not_found" and body["ok"] is False


def test_a_missing_slash_still_leads_to_the_operation(olivia):
    response = api_as(olivia).get("/api/v1/stores")
    assert (response.status_code, response["Location"]) == (301, "/api/v1/stores/")


def test_the_schema_is_generated_without_warnings(tmp_path):
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(tmp_path / "schema.yml"))


def test_an_empty_form_changes_no_staff_member(api, olivia, dave):
    response = api(olivia).patch(f"/api/v1/staff/{dave.id}/", {}, format="multipart")
    assert response.status_code == 200 and response.json()["is_active"] is True


def test_void_freeze_and_reissue_answers_say_what_happened_in_chinese(api, olivia, meal, issue):
    client = api(olivia)
    for action in ("freeze", "unfreeze", "void"):
        voucher = issue(meal)
        assert "券" in client.post(f"/api/v1/vouchers/{voucher.id}/{action}/", {}, format="json").json()["message"]
    reissued = client.post(f"/api/v1/vouchers/{issue(meal).id}/reissue/", {}, format="json", HTTP_ACCEPT_LANGUAGE="en")
    assert reissued.json()["message"].startswith("A new voucher")



def test_the_schema_offers_the_bodies_and_query_strings_the_api_takes(schema):
    operations = [op for ops in schema["paths"].values() for op in ops.values() if isinstance(op, dict)]
    # A form cannot carry null, numbers or lists of objects: bodies are JSON, or multipart for a file.
    for op in operations:
        media_types = set(op.get("requestBody", {}).get("content", {"application/json": None}))
        assert media_types in ({"application/json"}, {"multipart/form-data"}), (op["operationId"], media_types)
    # Every view reads ?name= as if it were left out.
    optional = [p for op in operations for p in op.get("parameters", []) if p["in"] == "query" and not p.get("required")]
    assert optional and all(p.get("allowEmptyValue") for p in optional)
    page_size = next(p for op in operations for p in op.get("parameters", []) if p["name"] == "page_size")
    assert page_size["schema"]["minimum"] == 1
    components = schema["components"]["schemas"]
    assert components["RedeemOrderInputRequest"]["properties"]["vouchers"]["minItems"] == 1
    assert not re.fullmatch(components["PatchedStoreChangeRequest"]["properties"]["offline_max_value"]["pattern"], "-1")
