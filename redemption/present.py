"""The JSON shapes of the contract, as plain functions: they serve the API, the live feed and
webhooks alike, and cost far less than serializer classes on the redeem path. The OpenAPI schema
describes the same shapes (redemption.api.schema), and a test holds every answer to it."""

from decimal import Decimal

from redemption import codes
from staff.present import staff_ref, store_ref

__all__ = [
    "when", "store_ref", "staff_ref", "voucher_data", "redemption_data", "issued_voucher_data", "product_data",
    "webhook_data", "order_data", "snapshot_data", "conflict_data", "device_data",
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


def snapshot_data(snapshot, key, vouchers, tz, now=None):
    """What a device decides with offline: never a whole code, only each code's HMAC under `key`."""
    return {
        "store": store_ref(snapshot.store),
        "issued_at": when(snapshot.issued_at, tz),
        "expires_at": when(snapshot.expires_at, tz),
        "caps": {"max_redemptions": snapshot.max_redemptions, "max_value": money(snapshot.max_value)},
        "key": key,
        "vouchers": [
            {
                "h": voucher.h,
                "t": voucher.t,
                "uses_left": voucher.uses_left,
                "valid_from": when(voucher.valid_from, tz),
                "valid_until": when(voucher.valid_until, tz),
                "product": {
                    "id": voucher.product.id, "name": voucher.product.name,
                    "face_value": money(voucher.product.face_value), "uses_per_voucher": voucher.product.uses_per_voucher,
                },
                "status": voucher.status(now),
            }
            for voucher in vouchers
        ],
    }


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
