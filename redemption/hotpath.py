"""The statements of a scan, written out once.

Building a statement through the ORM costs about a millisecond of Python each (measured in
bench/), more than PostgreSQL takes to run it; a scan runs six to eight. Here each statement is
a fixed string, the rows come back as ordinary model instances (the columns not read are
deferred, so a later .save() writes only what was loaded), and everything else in the project
keeps using the ORM. Tests run these on SQLite and PostgreSQL alike.
"""

import datetime as dt
import json
from decimal import Decimal

from django.db import DEFAULT_DB_ALIAS, connection
from django.utils.dateparse import parse_date, parse_datetime, parse_time

from redemption.models import Attempt, DailyTotal, Event, OrderTotal, Product, Redemption, Voucher
from staff.models import Membership, Store

UTC = dt.timezone.utc


def _fields(model, names):
    """The model's fields named, in the model's own order (the order Model.from_db expects)."""
    return [f for f in model._meta.concrete_fields if f.attname in names]


def _column(meta, name):
    return meta.get_field(name).column


def _columns(alias, fields):
    return ", ".join(f"{alias}.{f.column}" for f in fields)


def _convert(field, value):
    # PostgreSQL hands back proper types; SQLite gives text for times and numbers for the rest.
    if value is None:
        return None
    internal = field.get_internal_type()
    if internal == "DateTimeField":
        moment = parse_datetime(value) if isinstance(value, str) else value
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    if internal == "DateField" and isinstance(value, str):
        return parse_date(value)
    if internal == "TimeField" and isinstance(value, str):
        return parse_time(value)
    if internal == "DecimalField" and not isinstance(value, Decimal):
        return Decimal(str(value))
    if internal == "BooleanField":
        return bool(value)
    return value


def _build(model, fields, values):
    values = [_convert(f, v) for f, v in zip(fields, values)]
    return model.from_db(DEFAULT_DB_ALIAS, [f.attname for f in fields], values)


def _db_time(moment):
    return connection.ops.adapt_datetimefield_value(moment)


def _db_value(value):
    if isinstance(value, dt.datetime):
        return _db_time(value)
    if isinstance(value, dt.date):
        return connection.ops.adapt_datefield_value(value)
    if isinstance(value, dt.time):
        return connection.ops.adapt_timefield_value(value)
    return value


MEMBER_STORES = Membership.stores.through._meta
PRODUCT_STORES = Product.stores.through._meta
STORE = Store._meta.db_table
VOUCHER = Voucher._meta.db_table
PRODUCT = Product._meta.db_table
REDEMPTION = Redemption._meta.db_table
DAILY_TOTAL = DailyTotal._meta.db_table

STORE_FIELDS = _fields(Store, {"id", "merchant_id", "name"})
VOUCHER_FIELDS = _fields(Voucher, {
    "id", "merchant_id", "product_id", "code", "token", "channel", "order_no", "buyer_phone",
    "uses_total", "uses_left", "valid_from", "valid_until", "state", "voided_at",
    "day_uses", "day_uses_on", "last_used_at",
})
PRODUCT_FIELDS = _fields(Product, {
    "id", "merchant_id", "name", "face_value", "uses_per_voucher", "require_live_qr",
    "max_uses_per_day", "min_minutes_between_uses", "hours_weekdays", "hours_from", "hours_until",
})


def stores_for(member, store_id=None, limit=2):
    """The member's stores (all of the merchant's for an owner), or just the one asked for."""
    sql = f"SELECT {_columns('s', STORE_FIELDS)} FROM {STORE} s WHERE s.merchant_id = %s"
    params = [member.merchant_id]
    if not member.is_owner:
        sql += (
            f" AND EXISTS (SELECT 1 FROM {MEMBER_STORES.db_table} ms WHERE ms.{_column(MEMBER_STORES, 'membership')} = %s"
            f" AND ms.{_column(MEMBER_STORES, 'store')} = s.id)"
        )
        params.append(member.pk)
    if store_id is not None:
        sql += " AND s.id = %s"
        params.append(store_id)
    sql += f" ORDER BY s.id LIMIT {int(limit)}"
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_build(Store, STORE_FIELDS, row) for row in cursor.fetchall()]


