"""Undoing a redemption (撤销核销)."""

import datetime as dt

from django.conf import settings
from django.db import transaction
from django.db.models import Case, F, Subquery, When
from django.utils import timezone

from redemption import events, hotpath
from redemption.models import DailyTotal, Redemption, Voucher
from redemption.reasons import Refusal
from staff.models import Membership, Role


def redemption_reverse(*, member: Membership, redemption_id, reason="") -> Redemption:
    """Undo a redemption (撤销核销): the uses go back to the voucher, the record stays, marked reversed.

    Owners may reverse any time; managers in their stores within MANAGER_UNDO_WINDOW; clerks their
    own within CLERK_UNDO_WINDOW (settings, in seconds).
    """
    redemption = (
        Redemption.objects.select_related("voucher__product", "store", "staff")
        .filter(merchant_id=member.merchant_id, pk=redemption_id)
        .first()
    )
    if redemption is None:
        raise Refusal("not_found")
    now = timezone.now()
    age = now - redemption.at
    if member.role == Role.MANAGER:
        allowed = redemption.store_id in member.store_ids() and age <= dt.timedelta(seconds=settings.MANAGER_UNDO_WINDOW)
    elif member.role == Role.CLERK:
        allowed = redemption.staff_id == member.pk and age <= dt.timedelta(seconds=settings.CLERK_UNDO_WINDOW)
    else:
        allowed = member.is_owner
    if not allowed:
        raise Refusal("forbidden")
    with transaction.atomic():
        # The voucher first, as a redeem locks it: a redeem of it that committed meanwhile is seen
        # by the statements below (each reads afresh once the lock is ours), so its first use is not lost.
        list(Voucher.objects.select_for_update().filter(pk=redemption.voucher_id).values_list("pk"))
        # Compare-and-swap: of two reversals at once, only the one that flips reversed_at gives uses back.
        flipped = Redemption.objects.filter(pk=redemption.pk, reversed_at=None).update(
            reversed_at=now, reversed_by=member, reverse_reason=reason[:200]
        )
        if not flipped:
            raise Refusal("already_reversed")
        standing = Redemption.objects.filter(voucher_id=redemption.voucher_id, reversed_at=None)
        day = redemption.at.astimezone(member.merchant.tz).date()
        Voucher.objects.filter(pk=redemption.voucher_id).update(
            uses_left=F("uses_left") + redemption.uses,
            first_used_at=Subquery(standing.order_by("at").values("at")[:1]),
            # Reversed uses do not count towards the rules: not today's, nor as the last use.
            last_used_at=Subquery(standing.order_by("-at").values("at")[:1]),
            day_uses=Case(When(day_uses_on=day, then=F("day_uses") - redemption.uses), default=F("day_uses"),
                          output_field=Voucher._meta.get_field("day_uses")),
        )
        _take_off_daily_total(redemption, member.merchant.tz)
        hotpath.recount_orders(redemption.merchant_id, [(redemption.voucher.channel, redemption.voucher.order_no)])
        redemption.reversed_at, redemption.reversed_by, redemption.reverse_reason = now, member, reason[:200]
        redemption.voucher.uses_left += redemption.uses
        events.emit(
            member.merchant, "redemption.reversed", store=redemption.store,
            redemption=redemption, voucher=redemption.voucher,
        )
    return redemption


def _take_off_daily_total(redemption, tz):
    """Count a reversed redemption as reversed in the total of the day it was made, and find that
    total's first and last standing redemption again."""
    day = redemption.at.astimezone(tz).date()
    key = {"merchant_id": redemption.merchant_id, "day": day, "store_id": redemption.store_id,
           "staff_id": redemption.staff_id, "channel": redemption.voucher.channel}
    # Locked before it is read: a redeem adding to this total that commits meanwhile is then counted
    # in first_at / last_at below (an UPDATE that waited would read the redemptions as they were).
    if not list(DailyTotal.objects.select_for_update().filter(**key).values_list("pk")):
        return
    start, end = (dt.datetime.combine(d, dt.time.min, tzinfo=tz) for d in (day, day + dt.timedelta(days=1)))
    standing = Redemption.objects.filter(
        merchant_id=redemption.merchant_id, store_id=redemption.store_id, staff_id=redemption.staff_id,
        voucher__channel=key["channel"], at__gte=start, at__lt=end, reversed_at=None,
    )
    DailyTotal.objects.filter(**key).update(
        reversed=F("reversed") + 1, reversed_uses=F("reversed_uses") + redemption.uses,
        reversed_value=F("reversed_value") + redemption.value,
        first_at=Subquery(standing.order_by("at").values("at")[:1]),
        last_at=Subquery(standing.order_by("-at").values("at")[:1]),
    )
