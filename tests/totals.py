"""The daily totals and first uses as they ought to be: recounted from the redemptions themselves,
the way the stats were added up before there were totals."""

from decimal import Decimal

from redemption.models import DailyTotal, Redemption, Voucher

FIGURES = ("redemptions", "uses", "value", "reversed", "reversed_uses", "reversed_value", "first_at", "last_at")


def _earlier(a, b):
    return b if a is None else min(a, b)


def _later(a, b):
    return b if a is None else max(a, b)


def recounted_totals():
    """{(merchant, local day, store, staff, channel): figures} from every redemption."""
    totals = {}
    for r in Redemption.objects.select_related("voucher", "merchant"):
        key = (r.merchant_id, r.at.astimezone(r.merchant.tz).date(), r.store_id, r.staff_id, r.voucher.channel)
        total = totals.setdefault(key, dict.fromkeys(FIGURES, 0) | {"first_at": None, "last_at": None})
        total["redemptions"] += 1
        total["uses"] += r.uses
        total["value"] += r.value
        if r.reversed_at is not None:
            total["reversed"] += 1
            total["reversed_uses"] += r.uses
            total["reversed_value"] += r.value
        else:
            total["first_at"], total["last_at"] = _earlier(total["first_at"], r.at), _later(total["last_at"], r.at)
    for total in totals.values():
        total["value"], total["reversed_value"] = Decimal(total["value"]), Decimal(total["reversed_value"])
    return totals


def stored_totals():
    return {
        (t.merchant_id, t.day, t.store_id, t.staff_id, t.channel): {name: getattr(t, name) for name in FIGURES}
        for t in DailyTotal.objects.all()
    }


def recounted_first_uses():
    """{voucher id: its earliest standing redemption's time, or None}."""
    first = dict.fromkeys(Voucher.objects.values_list("pk", flat=True))
    for voucher_id, at in Redemption.objects.filter(reversed_at=None).values_list("voucher_id", "at"):
        first[voucher_id] = _earlier(first[voucher_id], at)
    return first


def stored_first_uses():
    return dict(Voucher.objects.values_list("pk", "first_used_at"))


def assert_totals_add_up():
    assert stored_totals() == recounted_totals()
    assert stored_first_uses() == recounted_first_uses()