_PS_PRODUCT, _PS_STORE = _column(PRODUCT_STORES, "product"), _column(PRODUCT_STORES, "store")


def _plus_minutes(moment, minutes):
    """SQL for a time column plus a number of minutes (a column), comparable with a time parameter."""
    if connection.vendor == "postgresql":
        return f"({moment} + {minutes} * interval '1 minute')"
    # SQLite keeps times as text in UTC, 'YYYY-MM-DD HH:MM:SS[.ffffff]'; datetime() answers to the
    # second (dropping the fraction: at most a second early, on the embedded set-up only).
    return f"datetime({moment}, '+' || {minutes} || ' minutes')"


# The uses of the voucher's merchant-local day `today` so far.
USES_TODAY = "(CASE WHEN v.day_uses_on = %(today)s THEN v.day_uses ELSE 0 END)"

# The redeem rule, written once: (reason, what must hold). A scan is refused for the first that
# fails; a redeem needs them all. Every path (this module's statements on SQLite and PostgreSQL,
# and the PostgreSQL fast path in redemption.fastpath) evaluates these very conditions, on the
# voucher row it locks or writes, so the product's redemption rules hold under concurrency as
# uses do. Parameters: store, now, uses, live (a live QR was scanned), stale_qr (one past its
# window), and the merchant's clock: today (local date), clock (local time), weekday_bit
# (1 << ISO weekday - 1).
RULES = (
    ("voided", f"v.state <> '{Voucher.State.VOIDED}'"),
    ("frozen", f"v.state <> '{Voucher.State.FROZEN}'"),
    ("qr_expired", "NOT %(stale_qr)s"),
    ("live_qr_required", "(%(live)s OR NOT p.require_live_qr)"),
    ("already_redeemed", "v.uses_left > 0"),
    ("not_yet_valid", "(v.valid_from IS NULL OR v.valid_from <= %(now)s)"),
    ("expired", "(v.valid_until IS NULL OR v.valid_until >= %(now)s)"),
    ("wrong_store", (
        f"(NOT EXISTS (SELECT 1 FROM {PRODUCT_STORES.db_table} ps WHERE ps.{_PS_PRODUCT} = v.product_id) "
        f"OR EXISTS (SELECT 1 FROM {PRODUCT_STORES.db_table} ps WHERE ps.{_PS_PRODUCT} = v.product_id "
        f"AND ps.{_PS_STORE} = %(store)s))"
    )),
    ("outside_hours", (
        "(p.hours_from IS NULL OR ((p.hours_weekdays & %(weekday_bit)s) <> 0 "
        "AND p.hours_from <= %(clock)s AND p.hours_until > %(clock)s))"
    )),
    ("too_soon", (
        "(p.min_minutes_between_uses IS NULL OR v.last_used_at IS NULL OR "
        f"{_plus_minutes('v.last_used_at', 'p.min_minutes_between_uses')} <= %(now)s)"
    )),
    ("daily_limit", f"(p.max_uses_per_day IS NULL OR {USES_TODAY} + %(uses)s <= p.max_uses_per_day)"),
    ("insufficient_uses", "v.uses_left >= %(uses)s"),
)
RULE_COLUMNS = ", ".join(f"CASE WHEN {condition} THEN 1 ELSE 0 END" for _reason, condition in RULES)
ALL_RULES = " AND ".join(condition for _reason, condition in RULES)

VOUCHER_SQL = (
    f"SELECT {_columns('v', VOUCHER_FIELDS)}, {_columns('p', PRODUCT_FIELDS)}, {RULE_COLUMNS} "
    f"FROM {VOUCHER} v JOIN {PRODUCT} p ON p.id = v.product_id WHERE v.merchant_id = %(merchant)s AND "
)


def clock_params(now, tz):
    """The merchant's clock at `now`, as the rules read it."""
    local = now.astimezone(tz)
    return {
        "today": _db_value(local.date()),
        "clock": _db_value(local.time().replace(tzinfo=None)),
        "weekday_bit": 1 << (local.isoweekday() - 1),
    }


def rule_params(*, store_id, parsed, uses, now, tz):
    return {
        "store": store_id, "now": _db_time(now), "uses": uses,
        "live": parsed.is_live, "stale_qr": parsed.is_live and not parsed.live_ok,
        **clock_params(now, tz),
    }


