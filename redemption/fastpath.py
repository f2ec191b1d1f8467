"""A scan on PostgreSQL from the server's event loop, in two round trips.

The common case at a busy counter: the clerk's app sends a JSON check or redeem with its API token,
and the voucher is good. This path serves exactly that case with no thread and no ORM query:

1. one statement checks the token (by its hash) and the member, picks the store, finds the voucher, evaluates
   every redeem rule (hotpath.RULES, the same conditions the other paths evaluate) and
   draws the ids of the redemption and its event;
2. one statement takes the uses, only if the voucher still has the uses the lookup saw and every
   rule still holds (a compare-and-swap), noting the voucher's first use, and writes the
   redemption, adds it to its day's total (an upsert), and writes the attempt and the event.

Anything else (a session login, a body it does not expect, a live QR, a refusal, a repeated
idempotency key, a member who is locked out, a race lost) has written nothing and is answered by the
counter's DRF view exactly as before. The guarantee of services.voucher_redeem holds here too: the
write is one statement whose UPDATE only succeeds on the voucher as read (PostgreSQL re-checks its
conditions on the newest row version), the database's CHECK, the unique idempotency key.
"""

import asyncio
import functools
import json

import psycopg
from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection
from django.utils import timezone
from psycopg_pool import AsyncConnectionPool
from knox.models import AuthToken

from redemption import codes, events, hotpath
from redemption.models import Attempt, DailyTotal, Event, Redemption
from staff.apikit import MAX_ID
from staff.auth import digest_of
from staff.models import Device, Membership, Merchant, Role, Store

USER = get_user_model()._meta
MEMBER_FIELDS = hotpath._fields(Membership, {"id", "user_id", "merchant_id", "role", "display_name"})
MERCHANT_FIELDS = hotpath._fields(Merchant, {"id", "name", "time_zone"})
STORE_FIELDS = hotpath.STORE_FIELDS
MEMBER_STORES = hotpath.MEMBER_STORES
_MS_MEMBER, _MS_STORE = hotpath._column(MEMBER_STORES, "membership"), hotpath._column(MEMBER_STORES, "store")


def _may_work_in(store):
    return (
        f"(m.role = '{Role.OWNER}' OR EXISTS (SELECT 1 FROM {MEMBER_STORES.db_table} ms "
        f"WHERE ms.{_MS_MEMBER} = m.id AND ms.{_MS_STORE} = {store}))"
    )


# The store named in the request, or the member's only one (none when they have several).
STORE_CHOICE = (
    f"CASE WHEN %(store)s::bigint IS NULL THEN (SELECT min(s2.id) FROM {hotpath.STORE} s2 "
    f"WHERE s2.merchant_id = m.merchant_id AND {_may_work_in('s2.id')} HAVING count(*) = 1) "
    f"ELSE %(store)s::bigint END"
)

# The merchant's clock at %(now)s, from the merchant row the lookup joins (c).
_LOCAL_NOW = "(%(now)s AT TIME ZONE c.time_zone)"
_CLOCK = {
    "%(store)s": "s.id",
    "%(today)s": f"{_LOCAL_NOW}::date",
    "%(clock)s": f"{_LOCAL_NOW}::time",
    "%(weekday_bit)s": f"(1 << (extract(isodow FROM {_LOCAL_NOW})::int - 1))",
}


def _rules_here(sql):
    """The rules, for the store and the merchant's clock of the lookup's own row."""
    for parameter, expression in _CLOCK.items():
        sql = sql.replace(parameter, expression)
    return sql


