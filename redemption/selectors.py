"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import (
    Aggregate, Case, CharField, Count, Exists, F, FloatField, Max, Min, OuterRef, Q, Sum, Value, When,
)
from django.utils import timezone

from redemption import present
from redemption.models import (
    PASSED, Attempt, DailyTotal, OrderTotal, Redemption, RefusalTotal, Voucher, VoucherStatus, status_filter,
)

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

    Added up from the daily totals (models.DailyTotal), never from the redemptions themselves;
    refused attempts from the attempts kept and the refusal totals of those pruned.
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
    # Refusals prune has deleted were counted into RefusalTotal first, each once, by the same day.
    pruned = (
        RefusalTotal.objects.filter(stores, merchant_id=member.merchant_id, day__gte=day_from, day__lte=day_to)
        .exclude(**{key: None}).values(key).annotate(n=Sum("refused"))
    )
    for g in [*refused, *pruned]:
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

# An order's status from its total (OrderTotal): voided when every voucher is, else redeemed when
# none not voided has a use left, else partly when any use was made, else unused.
ORDER_STATUS = Case(
    When(voided=F("vouchers"), then=Value("voided")),
    When(open=0, then=Value("redeemed")),
    When(uses_used__gt=0, then=Value("partly")),
    default=Value("unused"),
    output_field=CharField(),
)
ORDER_FIELDS = ("channel", "order_no", "vouchers", "uses_total", "uses_used", "status", "first_at", "last_at",
                "face_value_total", "redeemed_value")


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
    manager sees the orders with a standing redemption in their stores. Read from the orders'
    totals (OrderTotal), so a page costs the same over a thousand orders or a million redemptions."""
    orders = OrderTotal.objects.filter(merchant_id=member.merchant_id)
    if channel:
        orders = orders.filter(channel=channel)
    if q is not None:
        keys = _order_keys(member.merchant_id, q)
        named = Q(pk__in=[])
        for key_channel, order_no in keys:
            named |= Q(channel=key_channel, order_no=order_no)
        orders = orders.filter(named)
    start, end = day_bounds(day_from, day_to, member.merchant.tz)
    if start:
        orders = orders.filter(last_at__gte=start)
    if end:
        orders = orders.filter(last_at__lt=end)
    if not member.is_owner:
        in_their_stores = Redemption.objects.filter(
            merchant_id=OuterRef("merchant_id"), voucher__channel=OuterRef("channel"),
            voucher__order_no=OuterRef("order_no"), reversed_at=None, store_id__in=member.store_ids(),
        )
        orders = orders.filter(Exists(in_their_stores))
    if status:
        orders = orders.alias(status=ORDER_STATUS).filter(status=status)
    total = orders.count()
    orders = orders.annotate(status=ORDER_STATUS).order_by(F("last_at").desc(nulls_last=True), "-order_no", "channel")
    if page:
        offset, limit = page
        orders = orders[offset : offset + limit]
    rows = list(orders.values(*ORDER_FIELDS))
    for row in rows:
        for name in ("face_value_total", "redeemed_value"):
            row[name] = _money(Decimal(row[name] or 0))
    return rows, total


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
