"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Max, Min, Q, Sum
from django.utils import timezone

from redemption import present
from redemption.models import PASSED, Attempt, DailyTotal, Redemption, Voucher, VoucherStatus, status_filter

VOUCHER_STATUSES = tuple(VoucherStatus.values)


def day_bounds(day_from, day_to, tz):
    """[start, end) of a range of local days, as aware datetimes."""
    start = dt.datetime.combine(day_from, dt.time.min, tzinfo=tz) if day_from else None
    end = dt.datetime.combine(day_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz) if day_to else None
    return start, end


def redemption_list(*, member, store=None, staff=None, day_from=None, day_to=None, own=False):
    qs = Redemption.objects.filter(merchant_id=member.merchant_id).select_related(
        "voucher__product", "store", "staff"
    )
    if not own and not member.is_owner:
        qs = qs.filter(store_id__in=member.store_ids())
    if store:
        qs = qs.filter(store_id=store)
    if staff:
        qs = qs.filter(staff_id=staff)
    start, end = day_bounds(day_from, day_to, member.merchant.tz)
    if start:
        qs = qs.filter(at__gte=start)
    if end:
        qs = qs.filter(at__lt=end)
    return qs.order_by("-at", "-id")


def voucher_list(*, merchant, status=None, product=None, order_no=None, q=None):
    qs = Voucher.objects.filter(merchant=merchant).select_related("product")
    if status:
        qs = qs.filter(status_filter(status, timezone.now()))
    if product:
        qs = qs.filter(product_id=product)
    if order_no:
        qs = qs.filter(order_no=order_no)
    if q:
        # Order number, or the tail of a code as staff see it masked (at least 4 characters).
        q = q.strip().upper().replace(" ", "")
        qs = qs.filter(Q(order_no=q) | (Q(code__endswith=q) if len(q) >= 4 else Q(pk__in=[])))
    return qs.order_by("-id")


def _money(value):
    return str(value.quantize(Decimal("0.01"), rounding=ROUND_HALF_UP))


def redemption_stats(*, member, by, day_from, day_to, store=None):
    """Per staff member or per store: redemptions, uses, face value, refused attempts, reversals.

    Added up from the daily totals (models.DailyTotal), never from the redemptions themselves.
    Reversed redemptions count only under `reversed`. Each redemption carries what its uses were
    worth (face_value / uses_per_voucher each), summed exactly and rounded once at the end.
    """
    key = {"staff": "staff_id", "store": "store_id"}[by]
    stores = Q()
    if not member.is_owner:
        stores &= Q(store_id__in=member.store_ids())
    if store:
        stores &= Q(store_id=store)
    rows = {}

    def row(id_):
        return rows.setdefault(id_, {"redemptions": 0, "uses": 0, "face_value_total": Decimal(0),
                                     "refused_attempts": 0, "reversed": 0, "first_at": None, "last_at": None})

    groups = (
        DailyTotal.objects.filter(stores, merchant_id=member.merchant_id, day__gte=day_from, day__lte=day_to)
        .values(key)
        .annotate(n=Sum("redemptions"), n_reversed=Sum("reversed"), uses=Sum("uses"), uses_reversed=Sum("reversed_uses"),
                  value=Sum("value"), value_reversed=Sum("reversed_value"), first=Min("first_at"), last=Max("last_at"))
    )
    for g in groups:
        row(g[key]).update(
            redemptions=g["n"] - g["n_reversed"], uses=g["uses"] - g["uses_reversed"], reversed=g["n_reversed"],
            face_value_total=Decimal(g["value"]) - Decimal(g["value_reversed"]), first_at=g["first"], last_at=g["last"],
        )
    start, end = day_bounds(day_from, day_to, member.merchant.tz)
    refused = (
        Attempt.objects.filter(stores, ~Q(result__in=PASSED), merchant_id=member.merchant_id, at__gte=start, at__lt=end)
        .exclude(**{key: None}).values(key).annotate(n=Count("id"))
    )
    for g in refused:
        row(g[key])["refused_attempts"] += g["n"]
    for r in rows.values():
        r["face_value_total"] = _money(r["face_value_total"])
    return rows


class _MedianHours(Aggregate):
    """The median of a duration, in hours (PostgreSQL's percentile_cont). Sorted as seconds in
    double precision: EXTRACT(EPOCH ...) would give numeric, a third slower over 200,000 vouchers."""

    function = "percentile_cont"
    template = "%(function)s(0.5) WITHIN GROUP (ORDER BY date_part('epoch', %(expressions)s) / 3600)"
    output_field = FloatField()


