"""The JSON shapes of the contract, as plain functions: they serve the API, the live feed and
webhooks alike, and cost far less than serializer classes on the redeem path. The OpenAPI schema
describes the same shapes (redemption.api.schema), and a test holds every answer to it."""

import math
from decimal import Decimal

from django.utils.translation import gettext, gettext_lazy as _, ngettext

from redemption import codes
from redemption.models import Channel
from redemption.reasons import REASONS
from staff.present import staff_ref, store_ref

__all__ = [
    "when", "store_ref", "staff_ref", "voucher_data", "redemption_data", "issued_voucher_data", "product_data",
    "webhook_data", "order_data", "snapshot_data", "snapshot_compact_data", "conflict_data", "device_data",
    "order_row_data", "statement_data", "history_event_data", "ORDER_STATUS_LABELS", "EVENT_TITLES", "event_details",
    "local_text",
]


def when(dt, tz):
    return dt.astimezone(tz).isoformat() if dt else None


def voucher_data(voucher, tz, now=None):
    product = voucher.product
    return {
        "id": voucher.id,
        "code_masked": codes.mask(voucher.code),
        "product": {"id": product.id, "name": product.name},
        "uses_total": voucher.uses_total,
        "uses_left": voucher.uses_left,
        "valid_from": when(voucher.valid_from, tz),
        "valid_until": when(voucher.valid_until, tz),
        "status": voucher.status(now),
        "order_no_masked": codes.mask_order(voucher.order_no),
        "buyer_phone_masked": codes.mask_phone(voucher.buyer_phone),
    }


def order_data(vouchers, tz, now=None):
    """A voucher's order of several (as check lists it): each voucher, and `result`, what one use
    of it here and now would answer ("redeemable" or the refusal's reason)."""
    first = vouchers[0]
    return {
        "order_no_masked": codes.mask_order(first.order_no),
        "channel": first.channel,
        "vouchers": [
            {
                "id": voucher.id,
                "code_masked": codes.mask(voucher.code),
                "product": {"id": voucher.product.id, "name": voucher.product.name},
                "uses_left": voucher.uses_left,
                "status": voucher.status(now),
                "result": voucher.broken or "redeemable",
            }
            for voucher in vouchers
        ],
    }


def redemption_data(redemption, tz):
    return {
        "id": redemption.id,
        "at": when(redemption.at, tz),
        "uses": redemption.uses,
        "store": store_ref(redemption.store),
        "staff": staff_ref(redemption.staff),
        "code_masked": codes.mask(redemption.voucher.code),
        "reversed": redemption.reversed_at is not None,
        "reversed_at": when(redemption.reversed_at, tz),
        "offline": redemption.offline,
        "scanned_at": when(redemption.scanned_at, tz),
    }


def issued_voucher_data(voucher, tz, absolute):
    """A voucher as issued to the owner, whole code and links included; `absolute(path)` makes a URL."""
    return {
        "id": voucher.id,
        "code": voucher.code,
        "code_display": codes.group(voucher.code),
        "voucher_url": absolute(f"/v/{voucher.token}/"),
        "qr_url": absolute(f"/api/v1/vouchers/{voucher.id}/qr.svg"),
        "valid_from": when(voucher.valid_from, tz),
        "valid_until": when(voucher.valid_until, tz),
        "uses_left": voucher.uses_left,
        "status": voucher.status(),
    }


def product_data(product, tz):
    return {
        "id": product.id,
        "name": product.name,
        "face_value": str(product.face_value.quantize(Decimal("0.01"))),
        "uses_per_voucher": product.uses_per_voucher,
        "valid_from": when(product.valid_from, tz),
        "valid_until": when(product.valid_until, tz),
        "valid_days": product.valid_days,
        "stores": sorted(store.id for store in product.stores.all()),
        "require_live_qr": product.require_live_qr,
        "instructions": product.instructions,
        "max_uses_per_day": product.max_uses_per_day,
        "min_minutes_between_uses": product.min_minutes_between_uses,
        "redeemable_hours": product.redeemable_hours,
    }


def webhook_data(hook, tz):
    return {
        "id": hook.id,
        "url": hook.url,
        "events": hook.events,
        "secret": hook.secret,
        "is_active": hook.is_active,
        "created_at": when(hook.created_at, tz),
    }