# The token is looked up by the hash knox keeps (the request's token is hashed before the query, so
# no round trip is added); the same statement notes the device as seen, at most once a minute.
LOOKUP = (
    f"WITH seen AS (UPDATE {Device._meta.db_table} SET last_seen_at = %(now)s WHERE token_id = %(token)s "
    f"AND last_seen_at < %(now)s - interval '{settings.DEVICE_SEEN_EVERY} seconds') "
    f"SELECT {hotpath._columns('m', MEMBER_FIELDS)}, {hotpath._columns('c', MERCHANT_FIELDS)}, "
    f"{hotpath._columns('s', STORE_FIELDS)}, {hotpath._columns('v', hotpath.VOUCHER_FIELDS)}, "
    f"{hotpath._columns('p', hotpath.PRODUCT_FIELDS)}, "
    + _rules_here(hotpath.RULE_COLUMNS)
    + " {ids} "
    f"FROM {AuthToken._meta.db_table} t "
    f"JOIN {USER.db_table} u ON u.id = t.user_id AND u.is_active "
    f"JOIN {Membership._meta.db_table} m ON m.user_id = u.id "
    f"JOIN {Merchant._meta.db_table} c ON c.id = m.merchant_id "
    f"JOIN {hotpath.STORE} s ON s.merchant_id = m.merchant_id AND s.id = {STORE_CHOICE} AND {_may_work_in('s.id')} "
    f"JOIN {hotpath.VOUCHER} v ON v.merchant_id = m.merchant_id AND v.code = %(key)s "
    f"JOIN {hotpath.PRODUCT} p ON p.id = v.product_id "
    "WHERE t.digest = %(token)s AND (t.expiry IS NULL OR t.expiry > %(now)s) "
    "AND (m.throttled_until IS NULL OR m.throttled_until <= %(now)s) "
)
REDEEM_LOOKUP = LOOKUP.format(ids=(
    f", nextval(pg_get_serial_sequence('{hotpath.REDEMPTION}', 'id')), "
    f"nextval(pg_get_serial_sequence('{Event._meta.db_table}', 'id'))"
)) + (
    f"AND NOT EXISTS (SELECT 1 FROM {hotpath.REDEMPTION} r WHERE r.staff_id = m.id AND r.idempotency_key = %(idem)s)"
)
# A voucher of an order of several: the view lists the order beside it.
CHECK_LOOKUP = LOOKUP.format(ids=(
    f", (SELECT count(*) FROM {hotpath.VOUCHER} o WHERE o.merchant_id = v.merchant_id "
    "AND o.order_no = v.order_no AND o.channel = v.channel)"
))


def _insert(model, values, source=None):
    """INSERT of one row, for each row of source: values maps each field to its SQL expression."""
    columns = ", ".join(model._meta.get_field(n).column for n in values)
    return f"INSERT INTO {model._meta.db_table} ({columns}) SELECT {', '.join(values.values())}" + (
        f" FROM {source}" if source else "")


# What the write's rows share is one parameter each (the merchant, the store, the clerk, the moment):
# psycopg caches the parsing of a statement only when it is under 4 KB with at most 50 parameters,
# and parsing this one afresh on every redeem cost a seventh of the server's time.
_WHO = {"merchant": "%(merchant)s", "store": "%(store)s", "staff": "%(staff)s"}
ATTEMPT_VALUES = {**_WHO, "voucher": "%(voucher)s", "kind": "%(kind)s", "input_masked": "%(masked)s",
                  "result": "%(result)s", "at": "%(now)s"}
