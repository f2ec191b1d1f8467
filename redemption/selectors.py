"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import Aggregate, Count, F, FloatField, Max, Min, Q, Sum
from django.utils import timezone

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
