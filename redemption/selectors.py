"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt
import statistics
from decimal import ROUND_HALF_UP, Decimal

from django.db import connection
from django.db.models import BooleanField, Count, Exists, ExpressionWrapper, Max, Min, OuterRef, Q, Sum
from django.utils import timezone

from redemption.models import Attempt, Redemption, Voucher, VoucherStatus, status_filter

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

    Reversed redemptions count only under `reversed`. Each redemption carries what its uses were
    worth (face_value / uses_per_voucher each), summed exactly and rounded once at the end.
    """
    key = {"staff": "staff_id", "store": "store_id"}[by]
    start, end = day_bounds(day_from, day_to, member.merchant.tz)
    scope = Q(merchant_id=member.merchant_id, at__gte=start, at__lt=end)
    if not member.is_owner:
        scope &= Q(store_id__in=member.store_ids())
    if store:
        scope &= Q(store_id=store)
    rows = {}

    def row(id_):
        return rows.setdefault(id_, {"redemptions": 0, "uses": 0, "face_value_total": Decimal(0),
                                     "refused_attempts": 0, "reversed": 0, "first_at": None, "last_at": None})

    standing = ExpressionWrapper(Q(reversed_at__isnull=True), output_field=BooleanField())
    groups = (
        Redemption.objects.filter(scope).values(key, standing=standing)
        .annotate(n=Count("id"), uses=Sum("uses"), value=Sum("value"), first=Min("at"), last=Max("at"))
    )
    for g in groups:
        r = row(g[key])
        if not g["standing"]:
            r["reversed"] += g["n"]
            continue
        r.update(redemptions=g["n"], uses=g["uses"], face_value_total=Decimal(g["value"]),
                 first_at=g["first"], last_at=g["last"])
    refused = (
        Attempt.objects.filter(scope).exclude(result__in=("redeemed", "redeemable"))
        .exclude(**{key: None}).values(key).annotate(n=Count("id"))
    )
    for g in refused:
        row(g[key])["refused_attempts"] += g["n"]
    for r in rows.values():
        r["face_value_total"] = _money(r["face_value_total"])
    return rows


def product_stats(*, merchant, day_from, day_to):
    """Per product, over the vouchers issued in the range: issued, redeemed, voided, expired unused,
    and the median hours from issue to first standing use. Counted by the database in two queries."""
    start, end = day_bounds(day_from, day_to, merchant.tz)
    now = timezone.now()
    voided = Q(state=Voucher.State.VOIDED)
    vouchers = Voucher.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end).annotate(
        used=Exists(Redemption.objects.filter(voucher=OuterRef("pk"), reversed_at=None))
    )
    figures = {
        row.pop("product_id"): row
        for row in vouchers.values("product_id").annotate(
            issued=Count("id"),
            voided=Count("id", filter=voided),
            redeemed=Count("id", filter=Q(used=True) & ~voided),
            expired_unused=Count("id", filter=Q(used=False) & ~voided & Q(valid_until__lt=now)),
        )
    }
    for product_id, median in _median_hours_to_redeem(merchant, start, end).items():
        figures[product_id]["median_hours"] = median
    return figures


_MEDIAN_HOURS_SQL = """
    SELECT f.product_id, percentile_cont(0.5) WITHIN GROUP (ORDER BY f.hours)
    FROM (SELECT v.product_id, EXTRACT(EPOCH FROM MIN(r.at) - v.created_at) / 3600 AS hours
          FROM redemption_voucher v
          JOIN redemption_redemption r ON r.voucher_id = v.id AND r.reversed_at IS NULL
          WHERE v.merchant_id = %s AND v.created_at >= %s AND v.created_at < %s AND v.state <> 'voided'
          GROUP BY v.id, v.product_id, v.created_at) f
    GROUP BY f.product_id
"""


def _median_hours_to_redeem(merchant, start, end):
    if connection.vendor == "postgresql":
        # The median in the database: a year of a busy shop is too many rows to bring into Python.
        with connection.cursor() as cursor:
            cursor.execute(_MEDIAN_HOURS_SQL, [merchant.pk, start, end])
            return {product_id: float(median) for product_id, median in cursor.fetchall()}
    hours = {}
    firsts = (
        Redemption.objects.filter(voucher__merchant=merchant, voucher__created_at__gte=start,
                                  voucher__created_at__lt=end, reversed_at=None)
        .exclude(voucher__state=Voucher.State.VOIDED)
        .values("voucher_id", "voucher__product_id", "voucher__created_at").annotate(first=Min("at"))
    )
    for row in firsts:
        hours.setdefault(row["voucher__product_id"], []).append(
            (row["first"] - row["voucher__created_at"]).total_seconds() / 3600
        )
    return {product_id: statistics.median(values) for product_id, values in hours.items()}
