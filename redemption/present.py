"""The JSON shapes of the contract, as plain functions: they serve the API, the live feed and
webhooks alike, and cost far less than serializer classes on the redeem path. The OpenAPI schema
describes the same shapes (redemption.api.schema), and a test holds every answer to it."""

from redemption import codes
from staff.present import staff_ref, store_ref

__all__ = ["when", "store_ref", "staff_ref", "voucher_data", "redemption_data"]


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
    }
