"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt
from decimal import ROUND_HALF_UP, Decimal

from django.db.models import BooleanField, Count, ExpressionWrapper, Max, Min, OuterRef, Q, Subquery, Sum
from django.utils import timezone

from redemption.models import Attempt, Redemption, Voucher

VOUCHER_STATUSES = ("active", "redeemed", "expired", "voided", "frozen")


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
    now = timezone.now()
    if status == "voided" or status == "frozen":
        qs = qs.filter(state=status)
    elif status == "redeemed":
        qs = qs.filter(state=Voucher.State.ACTIVE, uses_left=0)
    elif status == "expired":
        qs = qs.filter(state=Voucher.State.ACTIVE, uses_left__gt=0, valid_until__lt=now)
    elif status == "active":
        qs = qs.filter(state=Voucher.State.ACTIVE, uses_left__gt=0).filter(
            Q(valid_until__isnull=True) | Q(valid_until__gte=now)
        )
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
    """Per product, over the vouchers issued in the range: issued, redeemed, rate, voided,
    expired unused, and the median hours from issue to first standing use."""
    start, end = day_bounds(day_from, day_to, merchant.tz)
    now = timezone.now()
    vouchers = Voucher.objects.filter(merchant=merchant, created_at__gte=start, created_at__lt=end)
    first_use = (
        Redemption.objects.filter(voucher=OuterRef("pk"), reversed_at=None).order_by("at").values("at")[:1]
    )
    figures = {}
    for v in vouchers.annotate(first_use=Subquery(first_use)).values(
        "product_id", "state", "uses_left", "valid_until", "created_at", "first_use"
    ):
        f = figures.setdefault(v["product_id"], {"issued": 0, "redeemed": 0, "voided": 0, "expired_unused": 0, "hours": []})
        f["issued"] += 1
        if v["state"] == Voucher.State.VOIDED:
            f["voided"] += 1
        elif v["first_use"] is not None:
            f["redeemed"] += 1
            f["hours"].append((v["first_use"] - v["created_at"]).total_seconds() / 3600)
        elif v["valid_until"] and v["valid_until"] < now:
            f["expired_unused"] += 1
    return figures
