"""Finding a voucher without its code, for owners and managers."""

from django.db.models import Q
from django.utils import timezone

from redemption import codes, events, hotpath
from redemption.models import Attempt, Product, Voucher
from redemption.reasons import Refusal
from redemption.services.redeem import throttle_if_guessing
from staff.models import Membership, Role

MAX_LOOKUP = 20


def voucher_lookup(*, member: Membership, order_no="", phone="") -> list[Voucher]:
    """Find vouchers without their code (the buyer's phone is dead): by the exact order number or
    the whole phone number; owners and managers only, a manager within their stores. At most
    MAX_LOOKUP, newest order first. Each lookup is kept as an attempt and reaches the live feed,
    and lookups that find nothing count towards the lock-out as unknown codes do."""
    left = member.throttled_for()
    if left:
        raise Refusal("throttled", retry_after=left)
    vouchers = Voucher.objects.filter(merchant_id=member.merchant_id).select_related("product")
    if order_no:
        vouchers, masked = vouchers.filter(order_no=order_no), codes.mask_order(order_no)
    else:
        vouchers, masked = vouchers.filter(buyer_phone__in=codes.phone_forms(phone)), codes.mask_phone(phone)
    if member.role == Role.MANAGER:
        in_their_stores = Product.objects.filter(
            Q(stores=None) | Q(stores__in=member.store_ids()), merchant_id=member.merchant_id
        )
        vouchers = vouchers.filter(product__in=in_their_stores)
    found = list(vouchers.order_by("-created_at", "order_no", "line", "id")[:MAX_LOOKUP])
    result = "found" if found else "not_found"
    now = timezone.now()
    hotpath.record_attempt(
        merchant_id=member.merchant_id, staff_id=member.pk, store_id=None, voucher_id=found[0].pk if found else None,
        kind=Attempt.Kind.LOOKUP, input_masked=masked[:40], result=result, at=now,
    )
    events.emit(member.merchant, "attempt.lookup", staff=member, query_masked=masked,
                by="order_no" if order_no else "phone", found=len(found))
    if not found:
        throttle_if_guessing(member)
    return found
