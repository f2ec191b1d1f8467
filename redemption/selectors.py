"""Reads: lists and figures, always scoped to what the caller may see."""

import datetime as dt

from django.db.models import Q
from django.utils import timezone

from redemption.models import Redemption, Voucher

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
