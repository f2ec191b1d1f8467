"""The daily totals and first uses as they ought to be: recounted from the redemptions themselves,
the way the stats were added up before there were totals."""

from decimal import Decimal

from redemption.models import DailyTotal, OrderTotal, Redemption, Voucher

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


def recounted_orders():
    """{(merchant, channel, order number): figures} from every voucher and standing redemption; a
    voucher replaced by a reissue counts only for the uses it gave."""
    orders = {}
    replaced = set(Voucher.objects.exclude(replaces=None).values_list("replaces_id", flat=True))
    for v in Voucher.objects.select_related("product"):
        o = orders.setdefault((v.merchant_id, v.channel, v.order_no), {
            "vouchers": 0, "uses_total": 0, "uses_used": 0, "voided": 0, "open": 0,
            "face_value_total": Decimal(0), "redeemed_value": Decimal(0), "first_at": None, "last_at": None})
        gone = v.pk in replaced
        o["vouchers"] += 0 if gone else 1
        o["uses_total"] += v.uses_total - (v.uses_left if gone else 0)
        o["uses_used"] += v.uses_total - v.uses_left
        o["voided"] += int(not gone and v.state == Voucher.State.VOIDED)
        o["open"] += int(not gone and v.state != Voucher.State.VOIDED and v.uses_left > 0)
        o["face_value_total"] += 0 if gone else v.product.face_value
    for r in Redemption.objects.filter(reversed_at=None).select_related("voucher"):
        o = orders[(r.voucher.merchant_id, r.voucher.channel, r.voucher.order_no)]
        o["redeemed_value"] += r.value
        o["first_at"], o["last_at"] = _earlier(o["first_at"], r.at), _later(o["last_at"], r.at)
    return orders


def stored_orders():
    names = ("vouchers", "uses_total", "uses_used", "voided", "open", "face_value_total", "redeemed_value",
             "first_at", "last_at")
    return {(t.merchant_id, t.channel, t.order_no): {n: getattr(t, n) for n in names} for t in OrderTotal.objects.all()}


def assert_totals_add_up():
    assert stored_totals() == recounted_totals()
    assert stored_first_uses() == recounted_first_uses()
    assert stored_orders() == recounted_orders()