# One statement, so one transaction: the uses are taken only if the voucher still has exactly the
# uses the lookup saw (compare-and-swap: no other redeem came between) and every rule still holds.
# The redemption is added to its day's total in the same statement (hotpath.ADD_TO_DAILY_TOTAL).
WRITE = (
    f"WITH u AS (UPDATE {hotpath.VOUCHER} v SET uses_left = v.uses_left - %(uses)s, "
    f"{hotpath.uses_taken('%(now)s', 'v')} FROM {hotpath.PRODUCT} p "
    f"WHERE p.id = v.product_id AND v.id = %(voucher)s AND v.uses_left = %(seen)s AND {hotpath.ALL_RULES} "
    "RETURNING v.id, v.uses_left), "
    "r AS (" + _insert(Redemption, {
        "id": "%(redemption)s", **_WHO, "voucher": "u.id", "uses": "%(uses)s", "value": "%(value)s",
        "at": "%(now)s", "idempotency_key": "%(idem)s", "reverse_reason": "''"}, "u") + "), "
    "d AS (" + _insert(DailyTotal, dict(zip(hotpath.DAILY_COLUMNS, (
        "%(merchant)s", "%(today)s", "%(store)s", "%(staff)s", "%(channel)s", "1", "%(uses)s", "%(value)s",
        "0", "0", "0", "%(now)s", "%(now)s"))), "u") + hotpath.ADD_TO_DAILY_TOTAL + "), "
    "a AS (" + _insert(Attempt, ATTEMPT_VALUES, "u") + "), "
    "e AS (" + _insert(Event, {
        "id": "%(event)s", "merchant": "%(merchant)s", "store": "%(store)s", "type": "'redemption.created'",
        "data": "%(data)s", "at": "%(now)s", "fanned_out": "false"}, "u") + "), "
    f"o AS (INSERT INTO {hotpath.ORDER_TOTAL} ({hotpath._ORDER_COLUMNS}) SELECT %(merchant)s, "
    "%(channel)s, %(order_no)s, 0, 0, %(uses)s, 0, CASE WHEN u.uses_left = 0 THEN -1 ELSE 0 END, 0, "
    f"%(value)s, %(now)s, %(now)s FROM u{hotpath.ADD_TO_ORDER_TOTAL}) "
    "SELECT (SELECT count(*) FROM u), (SELECT vouchers FROM o)"
)
CHECKED = _insert(Attempt, ATTEMPT_VALUES)


class Declined(Exception):
    """Not the common case: the counter's DRF view answers this request instead."""


def request_facts(request):
    """(token's hash, parsed code, uses, store id, idempotency key) of a request this path can serve."""
    header = request.headers.get("Authorization", "")
    if not header.startswith("Token ") or request.content_type != "application/json":
        raise Declined
    try:
        body = json.loads(request.body)
    except ValueError:
        raise Declined from None
    if not isinstance(body, dict) or set(body) - {"code", "uses", "store", "idempotency_key"}:
        raise Declined
    raw, uses, store, key = body.get("code"), body.get("uses", 1), body.get("store"), body.get("idempotency_key")
    if isinstance(raw, int) and not isinstance(raw, bool):
        raw = str(raw)
    fits = (
        isinstance(raw, str) and type(uses) is int and 1 <= uses <= 1000
        and (store is None or (type(store) is int and 1 <= store <= MAX_ID))
        and (key is None or (isinstance(key, str) and len(key) <= 64))
    )
    if not fits:
        raise Declined
    try:
        parsed = codes.parse(raw)
    except codes.InvalidCode:
        raise Declined from None
    if parsed.code is None:  # buyer-page tokens and live QR payloads take the usual path
        raise Declined
    digest = digest_of(header[len("Token "):].strip())
    if digest is None:
        raise Declined
    return digest, parsed, uses, store, key or None


_pool = None
_pool_lock = asyncio.Lock()


async def pool():
    """This process's pool of PostgreSQL connections for the event loop (opened on first use)."""
    global _pool
    async with _pool_lock:
        if _pool is None:
            db = settings.DATABASES["default"]
            info = psycopg.conninfo.make_conninfo(
                dbname=db["NAME"], user=db["USER"] or None, password=db["PASSWORD"] or None,
                host=db["HOST"] or None, port=db["PORT"] or None,
            )
            # Autocommit: each statement of the fast path is a transaction of its own.
            _pool = AsyncConnectionPool(info, min_size=1, max_size=max(1, settings.DB_FAST_POOL_SIZE), open=False,
                                        kwargs={"autocommit": True, "options": "-c TimeZone=UTC"})
            await _pool.open()
    return _pool


@functools.cache
def _on_postgresql():
    # Asked once: in the event loop, each look at `connection` costs a lookup in asgiref's Local.
    return connection.vendor == "postgresql"


def serves(request):
    return request.method == "POST" and _on_postgresql()