def money(value):
    return str(Decimal(value).quantize(Decimal("0.01")))


def snapshot_data(snapshot, key, kdf, vouchers, tz, now=None):
    """What a device decides with offline: never a whole code, only a name for each made with `kdf`
    and `key` (redemption.services.offline.code_hash)."""
    return {
        **_snapshot_head(snapshot, key, kdf, tz),
        "vouchers": [
            {
                "h": voucher.h,
                "t": voucher.t,
                "uses_left": voucher.uses_left,
                "valid_from": when(voucher.valid_from, tz),
                "valid_until": when(voucher.valid_until, tz),
                "product": _snapshot_product(voucher.product),
                "status": voucher.status(now),
            }
            for voucher in vouchers
        ],
    }


# The compact list (the scanner's) carries less of each name, as the names cost the wire the most:
# they are random, so no compression shortens them. What a shorter name risks is only a wrong code
# (or buyer-page link) taken offline for a listed one: with 20,000 names of 56 bits, one chance in
# 3.6 * 10^12 per scan of a code not in the list (and of two listed codes sharing a name, one in
# 3.6 * 10^8 per list); with token names of 40 bits, one in 5.5 * 10^7 per scan of a made-up buyer
# link, which takes forging a URL at the counter. Such a scan is still judged by the server with
# the whole code on upload, within the caps. It does not help a guesser holding a copy of the list:
# each guess still costs the slow digest, and shorter names only give more false matches, which
# cannot be told from true ones offline.
COMPACT_NAME_HEX = 14
COMPACT_TOKEN_HEX = 10


def snapshot_compact_data(snapshot, key, kdf, vouchers, tz, now=None):
    """The same snapshot as the scanner fetches it, small enough for thousands of vouchers: each
    product once in `products`, each status once in `statuses`, and each voucher as an array
    [h, t, uses_left, valid_from, valid_until, product, status] with its names shortened to `names`
    hex digits, its validity in seconds since the epoch (or null), its product and status as indexes."""
    products, statuses, rows = {}, {}, []
    for voucher in vouchers:
        product = products.setdefault(voucher.product.pk, (len(products), voucher.product))[0]
        status = statuses.setdefault(voucher.status(now), len(statuses))
        rows.append([voucher.h[:COMPACT_NAME_HEX], voucher.t[:COMPACT_TOKEN_HEX], voucher.uses_left,
                     _epoch(voucher.valid_from, up=True), _epoch(voucher.valid_until), product, status])
    return {
        "format": "compact",
        **_snapshot_head(snapshot, key, kdf, tz),
        "names": {"h": COMPACT_NAME_HEX, "t": COMPACT_TOKEN_HEX},
        "products": [_snapshot_product(product) for _, product in products.values()],
        "statuses": list(statuses),
        "vouchers": rows,
    }


def _snapshot_head(snapshot, key, kdf, tz):
    return {
        "store": store_ref(snapshot.store),
        "issued_at": when(snapshot.issued_at, tz),
        "expires_at": when(snapshot.expires_at, tz),
        "caps": {"max_redemptions": snapshot.max_redemptions, "max_value": money(snapshot.max_value)},
        "key": key,
        "kdf": kdf,
    }


def _snapshot_product(product):
    return {"id": product.id, "name": product.name, "face_value": money(product.face_value),
            "uses_per_voucher": product.uses_per_voucher}


def _epoch(moment, up=False):
    """Whole seconds, rounded towards the inside of the validity: never a moment more of it."""
    if moment is None:
        return None
    return math.ceil(moment.timestamp()) if up else math.floor(moment.timestamp())


def conflict_data(conflict, tz):
    return {
        "id": conflict.id,
        "result": conflict.result,
        "store": store_ref(conflict.store),
        "staff": staff_ref(conflict.staff),
        "device": conflict.device[:8],
        "code_masked": conflict.code_masked,
        "product": {"id": conflict.voucher.product.id, "name": conflict.voucher.product.name} if conflict.voucher else None,
        "uses": conflict.uses,
        "scanned_at": when(conflict.scanned_at, tz),
        "uploaded_at": when(conflict.uploaded_at, tz),
        "settled_at": when(conflict.settled_at, tz),
        "settled_by": staff_ref(conflict.settled_by) if conflict.settled_by else None,
        "settle_note": conflict.settle_note,
    }