def first_broken(flags):
    """The reason of the first rule that does not hold, from the rule columns of a row, or None."""
    return next((reason for (reason, _condition), holds in zip(RULES, flags) if not holds), None)


def _voucher_from(row):
    n_voucher, n_product = len(VOUCHER_FIELDS), len(PRODUCT_FIELDS)
    voucher = _build(Voucher, VOUCHER_FIELDS, row[:n_voucher])
    voucher._state.fields_cache["product"] = _build(Product, PRODUCT_FIELDS, row[n_voucher : n_voucher + n_product])
    voucher.broken = first_broken(row[n_voucher + n_product :])
    return voucher


def find_voucher(merchant_id, store_id, parsed, *, uses, now, tz, lock=False):
    """The voucher the scan names (code, buyer token or, for a voucher found by lookup, its id), in
    this merchant, with its product, and `voucher.broken`: the first rule it breaks for `uses` uses
    here and now (None: redeemable). With lock, the voucher row stays locked until the transaction ends."""
    if parsed.code is not None:
        sql, key = VOUCHER_SQL + "v.code = %(key)s", parsed.code
    elif getattr(parsed, "voucher_id", None) is not None:
        sql, key = VOUCHER_SQL + "v.id = %(key)s", parsed.voucher_id
    else:
        sql, key = VOUCHER_SQL + "v.token = %(key)s", parsed.token
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF v"
    params = rule_params(store_id=store_id, parsed=parsed, uses=uses, now=now, tz=tz)
    params.update(merchant=merchant_id, key=key)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        row = cursor.fetchone()
    return None if row is None else _voucher_from(row)


def order_vouchers(voucher, store_id, parsed, *, uses, now, tz, lock=False):
    """Every voucher of `voucher`'s order (same merchant, channel and order number), by id, each
    with `broken` for the uses asked of it (`uses`: {id: uses}, 1 where not named). With lock, all
    of them stay locked until the transaction ends, taken in id order so that two clerks redeeming
    one order wait for each other instead of deadlocking."""
    uses_of = "1"
    if uses:  # ids and counts are integers, checked by the caller: safe to write into the statement
        uses_of = "(CASE v.id " + " ".join(f"WHEN {int(pk)} THEN {int(n)}" for pk, n in uses.items()) + " ELSE 1 END)"
    sql = VOUCHER_SQL.replace("%(uses)s", uses_of) + "v.channel = %(channel)s AND v.order_no = %(order_no)s ORDER BY v.id"
    if lock and connection.features.has_select_for_update_of:
        sql += " FOR UPDATE OF v"
    params = rule_params(store_id=store_id, parsed=parsed, uses=1, now=now, tz=tz)
    params.update(merchant=voucher.merchant_id, channel=voucher.channel, order_no=voucher.order_no)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return [_voucher_from(row) for row in cursor.fetchall()]


def _earliest(column, moment):
    """SQL for the earlier of a column that may be empty and a moment (an SQL expression)."""
    return f"CASE WHEN {column} IS NULL OR {moment} < {column} THEN {moment} ELSE {column} END"


def _latest(column, moment):
    return f"CASE WHEN {column} IS NULL OR {moment} > {column} THEN {moment} ELSE {column} END"


def first_use(at, alias=None):
    """The voucher's first_used_at once a redemption at `at` (an SQL parameter) stands. The earlier
    of the two rather than the first one written: a redeem whose time was taken before another's
    may reach the voucher row after it."""
    column = _column(Voucher._meta, "first_used_at")
    return _earliest(f"{alias}.{column}" if alias else column, at)


def uses_taken(at, alias=None):
    """The SET list of a redeem's UPDATE of the voucher beyond uses_left: the first use, the uses
    of the day (`today`, the merchant's day of `at`) and the last use."""
    prefix = f"{alias}." if alias else ""
    return (
        f"first_used_at = {first_use(at, alias)}, "
        f"day_uses = CASE WHEN {prefix}day_uses_on = %(today)s THEN {prefix}day_uses + %(uses)s ELSE %(uses)s END, "
        f"day_uses_on = %(today)s, last_used_at = {_latest(prefix + 'last_used_at', at)}"
    )