def _row(row):
    """The lookup's row as model instances, and the first rule it breaks (None: all hold)."""
    parts, at = {}, 0
    for name, model, fields in (
        ("member", Membership, MEMBER_FIELDS), ("merchant", Merchant, MERCHANT_FIELDS), ("store", Store, STORE_FIELDS),
        ("voucher", hotpath.Voucher, hotpath.VOUCHER_FIELDS), ("product", hotpath.Product, hotpath.PRODUCT_FIELDS),
    ):
        parts[name] = hotpath._build(model, fields, row[at : at + len(fields)])
        at += len(fields)
    member, voucher = parts["member"], parts["voucher"]
    member._state.fields_cache["merchant"] = parts["merchant"]
    voucher._state.fields_cache["product"] = parts["product"]
    broken = hotpath.first_broken(row[at : at + len(hotpath.RULES)])
    return member, parts["store"], voucher, broken, row[at + len(hotpath.RULES):]


async def check(request):
    """(member, store, voucher, None, None) for a check this path served, else raises Declined."""
    token, parsed, _uses, store_id, _key = request_facts(request)
    now = timezone.now()
    params = {"token": token, "key": parsed.code, "store": store_id, "now": now, "uses": 1, "live": False,
              "stale_qr": False}
    async with (await pool()).connection() as conn:
        row = await (await conn.execute(CHECK_LOOKUP, params)).fetchone()
        if row is None:
            raise Declined
        member, store, voucher, broken, (in_order,) = _row(row)
        if broken or in_order > 1:
            raise Declined
        await conn.execute(CHECKED, _attempt_params(member, store, voucher, parsed, "check", "redeemable", now))
    return member, store, voucher, None, None


async def redeem(request):
    """(member, store, voucher, redemption, the event's data) for a redeem this path served, else
    raises Declined.

    Two statements, each its own transaction: the lookup reads, the write changes. The write takes
    the uses only from the voucher as the lookup saw it, so nothing is written unless the answer
    built in between is still true; otherwise nothing was written at all, and the view answers."""
    token, parsed, uses, store_id, key = request_facts(request)
    now = timezone.now()
    params = {"token": token, "key": parsed.code, "store": store_id, "now": now, "uses": uses, "live": False,
              "stale_qr": False, "idem": key}
    async with (await pool()).connection() as conn:
        row = await (await conn.execute(REDEEM_LOOKUP, params)).fetchone()
        if row is None:
            raise Declined
        member, store, voucher, broken, (redemption_id, event_id) = _row(row)
        if broken:
            raise Declined
        seen = voucher.uses_left
        voucher.uses_left -= uses
        redemption = Redemption(
            pk=redemption_id, merchant_id=member.merchant_id, voucher=voucher, store=store, staff=member,
            uses=uses, value=hotpath.redemption_value(voucher.product, uses), at=now, idempotency_key=key,
            reverse_reason="",
        )
        event = Event(
            pk=event_id, merchant_id=member.merchant_id, store_id=store.pk, type="redemption.created", at=now,
            data=events.event_data(member.merchant, store=store, redemption=redemption, voucher=voucher),
            fanned_out=False,
        )
        try:
            cursor = await conn.execute(WRITE, {
                "now": now, "uses": uses, "live": False, "stale_qr": False, "idem": key,
                **hotpath.clock_params(now, member.merchant.tz),
                **_attempt_params(member, store, voucher, parsed, "redeem", "redeemed", now),
                "seen": seen, "channel": voucher.channel, "order_no": voucher.order_no,
                "redemption": redemption_id, "value": redemption.value, "event": event_id,
                "data": psycopg.types.json.Jsonb(event.data),
            })
        except psycopg.errors.UniqueViolation:  # the same key, at the same moment
            raise Declined from None
        written, counted = await cursor.fetchone()
        if written != 1:  # another redeem came between: the view decides
            raise Declined
        if not counted:  # its order had no total yet (a voucher made outside the services)
            await conn.execute(*hotpath.recount_statement(voucher.merchant_id, [(voucher.channel, voucher.order_no)]))
    events.push_from_loop(event, member.merchant.tz)
    return member, store, voucher, redemption, event.data


def _attempt_params(member, store, voucher, parsed, kind, result, now):
    return {"merchant": member.merchant_id, "store": store.pk, "staff": member.pk, "voucher": voucher.pk,
            "kind": kind, "masked": parsed.masked[:40], "result": result, "now": now}
