"""What an owner does to one voucher after issuing it: void, freeze, reissue; and what the
buyer page notes when it is opened."""

from django.db import transaction
from django.db.models import F, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from redemption import codes, events, hotpath
from redemption.models import Voucher, VoucherLog
from redemption.reasons import Refusal
from redemption.services.issue import unused_code
from staff.models import Membership


def _lock_voucher(member, voucher_id):
    voucher = (
        Voucher.objects.select_for_update(of=("self",)).select_related("product")
        .filter(merchant_id=member.merchant_id, pk=voucher_id).first()
    )
    if voucher is None:
        raise Refusal("not_found")
    return voucher


@transaction.atomic
def voucher_void(*, member: Membership, voucher_id, reason="") -> Voucher:
    """Void a voucher, as on a refund: it stops working at once; what was redeemed stays on record."""
    voucher = _lock_voucher(member, voucher_id)
    if voucher.state == Voucher.State.VOIDED:
        raise Refusal("voided", voucher, voided_at=voucher.voided_at)
    voucher.state, voucher.voided_at, voucher.void_reason = Voucher.State.VOIDED, timezone.now(), reason[:200]
    voucher.save(update_fields=["state", "voided_at", "void_reason"])
    hotpath.recount_orders(voucher.merchant_id, [(voucher.channel, voucher.order_no)])
    log_action(member, voucher, VoucherLog.Action.VOIDED, voucher.void_reason, at=voucher.voided_at)
    events.emit(member.merchant, "voucher.voided", voucher=voucher, reason=voucher.void_reason)
    return voucher


@transaction.atomic
def voucher_freeze(*, member: Membership, voucher_id, frozen=True) -> Voucher:
    """Freeze a voucher reported stolen (or thaw it again); a voided one stays voided."""
    voucher = _lock_voucher(member, voucher_id)
    if voucher.state == Voucher.State.VOIDED:
        raise Refusal("voided", voucher, voided_at=voucher.voided_at)
    voucher.state = Voucher.State.FROZEN if frozen else Voucher.State.ACTIVE
    voucher.save(update_fields=["state"])
    log_action(member, voucher, VoucherLog.Action.FROZEN if frozen else VoucherLog.Action.UNFROZEN)
    return voucher


@transaction.atomic
def voucher_reissue(*, member: Membership, voucher_id, reason="") -> tuple[Voucher, Voucher]:
    """补发: void this voucher and issue a fresh code for the same order with the uses it had left."""
    # Looked at before the void: a used-up voucher is refused as it stands, not as the void left it.
    current = _lock_voucher(member, voucher_id)
    if current.state != Voucher.State.VOIDED and current.uses_left <= 0:
        raise Refusal("already_redeemed", current)
    old = voucher_void(member=member, voucher_id=voucher_id, reason=reason or "reissued")
    last_line = Voucher.objects.filter(merchant_id=old.merchant_id, channel=old.channel, order_no=old.order_no)
    new = Voucher.objects.create(
        merchant_id=old.merchant_id, product=old.product, code=unused_code(old.merchant_id),
        channel=old.channel, order_no=old.order_no, line=max(v.line for v in last_line) + 1,
        buyer_phone=old.buyer_phone, uses_total=old.uses_left, uses_left=old.uses_left,
        valid_from=old.valid_from, valid_until=old.valid_until, replaces=old,
    )
    hotpath.recount_orders(old.merchant_id, [(old.channel, old.order_no)])
    log_action(member, old, VoucherLog.Action.REISSUED, codes.mask(new.code))
    return old, new


def log_action(member, voucher, action, note="", *, at=None):
    # The platform operator acting through the admin has no membership here: the row says nobody
    # rather than putting the act on the owner's name.
    VoucherLog.objects.create(
        merchant_id=voucher.merchant_id, voucher=voucher, staff=member if member.pk else None,
        action=action, note=note[:200], at=at or timezone.now(),
    )


def voucher_viewed(voucher_id, at=None):
    """The buyer page was opened: one UPDATE of the voucher row, however often it is opened."""
    at = at or timezone.now()
    Voucher.objects.filter(pk=voucher_id).update(
        view_count=F("view_count") + 1, last_viewed_at=at, first_viewed_at=Coalesce("first_viewed_at", Value(at)),
    )