TAKE_USES = (
    f"UPDATE {VOUCHER} SET uses_left = uses_left - %(uses)s, {uses_taken('%(at)s')} "
    "WHERE id = %(voucher)s AND uses_left >= %(uses)s"
)


def take_uses(voucher_id, uses, at, tz):
    """Conditional write: takes the uses only if they are still there (and notes the first, last
    and day's uses). True when it did."""
    with connection.cursor() as cursor:
        cursor.execute(TAKE_USES, {"uses": uses, "voucher": voucher_id, "at": _db_time(at),
                                   "today": _db_value(at.astimezone(tz).date())})
        return cursor.rowcount == 1


# A redemption's day total: the key, then what one redemption adds (the reversed columns start at 0).
DAILY_KEY = ("merchant", "day", "store", "staff", "channel")
DAILY_COLUMNS = (*DAILY_KEY, "redemptions", "uses", "value", "reversed", "reversed_uses", "reversed_value",
                 "first_at", "last_at")
_DAILY = {name: _column(DailyTotal._meta, name) for name in DAILY_COLUMNS}
# The upsert's second half, shared with the fast path's WRITE. ON CONFLICT ... DO UPDATE is
# PostgreSQL's and SQLite's alike; the row stays locked until the redemption's transaction ends.
ADD_TO_DAILY_TOTAL = (
    f" ON CONFLICT ({', '.join(_DAILY[n] for n in DAILY_KEY)}) DO UPDATE SET "
    + ", ".join(f"{_DAILY[n]} = {DAILY_TOTAL}.{_DAILY[n]} + EXCLUDED.{_DAILY[n]}" for n in ("redemptions", "uses", "value"))
    + f", {_DAILY['first_at']} = {_earliest(f'{DAILY_TOTAL}.' + _DAILY['first_at'], 'EXCLUDED.' + _DAILY['first_at'])}"
    + f", {_DAILY['last_at']} = {_latest(f'{DAILY_TOTAL}.' + _DAILY['last_at'], 'EXCLUDED.' + _DAILY['last_at'])}"
)


# An order's total (OrderTotal): what one redemption adds, the delta shared with the fast path's
# WRITE; a missing row (a voucher made outside the services) comes back with vouchers = 0 and is
# counted afresh by the caller.
ORDER_TOTAL = OrderTotal._meta.db_table
ORDER_KEY = ("merchant_id", "channel", "order_no")
ORDER_FIGURES = ("vouchers", "uses_total", "uses_used", "voided", "open", "face_value_total", "redeemed_value",
                 "first_at", "last_at")
ADD_TO_ORDER_TOTAL = (
    f" ON CONFLICT ({', '.join(ORDER_KEY)}) DO UPDATE SET "
    + ", ".join(f"{n} = {ORDER_TOTAL}.{n} + EXCLUDED.{n}" for n in ("uses_used", "open", "redeemed_value"))
    + f", first_at = {_earliest(f'{ORDER_TOTAL}.first_at', 'EXCLUDED.first_at')}"
    + f", last_at = {_latest(f'{ORDER_TOTAL}.last_at', 'EXCLUDED.last_at')}"
    + f" RETURNING {ORDER_TOTAL}.vouchers"
)
_ORDER_COLUMNS = ", ".join((*ORDER_KEY, *ORDER_FIGURES))
ADD_ORDER_USE = (
    f"INSERT INTO {ORDER_TOTAL} ({_ORDER_COLUMNS}) VALUES (%(merchant)s, %(channel)s, %(order_no)s, 0, 0, %(uses)s, 0, "
    f"%(opened)s, 0, %(value)s, %(at)s, %(at)s)" + ADD_TO_ORDER_TOTAL
)


def add_order_use(voucher, uses, value, at):
    """Add one redemption of `voucher` (its uses_left as after it) to its order's total."""
    params = {"merchant": voucher.merchant_id, "channel": voucher.channel, "order_no": voucher.order_no, "uses": uses,
              "opened": -1 if voucher.uses_left == 0 else 0, "value": value, "at": _db_time(at)}
    with connection.cursor() as cursor:
        cursor.execute(ADD_ORDER_USE, params)
        counted = cursor.fetchone()[0]
    if not counted:
        recount_orders(voucher.merchant_id, [(voucher.channel, voucher.order_no)])