def device_data(snapshot, tz):
    """A device out there: the snapshot it holds, what it has brought back, what it may still take."""
    return {
        "device": snapshot.device[:8],
        "store": store_ref(snapshot.store),
        "staff": staff_ref(snapshot.staff),
        "snapshot_issued_at": when(snapshot.issued_at, tz),
        "snapshot_expires_at": when(snapshot.expires_at, tz),
        "live": snapshot.live,
        "last_upload_at": when(snapshot.last_upload_at, tz),
        "pending": snapshot.pending,
        "uploaded": snapshot.taken,
        "uploaded_value": money(snapshot.taken_value),
        "may_still_take": max(0, snapshot.max_redemptions - snapshot.taken) if snapshot.live else 0,
        "may_still_take_value": money(max(Decimal(0), snapshot.max_value - Decimal(snapshot.taken_value)))
        if snapshot.live else "0.00",
    }
def order_row_data(row, tz):
    """An order as selectors.order_list gives it, times in the merchant's zone."""
    data = {name: value for name, value in row.items() if name not in ("first_at", "last_at")}
    return {**data, "first_redeemed_at": when(row["first_at"], tz), "last_redeemed_at": when(row["last_at"], tz)}


def statement_data(row):
    return {**row, "day": row["day"].isoformat()}


def history_event_data(at, type_, facts, tz):
    """One event of a voucher's history (selectors.voucher_history): names of staff and stores,
    codes masked."""
    data = {"at": when(at, tz), "type": type_}
    for name, value in facts.items():
        if name in ("store", "staff"):
            data[name] = value and (store_ref(value) if name == "store" else staff_ref(value))
        elif name == "redemption":
            data["redemption"] = value.id
        elif name == "replaces":
            data["replaces_code_masked"] = codes.mask(value.code) if value else None
        elif name == "last_at":
            data["last_at"] = when(value, tz)
        else:
            data[name] = value
    return data


ORDER_STATUS_LABELS = {
    "unused": _("Unused"), "partly": _("Partly redeemed"), "redeemed": _("Redeemed"), "voided": _("Voided"),
}

# What each kind of event is called on the printed history.
EVENT_TITLES = {
    "issued": _("Issued"), "viewed": _("Buyer opened the voucher page"), "checked": _("Checked at the counter"),
    "refused": _("Refused at the counter"), "redeemed": _("Redeemed"), "reversed": _("Redemption reversed"),
    "voided": _("Voided"), "frozen": _("Frozen"), "unfrozen": _("Unfrozen"), "reissued": _("Reissued"),
    "revealed": _("Code and password shown to the owner"),
}


def event_details(event, *, mask_order=False):
    """The words after an event's title: who, where, and what came with it."""
    parts = []
    if event.get("channel"):
        order = codes.mask_order(event["order_no"]) if mask_order else event["order_no"]
        parts.append(gettext("%(channel)s order %(order)s") % {"channel": Channel(event["channel"]).label, "order": order})
    if event.get("replaces_code_masked"):
        parts.append(gettext("reissued for %(code)s") % {"code": event["replaces_code_masked"]})
    if event["type"] == "viewed":
        parts.append(ngettext("opened %(n)d time, last at %(at)s", "opened %(n)d times, last at %(at)s", event["count"])
                     % {"n": event["count"], "at": local_text(event["last_at"])})
    if event["type"] == "refused":
        reason = REASONS.get(event["reason"])
        parts.append(str(reason.title) if reason else event["reason"])
    if event.get("uses"):
        parts.append(ngettext("%(n)d use", "%(n)d uses", event["uses"]) % {"n": event["uses"]})
    if event.get("store"):
        parts.append(event["store"]["name"])
    if "staff" in event:
        parts.append(event["staff"]["display_name"] if event["staff"] else gettext("platform operator"))
    if event.get("new_code_masked"):
        parts.append(gettext("new code %(code)s") % {"code": event["new_code_masked"]})
    if event["type"] in ("voided", "reversed") and event.get("reason"):
        parts.append(gettext("reason: %(reason)s") % {"reason": event["reason"]})
    return " · ".join(parts)


def local_text(iso):
    """An ISO 8601 time as the merchant reads it: 2026-06-01 14:05:09."""
    return iso[:19].replace("T", " ") if iso else ""
