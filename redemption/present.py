"""The JSON shapes of the contract, as plain functions: they serve the API, the live feed and
webhooks alike, and cost far less than serializer classes on the redeem path."""

from redemption import codes


def when(dt, tz):
    return dt.astimezone(tz).isoformat() if dt else None


def store_data(store):
    return {"id": store.id, "name": store.name}


def staff_data(member):
    return {"id": member.id, "display_name": member.display_name}


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
        "store": store_data(redemption.store),
        "staff": staff_data(redemption.staff),
        "code_masked": codes.mask(redemption.voucher.code),
        "reversed": redemption.reversed_at is not None,
        "reversed_at": when(redemption.reversed_at, tz),
    }