# An order counted afresh from its vouchers and standing redemptions.
_RECOUNT = f"""
INSERT INTO {ORDER_TOTAL} ({_ORDER_COLUMNS})
SELECT o.merchant_id, o.channel, o.order_no, o.vouchers, o.uses_total, o.uses_used, o.voided, o.open,
       o.face_value_total, COALESCE(u.value, 0), u.first_at, u.last_at
FROM (
    SELECT v.merchant_id, v.channel, v.order_no,
           COUNT(*) - COUNT(n.id) AS vouchers,
           SUM(v.uses_total - CASE WHEN n.id IS NULL THEN 0 ELSE v.uses_left END) AS uses_total,
           SUM(v.uses_total - v.uses_left) AS uses_used,
           SUM(CASE WHEN n.id IS NULL AND v.state = '{Voucher.State.VOIDED}' THEN 1 ELSE 0 END) AS voided,
           SUM(CASE WHEN n.id IS NULL AND v.state <> '{Voucher.State.VOIDED}' AND v.uses_left > 0 THEN 1 ELSE 0 END) AS open,
           SUM(CASE WHEN n.id IS NULL THEN p.face_value ELSE 0 END) AS face_value_total
    FROM {VOUCHER} v
    JOIN {PRODUCT} p ON p.id = v.product_id
    LEFT JOIN {VOUCHER} n ON n.replaces_id = v.id
    WHERE v.merchant_id = %s AND ({{orders}})
    GROUP BY v.merchant_id, v.channel, v.order_no
) o
LEFT JOIN (
    SELECT v.channel, v.order_no, MIN(r.at) AS first_at, MAX(r.at) AS last_at, SUM(r.value) AS value
    FROM {REDEMPTION} r JOIN {VOUCHER} v ON v.id = r.voucher_id
    WHERE v.merchant_id = %s AND r.reversed_at IS NULL AND ({{orders}})
    GROUP BY v.channel, v.order_no
) u ON u.channel = o.channel AND u.order_no = o.order_no
WHERE 1 = 1
ON CONFLICT ({', '.join(ORDER_KEY)}) DO UPDATE SET {', '.join(f"{n} = EXCLUDED.{n}" for n in ORDER_FIGURES)}
"""


def _orders_match(orders, alias):
    return " OR ".join([f"({alias}.channel = %s AND {alias}.order_no = %s)"] * len(orders))


def recount_statement(merchant_id, orders):
    """(sql, params) counting these orders ((channel, order_no) pairs) afresh."""
    pairs = [value for pair in orders for value in pair]
    return _RECOUNT.format(orders=_orders_match(orders, "v")), [merchant_id, *pairs, merchant_id, *pairs]


def recount_orders(merchant_id, orders):
    """Count these orders ((channel, order_no) pairs) afresh, each total's row locked first so that
    redeems adding to it meanwhile are either counted here or add after."""
    orders = sorted(set(orders))
    for start in range(0, len(orders), 200):
        chunk = orders[start : start + 200]
        with connection.cursor() as cursor:
            if connection.features.has_select_for_update:
                pairs = [value for pair in chunk for value in pair]
                cursor.execute(f"SELECT t.id FROM {ORDER_TOTAL} t WHERE t.merchant_id = %s AND "
                               f"({_orders_match(chunk, 't')}) ORDER BY t.id FOR UPDATE", [merchant_id, *pairs])
            cursor.execute(*recount_statement(merchant_id, chunk))


def daily_total_row(*, merchant_id, tz, store_id, staff_id, channel, uses, value, at):
    """What one redemption adds to its day's total, by DAILY_COLUMNS: its day is the merchant's."""
    return (merchant_id, at.astimezone(tz).date(), store_id, staff_id, channel, 1, uses, value, 0, 0, 0, at, at)


def _insert(model, values, returning=True, suffix=""):
    fields = [model._meta.get_field(name) for name in values]
    sql = (
        f"INSERT INTO {model._meta.db_table} ({', '.join(f.column for f in fields)}) "
        f"VALUES ({', '.join(['%s'] * len(fields))})" + suffix + (" RETURNING id" if returning else "")
    )
    params = [_db_value(v) for v in values.values()]
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchone()[0] if returning else None