def product_stats(*, merchant, day_from, day_to):
    """Per product, over the vouchers issued in the range: issued, redeemed, voided, expired unused,
    and the median hours from issue to first standing use. Read from the vouchers alone: each keeps
    the time of its first standing use (Voucher.first_used_at)."""
    start, end = day_bounds(day_from, day_to, merchant.tz)
    now = timezone.now()
    voided, used = Q(state=Voucher.State.VOIDED), Q(first_used_at__isnull=False)
    vouchers = Voucher.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end)
    figures = {
        "issued": Count("id"),
        "voided": Count("id", filter=voided),
        "redeemed": Count("id", filter=used & ~voided),
        "expired_unused": Count("id", filter=~used & ~voided & Q(valid_until__lt=now)),
    }
    in_python = connection.vendor != "postgresql"
    if not in_python:
        # The median in the database: a year of a busy shop is too many rows to bring into Python.
        figures["median_hours"] = _MedianHours(F("first_used_at") - F("created_at"), filter=used & ~voided)
    figures = {row.pop("product_id"): row for row in vouchers.values("product_id").annotate(**figures)}
    if in_python:
        hours = {}
        for product_id, issued, first_used in vouchers.filter(used & ~voided).values_list(
            "product_id", "created_at", "first_used_at"
        ):
            hours.setdefault(product_id, []).append((first_used - issued).total_seconds() / 3600)
        for product_id, values in hours.items():
            figures[product_id]["median_hours"] = statistics.median(values)
    return figures


# ---- the owner's back office: orders (核销回传), the daily statement (对账单), a voucher's history ----

ORDER_STATUSES = ("unused", "partly", "redeemed", "voided")

# One order's figures, over its vouchers (a voucher replaced by a reissue counts only for the uses
# it gave; its replacement carries the rest) and its standing redemptions. Table and column names
# from the models; {where} narrows the vouchers, {orders} the order keys, {having} the finished rows.
_ORDERS_SQL = """
WITH per_order AS {materialized} (
    SELECT v.channel, v.order_no,
           COUNT(*) - COUNT(n.id) AS vouchers,
           SUM(v.uses_total - CASE WHEN n.id IS NULL THEN 0 ELSE v.uses_left END) AS uses_total,
           SUM(v.uses_total - v.uses_left) AS uses_used,
           SUM(CASE WHEN n.id IS NULL AND v.state = 'voided' THEN 1 ELSE 0 END) AS voided,
           SUM(CASE WHEN n.id IS NULL AND v.state <> 'voided' AND v.uses_left > 0 THEN 1 ELSE 0 END) AS open,
           SUM(CASE WHEN n.id IS NULL THEN p.face_value ELSE 0 END) AS face_value_total
    FROM {voucher} v
    JOIN {product} p ON p.id = v.product_id
    LEFT JOIN {voucher} n ON n.replaces_id = v.id
    WHERE v.merchant_id = %(merchant)s {where} {orders}
    GROUP BY v.channel, v.order_no
), used AS {materialized} (
    SELECT v.channel, v.order_no, MIN(r.at) AS first_at, MAX(r.at) AS last_at, SUM(r.value) AS value
    FROM {redemption} r JOIN {voucher} v ON v.id = r.voucher_id
    WHERE r.merchant_id = %(merchant)s AND r.reversed_at IS NULL {where} {orders}
    GROUP BY v.channel, v.order_no
), orders AS (
    SELECT o.*, u.first_at, u.last_at, COALESCE(u.value, 0) AS redeemed_value,
           CASE WHEN o.voided = o.vouchers THEN 'voided' WHEN o.open = 0 THEN 'redeemed'
                WHEN o.uses_used > 0 THEN 'partly' ELSE 'unused' END AS status
    FROM per_order o LEFT JOIN used u ON u.channel = o.channel AND u.order_no = o.order_no
)
SELECT channel, order_no, vouchers, uses_total, uses_used, status, first_at, last_at, face_value_total,
       redeemed_value, COUNT(*) OVER () AS total
FROM orders WHERE 1 = 1 {having}
ORDER BY last_at DESC {nulls_last}, order_no DESC, channel
{limit}
"""

# The orders with a standing redemption in a range (or at some stores): found along the
# redemptions' (merchant, at) index, so a day's orders do not cost a scan of every voucher.
_REDEEMED_ORDERS = """
    AND (v.channel, v.order_no) IN (
        SELECT rv.channel, rv.order_no FROM {redemption} rr JOIN {voucher} rv ON rv.id = rr.voucher_id
        WHERE rr.merchant_id = %(merchant)s {conditions})"""


