"""Retention: what `manage.py prune` deletes or erases once it is old enough.

Each kind is worked through in short transactions of at most BATCH rows, committed one by one, so
the counter never waits on more than one batch: attempts and events are rows it only inserts,
and a voucher batch holds ended vouchers, which a redeem only reads to refuse. Each function
returns how many rows it changed (or, with dry_run, would change) and changes nothing on dry_run.
"""

from collections import Counter
from zoneinfo import ZoneInfo

from django.db import transaction
from django.db.models import F, Q

from redemption.models import PASSED, PRUNE_KEEPS, Attempt, Delivery, Event, RefusalTotal, Voucher
from staff.models import Merchant

BATCH = 5000
# Smaller for vouchers: their rows are the ones a redeem locks.
VOUCHER_BATCH = 1000


def attempts_prune(cutoff, *, dry_run=False):
    """Delete the refusals, checks and lookups made before `cutoff` (a redeem's own attempt stays,
    beside its redemption), oldest first along index attempt_prunable. The refusals among them are
    first added to the per-day refusal totals in the same transaction, so stats count them still."""
    zones = dict(Merchant.objects.values_list("id", "time_zone"))
    columns = ("id", "at", "merchant_id", "store_id", "staff_id", "result")
    done, last = 0, (None, 0)
    while True:
        old = Attempt.objects.filter(at__lt=cutoff).exclude(result=PRUNE_KEEPS)
        if last[0]:
            # After the rows already read (deleted ones still cost a look in the index until vacuum).
            old = old.filter(at__gte=last[0]).exclude(at=last[0], id__lte=last[1])
        rows = list(old.order_by("at", "id").values_list(*columns)[:BATCH])
        if not rows:
            return done
        if not dry_run:
            with transaction.atomic():
                _fold_refusals(rows, zones)
                Attempt.objects.filter(id__in=[row[0] for row in rows]).delete()
        done += len(rows)
        last = (rows[-1][1], rows[-1][0])


def _fold_refusals(rows, zones):
    """Add the refusals among attempt rows (id, at, merchant, store, staff, result) to RefusalTotal,
    by the merchant-local day the stats read them under."""
    counts = Counter(
        (merchant, at.astimezone(ZoneInfo(zones[merchant])).date(), store, staff)
        for _id, at, merchant, store, staff, result in rows if result not in PASSED
    )
    for (merchant, day, store, staff), n in counts.items():
        key = {"merchant_id": merchant, "day": day, "store_id": store, "staff_id": staff}
        if not RefusalTotal.objects.filter(**key).update(refused=F("refused") + n):
            RefusalTotal.objects.create(**key, refused=n)


def events_prune(cutoff, *, dry_run=False):
    """Delete the events recorded before `cutoff` whose webhook deliveries are all done (delivered,
    or given up after a day of retries), with those deliveries. An event the webhook worker has not
    yet fanned out may still owe deliveries: it stays. Walks the table by id, and stops at the
    first batch with nothing old in it: ids follow the time of recording."""
    done, last = 0, 0
    while True:
        rows = list(Event.objects.filter(id__gt=last).order_by("id").values_list("id", "at", "fanned_out")[:BATCH])
        old = [id_ for id_, at, fanned_out in rows if at < cutoff and fanned_out]
        if not any(at < cutoff for _id, at, _f in rows):
            return done
        owing = old and set(Delivery.objects.filter(event_id__in=old, delivered_at=None, failed_at=None)
                    .values_list("event_id", flat=True))
        old = [id_ for id_ in old if id_ not in owing]
        if old and not dry_run:
            with transaction.atomic():
                Event.objects.filter(id__in=old).delete()
        done += len(old)
        last = rows[-1][0]


def ended_before(cutoff):
    """Vouchers that ended before `cutoff`: voided, used up (at their last use) or expired."""
    return (Q(state=Voucher.State.VOIDED, voided_at__lt=cutoff) | Q(uses_left=0, last_used_at__lt=cutoff)
            | Q(valid_until__lt=cutoff))


def buyer_phones_erase(cutoff, *, dry_run=False):
    """Erase the buyer's phone of the vouchers that ended before `cutoff`. The UPDATE repeats the
    condition, so a voucher given a use back by a reversal meanwhile keeps its phone."""
    done, last = 0, 0
    while True:
        ended = Voucher.objects.filter(ended_before(cutoff), id__gt=last).exclude(buyer_phone="")
        ids = list(ended.order_by("id").values_list("id", flat=True)[:VOUCHER_BATCH])
        if not ids:
            return done
        if dry_run:
            done += len(ids)
        else:
            done += Voucher.objects.filter(ended_before(cutoff), id__in=ids).update(buyer_phone="")
        last = ids[-1]