def _saved(instance, pk):
    instance.pk = pk
    instance._state.adding = False
    instance._state.db = connection.alias
    return instance


def redemption_value(product, uses):
    """What `uses` uses were worth: face value / uses per voucher x uses, exact to six places."""
    return (product.face_value * uses / product.uses_per_voucher).quantize(Decimal("0.000001"))


def create_redemption(*, merchant_id, voucher, store, staff, uses, at, idempotency_key, batch=None,
                      scanned_at=None, device=""):
    """Write the redemption and add it to its day's total (staff.merchant gives the day). With
    scanned_at, one a device took offline then."""
    value = redemption_value(voucher.product, uses)
    offline = scanned_at is not None
    redemption = Redemption(
        merchant_id=merchant_id, voucher=voucher, store=store, staff=staff, uses=uses, value=value, at=at,
        idempotency_key=idempotency_key, reverse_reason="", batch=batch, offline=offline, scanned_at=scanned_at,
        device=device,
    )
    pk = _insert(Redemption, {
        "merchant": merchant_id, "voucher": voucher.pk, "store": store.pk, "staff": staff.pk, "uses": uses,
        "value": value, "at": at, "idempotency_key": idempotency_key, "reverse_reason": "",
        "batch": batch.pk if batch else None, "offline": offline, "scanned_at": scanned_at, "device": device,
    })
    total = daily_total_row(merchant_id=merchant_id, tz=staff.merchant.tz, store_id=store.pk, staff_id=staff.pk,
                            channel=voucher.channel, uses=uses, value=value, at=at)
    _insert(DailyTotal, dict(zip(DAILY_COLUMNS, total)), returning=False, suffix=ADD_TO_DAILY_TOTAL)
    add_order_use(voucher, uses, value, at)
    return _saved(redemption, pk)


def record_attempt(*, merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at):
    _insert(Attempt, {
        "merchant": merchant_id, "staff": staff_id, "store": store_id, "voucher": voucher_id, "kind": kind,
        "input_masked": input_masked, "result": result, "at": at,
    }, returning=False)


def create_event(*, merchant_id, store_id, type, data, at):
    event = Event(merchant_id=merchant_id, store_id=store_id, type=type, data=data, at=at, fanned_out=False)
    pk = _insert(Event, {
        "merchant": merchant_id, "store": store_id, "type": type,
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")), "at": at, "fanned_out": False,
    })
    return _saved(event, pk)


def idempotent_redemption_id(staff_id, key):
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id FROM {REDEMPTION} WHERE staff_id = %s AND idempotency_key = %s", [staff_id, key]
        )
        row = cursor.fetchone()
    return row[0] if row else None


ANALYZE_AFTER = 1000  # rows put in at once past which the table's statistics are taken again


def bulk_insert(model, rows):
    """Insert many rows given as dicts of attname -> value (every row the same keys).

    PostgreSQL takes them by COPY; others by one prepared INSERT run for every row. Either is an
    order of magnitude faster than bulk_create, whose per-value preparation dominates past 10,000 rows.
    """
    if not rows:
        return
    names = list(rows[0])
    columns = [model._meta.get_field(n.removesuffix("_id") if n.endswith("_id") else n).column for n in names]
    # COPY goes to psycopg directly: wrap_database_errors turns its errors into Django's own
    # (a duplicate is an IntegrityError whichever way the rows went in).
    with connection.cursor() as cursor, connection.wrap_database_errors:
        if connection.vendor == "postgresql":
            with cursor.cursor.copy(f"COPY {model._meta.db_table} ({', '.join(columns)}) FROM STDIN") as copy:
                for row in rows:
                    copy.write_row([row[n] for n in names])
            if len(rows) >= ANALYZE_AFTER:
                # The planner still sees the table as it was: the statements that follow in this
                # transaction (the order recount) would pick nested scans over thousands of rows.
                cursor.execute(f"ANALYZE {model._meta.db_table}")
        else:
            sql = f"INSERT INTO {model._meta.db_table} ({', '.join(columns)}) VALUES ({', '.join(['%s'] * len(names))})"
            cursor.executemany(
                sql, [[_db_time(v) if isinstance(v, dt.datetime) else v for v in row.values()] for row in rows]
            )