def _tables(sql):
    return sql.format_map(_Tables())


class _Tables(dict):
    def __missing__(self, key):
        names = {"voucher": Voucher, "product": Voucher.product.field.related_model, "redemption": Redemption}
        return names[key]._meta.db_table if key in names else "{" + key + "}"


def _order_keys(merchant, q):
    """The orders a search names: its order number, or the order of a code ending in it (4 or more)."""
    q = q.strip()
    tail = q.upper().replace(" ", "")
    match = Q(order_no=q) | (Q(code__endswith=tail) if len(tail) >= 4 else Q(pk__in=[]))
    return list(Voucher.objects.filter(match, merchant=merchant).values_list("channel", "order_no").distinct()[:50])


def order_list(*, member, channel=None, status=None, day_from=None, day_to=None, q=None, page=None):
    """The merchant's orders (vouchers sharing channel and order number) with their figures, the
    most recently redeemed first, as dicts; `page` is (offset, limit) or None for all. Returns
    (rows, total). `day_from`/`day_to` filter by the last standing redemption's local day; a
    manager sees the orders with a standing redemption in their stores."""
    params = {"merchant": member.merchant_id}
    where, orders, having = [], [], []
    if channel:
        where.append("AND v.channel = %(channel)s")
        params["channel"] = channel
    if q is not None:
        keys = _order_keys(member.merchant_id, q) or [("", "")]
        pairs = []
        for i, (key_channel, order_no) in enumerate(keys):
            params[f"c{i}"], params[f"o{i}"] = key_channel, order_no
            pairs.append(f"(v.channel = %(c{i})s AND v.order_no = %(o{i})s)")
        where.append("AND (" + " OR ".join(pairs) + ")")
    start, end = day_bounds(day_from, day_to, member.merchant.tz)
    conditions = ["AND rr.reversed_at IS NULL"]
    if start:
        conditions.append("AND rr.at >= %(start)s")
        having.append("AND last_at >= %(start)s")
        params["start"] = start
    if end:
        conditions.append("AND rr.at < %(end)s")
        having.append("AND last_at < %(end)s")
        params["end"] = end
    if start or end:
        orders.append(_REDEEMED_ORDERS.format(conditions=" ".join(conditions), redemption="{redemption}", voucher="{voucher}"))
    if not member.is_owner:
        params["stores"] = tuple(member.store_ids()) or (0,)
        stores = "AND rr.reversed_at IS NULL AND rr.store_id IN %(stores)s"
        orders.append(_REDEEMED_ORDERS.format(conditions=stores, redemption="{redemption}", voucher="{voucher}"))
    if status:
        having.append("AND status = %(status)s")
        params["status"] = status
    limit = ""
    if page:
        limit = "LIMIT %(limit)s OFFSET %(offset)s"
        params["offset"], params["limit"] = page
    sql = _tables(_ORDERS_SQL).format(
        where=" ".join(where), orders=_tables(" ".join(orders)), having=" ".join(having), limit=limit,
        nulls_last="NULLS LAST",
        # Each part computed once: with the status filter PostgreSQL guesses a single order and would
        # aggregate the redemptions again for every order found.
        materialized="MATERIALIZED" if connection.vendor == "postgresql" else "",
    )
    sql, params = _expand_in(sql, params)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        names = [c[0] for c in cursor.description]
        rows = [dict(zip(names, values)) for values in cursor.fetchall()]
    total = rows[0]["total"] if rows else 0
    for row in rows:
        del row["total"]
        for name in ("first_at", "last_at"):
            row[name] = _moment(row[name])
        for name in ("face_value_total", "redeemed_value"):
            row[name] = _money(Decimal(str(row[name] or 0)))
    return rows, total


def _expand_in(sql, params):
    """`IN %(name)s` with a tuple, written out as one placeholder per value (SQLite takes no tuples)."""
    for name, value in list(params.items()):
        if isinstance(value, tuple):
            del params[name]
            names = [f"{name}_{i}" for i in range(len(value))]
            params.update(zip(names, value))
            sql = sql.replace(f"%({name})s", "(" + ", ".join(f"%({n})s" for n in names) + ")")
    return sql, params


def _moment(value):
    if value is None or isinstance(value, dt.datetime):
        return value
    moment = dt.datetime.fromisoformat(value)
    return moment if moment.tzinfo else moment.replace(tzinfo=dt.timezone.utc)


def daily_statement(*, member, day_from, day_to, channel=None, store=None):
    """对账单: per merchant-local day and sales channel, the redemptions made that day (reversed or
    not) and those of them reversed since, from the daily totals. Money as decimal strings, each
    row's net the difference of its two rounded figures so the row adds up as printed."""
    totals = DailyTotal.objects.filter(merchant_id=member.merchant_id, day__gte=day_from, day__lte=day_to)
    if not member.is_owner:
        totals = totals.filter(store_id__in=member.store_ids())
    if store:
        totals = totals.filter(store_id=store)
    if channel:
        totals = totals.filter(channel=channel)
    groups = (
        totals.values("day", "channel").order_by("day", "channel")
        .annotate(n=Sum("redemptions"), n_uses=Sum("uses"), total=Sum("value"), n_reversed=Sum("reversed"),
                  total_reversed=Sum("reversed_value"))
    )
    rows = []
    for g in groups:
        value, reversed_value = (Decimal(_money(Decimal(g[k]))) for k in ("total", "total_reversed"))
        rows.append({
            "day": g["day"], "channel": g["channel"], "redemptions": g["n"], "uses": g["n_uses"],
            "value": str(value), "reversed": g["n_reversed"], "reversed_value": str(reversed_value),
            "net_value": str(value - reversed_value),
        })
    return rows


# Events of one moment in the order they happen.
_EVENT_ORDER = {name: i for i, name in enumerate(
    ("issued", "viewed", "checked", "refused", "redeemed", "reversed", "frozen", "unfrozen", "revealed", "voided",
     "reissued"))}

# The most attempts a history lists: a voucher scanned in a loop should not make the page endless.
HISTORY_ATTEMPTS = 2000


def voucher_history(voucher):
    """What happened to one voucher, oldest first, as (at, type, facts) with model instances in the
    facts: issue, the buyer page's openings, checks, refusals, redemptions and their reversals,
    and what the owner did (VoucherLog)."""
    events = [(voucher.created_at, "issued",
               {"channel": voucher.channel, "order_no": voucher.order_no, "replaces": voucher.replaces})]
    if voucher.first_viewed_at:
        events.append((voucher.first_viewed_at, "viewed",
                       {"last_at": voucher.last_viewed_at, "count": voucher.view_count}))
    attempts = (
        Attempt.objects.filter(voucher=voucher, kind__in=[Attempt.Kind.CHECK, Attempt.Kind.REDEEM])
        .exclude(result="redeemed").select_related("store", "staff").order_by("at", "id")[:HISTORY_ATTEMPTS]
    )
    for attempt in attempts:
        if attempt.result in PASSED:
            events.append((attempt.at, "checked", {"store": attempt.store, "staff": attempt.staff}))
        else:
            events.append((attempt.at, "refused", {"reason": attempt.result, "kind": attempt.kind,
                                                   "store": attempt.store, "staff": attempt.staff}))
    for r in Redemption.objects.filter(voucher=voucher).select_related("store", "staff", "reversed_by").order_by("at", "id"):
        events.append((r.at, "redeemed", {"redemption": r, "store": r.store, "staff": r.staff, "uses": r.uses}))
        if r.reversed_at:
            events.append((r.reversed_at, "reversed", {"redemption": r, "store": r.store, "staff": r.reversed_by,
                                                       "uses": r.uses, "reason": r.reverse_reason}))
    logged = list(voucher.log.select_related("staff").order_by("at", "id"))
    for entry in logged:
        facts = {"staff": entry.staff}
        if entry.action == "voided":
            facts["reason"] = entry.note
        elif entry.action == "reissued":
            facts["new_code_masked"] = entry.note
        events.append((entry.at, entry.action, facts))
    if voucher.voided_at and not any(entry.action == "voided" for entry in logged):
        # Voided before the log was kept: the voucher itself says when and why, not by whom.
        events.append((voucher.voided_at, "voided", {"staff": None, "reason": voucher.void_reason}))
    events.sort(key=lambda e: (e[0], _EVENT_ORDER[e[1]]))
    return events


def voucher_history_data(voucher, tz):
    """The history as the API answers it (and the printed page shows it): {voucher, events}."""
    return {
        "voucher": {**present.voucher_data(voucher, tz), "channel": voucher.channel},
        "events": [present.history_event_data(at, type_, facts, tz) for at, type_, facts in voucher_history(voucher)],
    }
