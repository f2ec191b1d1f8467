"""Writes of the redemption domain. The redeem path is hot: every query here is counted in tests."""

import codecs
import csv
import datetime as dt
import functools
import io
import logging
import secrets
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, F, Max, Q, Subquery, Value, When
from django.db.models.functions import Coalesce
from django.utils import timezone
from django.utils.translation import gettext as _

from redemption import cipher, codes, events, hotpath
from redemption.reasons import GUESS_REASONS, Refusal
from redemption.models import (
    Attempt, Channel, DailyTotal, Product, Redemption, Voucher, VoucherLog, new_token, next_redeemable,
)
from staff.models import Membership, Role, Store

log = logging.getLogger(__name__)


@dataclass
class Outcome:
    result: str
    store: Store
    voucher: Voucher
    redemption: Redemption | None = None
    # A voucher of an order of several: every voucher of that order, by id (check only).
    order: list | None = None


@dataclass
class OrderOutcome:
    store: Store
    redemptions: list


def voucher_check(*, member: Membership, raw_code, store_id=None) -> Outcome:
    """Tell whether a code could be redeemed here and now, and list the other vouchers of its order.
    Changes nothing but the attempt log."""
    store = resolve_store(member, store_id)
    parsed = _parse(member, store, raw_code, Attempt.Kind.CHECK)
    now = timezone.now()
    voucher = _find(member, store, parsed, uses=1, now=now)
    order = None
    try:
        if voucher is None:
            raise _not_found(parsed)
        order = _order_of(member, store, parsed, voucher, now)
        _guard(voucher, member, now, order=order)
    except Refusal as refusal:
        _refused(member, store, parsed, Attempt.Kind.CHECK, refusal, voucher)
    _record(member, store, parsed, Attempt.Kind.CHECK, "redeemable", voucher)
    return Outcome("redeemable", store, voucher, order=order)


def _order_of(member, store, parsed, voucher, now):
    """The vouchers of the voucher's order, each with the first rule it breaks for one use here
    (`broken`), when the order holds more than this one; else None."""
    vouchers = hotpath.order_vouchers(voucher, store.pk, parsed, uses={}, now=now, tz=member.merchant.tz)
    return vouchers if len(vouchers) > 1 else None


def voucher_redeem(*, member: Membership, raw_code=None, voucher_id=None, uses=1, store_id=None,
                   idempotency_key=None) -> Outcome:
    """Redeem `uses` uses of a voucher at a store: the one the scanned code names, or (for an owner
    or manager who found it by its order or phone number) the one with `voucher_id`.

    Guarantee: however many requests for one voucher arrive at once, from any number of server
    processes, at most `uses_left` uses are ever granted, and the product's redemption rules
    (uses per day, minutes between uses, hours) hold as uses do. The voucher row is locked (SELECT
    ... FOR UPDATE) for the few statements between reading it and writing it back, the rules are
    evaluated on that locked row, and the write is conditional on the uses still being there; the
    database's CHECK (uses_left >= 0) is the last line. A repeat with the same idempotency key by
    the same member returns the first redemption.
    """
    store = resolve_store(member, store_id)
    if voucher_id is not None and member.role == Role.CLERK:
        raise Refusal("forbidden")
    if idempotency_key:
        first = _replay(member, idempotency_key)
        if first:
            return first
    if voucher_id is not None:
        parsed = codes.Parsed(voucher_id=voucher_id)
    else:
        parsed = _parse(member, store, raw_code, Attempt.Kind.REDEEM)
    return _exactly_once(member, store, parsed, idempotency_key, _replay,
                         lambda: _redeem_locked(member, store, parsed, uses, idempotency_key))


def _exactly_once(member, store, parsed, idempotency_key, replay, redeem):
    """Run redeem() in one transaction. Another request with the same key that won the race gives
    its answer (ours rolled back); a refusal is logged as an attempt and raised."""
    try:
        with transaction.atomic():
            return redeem()
    except IntegrityError:
        first = idempotency_key and replay(member, idempotency_key)
        if not first:
            raise
        return first
    except Refusal as refusal:
        _refused(member, store, parsed, Attempt.Kind.REDEEM, refusal, refusal.voucher)


def _redeem_locked(member, store, parsed, uses, idempotency_key):
    now = timezone.now()
    voucher = _find(member, store, parsed, uses=uses, now=now, lock=True)
    if voucher is None:
        raise Refusal("not_found") if parsed.voucher_id else _not_found(parsed)
    try:
        _guard(voucher, member, now, uses=uses)
    except Refusal as refusal:
        refusal.voucher = voucher
        raise
    redemption = _take(member, store, parsed, voucher, uses, now, idempotency_key)
    return Outcome("redeemed", store, voucher, redemption)


def _take(member, store, parsed, voucher, uses, now, idempotency_key, batch=None, scanned_at=None, device=""):
    """Write one redemption of a voucher locked and found redeemable: uses, day total, attempt, event."""
    # Conditional even under the lock: if anything ever reaches this row without the lock,
    # the WHERE clause still refuses to go below zero.
    if not hotpath.take_uses(voucher.pk, uses, now, member.merchant.tz):
        raise Refusal("already_redeemed", voucher)
    voucher.uses_left -= uses
    redemption = hotpath.create_redemption(
        merchant_id=member.merchant_id, voucher=voucher, store=store, staff=member,
        uses=uses, at=now, idempotency_key=idempotency_key or None, batch=batch, scanned_at=scanned_at, device=device,
    )
    _record(member, store, parsed, Attempt.Kind.REDEEM, "redeemed", voucher, at=now)
    events.emit(member.merchant, "redemption.created", store=store, redemption=redemption, voucher=voucher)
    return redemption


MAX_ORDER_VOUCHERS = 50


def order_redeem(*, member: Membership, raw_code, items, store_id=None, idempotency_key=None) -> OrderOutcome:
    """Redeem several vouchers of one order in one tap, all or none.

    `raw_code` is any voucher of the order: it proves the buyer holds the order, even when it is
    used up itself or not among `items` ({voucher id: uses}). Every voucher of the order is locked
    in id order, so two clerks redeeming overlapping parts of one order wait for each other and
    never deadlock; then each item is held to the redeem rules as a single redeem is. One refusal
    refuses all: the lowest id's reason is answered, with every refused id beside it.
    """
    store = resolve_store(member, store_id)
    if idempotency_key:
        first = _replay_order(member, idempotency_key)
        if first:
            return first
    parsed = _parse(member, store, raw_code, Attempt.Kind.REDEEM)
    return _exactly_once(member, store, parsed, idempotency_key, _replay_order,
                         lambda: _redeem_order_locked(member, store, parsed, items, idempotency_key))


def _redeem_order_locked(member, store, parsed, items, idempotency_key):
    now = timezone.now()
    scanned = _find(member, store, parsed, uses=1, now=now)
    if scanned is None:
        raise _not_found(parsed)
    vouchers = {v.pk: v for v in hotpath.order_vouchers(
        scanned, store.pk, parsed, uses=items, now=now, tz=member.merchant.tz, lock=True
    )}
    refused = [
        (pk, "not_found" if pk not in vouchers else vouchers[pk].broken)
        for pk in sorted(items)
        if pk not in vouchers or vouchers[pk].broken
    ]
    if refused:
        pk, reason = refused[0]
        listed = [{"id": pk, "result": reason} for pk, reason in refused]
        if pk not in vouchers:
            raise Refusal("not_found", scanned, refused=listed)
        try:
            _guard(vouchers[pk], member, now, uses=items[pk])
        except Refusal as refusal:
            refusal.voucher = vouchers[pk]
            refusal.facts["refused"] = listed
            raise
    redemptions, first = [], None
    for pk in sorted(items):
        redemption = _take(member, store, parsed, vouchers[pk], items[pk], now,
                           idempotency_key if first is None else None, batch=first)
        first = first or redemption
        redemptions.append(redemption)
    return OrderOutcome(store, redemptions)


def _replay_order(member, key):
    redemption_id = hotpath.idempotent_redemption_id(member.pk, key)
    if redemption_id is None:
        return None
    together = (
        Redemption.objects.select_related("voucher__product", "store", "staff")
        .filter(Q(pk=redemption_id) | Q(batch_id=redemption_id)).order_by("voucher_id")
    )
    together = list(together)
    return OrderOutcome(together[0].store, together)


def _replay(member, key):
    # Nearly every scan carries a key and nearly none is a repeat: look cheaply first.
    redemption_id = hotpath.idempotent_redemption_id(member.pk, key)
    if redemption_id is None:
        return None
    redemption = Redemption.objects.select_related("voucher__product", "store", "staff").get(pk=redemption_id)
    return Outcome("redeemed", redemption.store, redemption.voucher, redemption)


def resolve_store(member, store_id):
    """The store the member is working at: the one named, or their only one."""
    stores = hotpath.stores_for(member, store_id)
    if store_id is None and len(stores) != 1:
        raise Refusal("store_required")
    if not stores:
        raise Refusal("forbidden")
    return stores[0]


def _parse(member, store, raw_code, kind):
    left = member.throttled_for()
    if left:
        _record(member, store, None, kind, "throttled")
        raise Refusal("throttled", retry_after=left)
    try:
        return codes.parse(raw_code)
    except codes.InvalidCode:
        refusal = Refusal("invalid_code")
        _refused(member, store, None, kind, refusal, raw=raw_code)


def _find(member, store, parsed, *, uses, now, lock=False):
    """The voucher the input names, in the member's merchant only: a foreign code is unknown."""
    voucher = hotpath.find_voucher(
        member.merchant_id, store.pk, parsed, uses=uses, now=now, tz=member.merchant.tz, lock=lock
    )
    if voucher is not None and parsed.voucher_id is not None:
        if member.role == Role.MANAGER and voucher.broken == "wrong_store":
            return None  # found by lookup: a manager sees only what their stores accept
        # No code in hand: what the attempt log keeps is the voucher's own, masked.
        parsed.masked = codes.mask(voucher.code)
    return voucher


def _not_found(parsed):
    # A 16-digit entry whose check digit fails, and that matched no imported code, is a typo.
    if parsed.code and codes.looks_generated(parsed.code) and not codes.damm_valid(parsed.code):
        return Refusal("invalid_code")
    return Refusal("not_found")


def _guard(voucher, member, now, uses=1, order=None):
    """Raise the refusal for the first redeem rule the voucher breaks (hotpath.RULES), with the
    facts a clerk needs beside it (and the voucher's order, where it has one of several)."""
    reason = voucher.broken
    if reason is None:
        return
    tz = member.merchant.tz
    when_next = lambda: {"next_at": next_redeemable(voucher, now, tz, uses)}  # noqa: E731
    facts = {
        "voided": lambda: {"voided_at": voucher.voided_at},
        "already_redeemed": lambda: {"last_redemption": _last_redemption(voucher)},
        "not_yet_valid": lambda: {"valid_from": voucher.valid_from},
        "expired": lambda: {"valid_until": voucher.valid_until},
        "insufficient_uses": lambda: {"uses_left": voucher.uses_left},
        "outside_hours": when_next,
        "too_soon": when_next,
        "daily_limit": when_next,
    }.get(reason, dict)()
    if order:
        facts["order"] = order
    raise Refusal(reason, **facts)


def _last_redemption(voucher):
    return (
        Redemption.objects.select_related("store", "staff")
        .filter(voucher=voucher, reversed_at=None)
        .order_by("-at", "-id")
        .first()
    )


def _record(member, store, parsed, kind, result, voucher=None, *, at=None, raw=None):
    masked = parsed.masked if parsed else codes.mask(str(raw or "")[:40])
    hotpath.record_attempt(
        merchant_id=member.merchant_id, staff_id=member.pk, store_id=store.pk, voucher_id=voucher and voucher.pk,
        kind=kind, input_masked=masked[:40], result=result, at=at or timezone.now(),
    )


def _refused(member, store, parsed, kind, refusal, voucher=None, *, raw=None):
    """Log a refusal as an attempt, lock out a member who looks to be guessing, and re-raise."""
    refusal.voucher = voucher
    _record(member, store, parsed, kind, refusal.reason, voucher, raw=raw)
    if refusal.reason in GUESS_REASONS:
        _throttle_if_guessing(member)
    events.emit(
        member.merchant, "attempt.refused", store=store, reason=refusal.reason, staff=member,
        code_masked=parsed.masked if parsed else codes.mask(str(raw or "")[:40]),
    )
    raise refusal


def _throttle_if_guessing(member):
    now = timezone.now()
    window = dt.timedelta(seconds=settings.THROTTLE_WINDOW)
    recent = Attempt.objects.filter(staff=member, at__gt=now - window, result__in=GUESS_REASONS)
    if recent.count() >= settings.THROTTLE_LIMIT:
        member.throttled_until = now + window
        Membership.objects.filter(pk=member.pk).update(throttled_until=member.throttled_until)
        log.warning("staff %s locked out for %ss after repeated unknown codes", member.pk, settings.THROTTLE_WINDOW)


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
        _throttle_if_guessing(member)
    return found


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


def validity_for(product, issued_at, tz):
    """A voucher's validity: the product's window, cut short by `valid_days` counted from the day of issue."""
    valid_until = product.valid_until
    if product.valid_days:
        last_day = issued_at.astimezone(tz).date() + dt.timedelta(days=product.valid_days - 1)
        end = dt.datetime.combine(last_day, dt.time.max, tzinfo=tz)
        valid_until = min(valid_until, end) if valid_until else end
    return product.valid_from, valid_until


MAX_QUANTITY = 1000


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
    _log(member, voucher, VoucherLog.Action.VOIDED, voucher.void_reason, at=voucher.voided_at)
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
    _log(member, voucher, VoucherLog.Action.FROZEN if frozen else VoucherLog.Action.UNFROZEN)
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
        merchant_id=old.merchant_id, product=old.product, code=_unused_code(old.merchant_id),
        channel=old.channel, order_no=old.order_no, line=max(v.line for v in last_line) + 1,
        buyer_phone=old.buyer_phone, uses_total=old.uses_left, uses_left=old.uses_left,
        valid_from=old.valid_from, valid_until=old.valid_until, replaces=old,
    )
    hotpath.recount_orders(old.merchant_id, [(old.channel, old.order_no)])
    _log(member, old, VoucherLog.Action.REISSUED, codes.mask(new.code))
    return old, new


def _unused_code(merchant_id):
    while True:
        code = codes.generate()
        if not Voucher.objects.filter(merchant_id=merchant_id, code=code).exists():
            return code


def voucher_issue(*, product: Product, order_no, channel="manual", quantity=1, buyer_phone="") -> tuple[list, bool]:
    """Issue `quantity` vouchers for an order. Idempotent on (merchant, channel, order_no):
    a repeat returns the vouchers already issued and False."""
    merchant = product.merchant
    buyer_phone = codes.normal_phone(buyer_phone)
    existing = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line", "id"))
    if existing:
        return existing, False
    now = timezone.now()
    valid_from, valid_until = validity_for(product, now, merchant.tz)
    for _attempt in range(3):
        vouchers = [
            Voucher(
                merchant=merchant, product=product, code=codes.generate(), channel=channel, order_no=order_no,
                line=line, buyer_phone=buyer_phone, uses_total=product.uses_per_voucher,
                uses_left=product.uses_per_voucher, valid_from=valid_from, valid_until=valid_until, created_at=now,
            )
            for line in range(1, quantity + 1)
        ]
        try:
            with transaction.atomic():
                Voucher.objects.bulk_create(vouchers)
                hotpath.recount_orders(merchant.pk, [(channel, order_no)])
        except IntegrityError:
            # Either the same order was issued at the same moment (answer with its vouchers),
            # or, once in a blue moon, a random code collided (draw again).
            existing = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line", "id"))
            if existing:
                return existing, False
            continue
        if not vouchers[0].pk:  # backends that do not return ids from bulk inserts
            vouchers = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line"))
        for voucher in vouchers:
            voucher.product = product
        return vouchers, True
    raise RuntimeError("could not draw unique voucher codes")


IMPORT_COLUMNS = ("code", "password", "order_no", "valid_until")
IMPORT_MAX_ROWS = 200_000


class ImportRefused(Exception):
    """The file cannot be imported; `errors` names each bad line and why."""

    def __init__(self, errors):
        super().__init__("invalid file")
        self.errors = errors


def _decode(raw: bytes) -> str:
    """UTF-8 (with or without BOM), or GB18030 as Excel saves a CSV on a Chinese Windows."""
    if raw.startswith(codecs.BOM_UTF8):
        return raw[3:].decode("utf-8")
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("gb18030")


def voucher_import(*, product: Product, raw: bytes) -> int:
    """Import third-party card codes (code, optional password, order number, expiry) for a product.

    All rows or none: every bad row is reported with its line number, and nothing is written
    unless the whole file is good. Returns how many vouchers were created.
    """
    merchant = product.merchant
    try:
        text = _decode(raw)
    except UnicodeDecodeError:
        raise ImportRefused([{"line": 1, "message": _("The file is neither UTF-8 nor GB18030 text.")}]) from None
    reader = csv.reader(io.StringIO(text))
    header = [name.strip().lower() for name in next(reader, [])]
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if "code" not in header or unknown or len(set(header)) != len(header):
        raise ImportRefused([{"line": 1, "message": _("The first row must name the columns: code, and optionally password, order_no, valid_until.")}])
    errors, rows, seen = [], [], {}
    now = timezone.now()
    # Rows without an order number form one order of their own, named so no two imports share it.
    batch = now.strftime("IMPORT-%Y%m%d%H%M%S-") + secrets.token_hex(3).upper()
    default_from, default_until = validity_for(product, now, merchant.tz)
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= IMPORT_MAX_ROWS:
            errors.append({"line": line, "message": _("At most %(n)s rows per file.") % {"n": IMPORT_MAX_ROWS}})
            break
        if len(values) != len(header):
            errors.append({"line": line, "message": _("This row has %(got)s columns; the header has %(want)s.") % {"got": len(values), "want": len(header)}})
            continue
        row = dict(zip(header, (v.strip() for v in values)))
        problem, voucher = _import_row(row, line, product, batch, default_from, default_until)
        if problem:
            errors.append({"line": line, "message": problem})
            continue
        if voucher["code"] in seen:
            errors.append({"line": line, "message": _("This code is also on line %(line)s.") % {"line": seen[voucher["code"]]}})
            continue
        seen[voucher["code"]] = line
        rows.append(voucher)
    if not rows and not errors:
        errors.append({"line": 2, "message": _("The file has no rows.")})
    codes_in_file = list(seen)
    for start in range(0, len(codes_in_file), 5000):
        taken = Voucher.objects.filter(merchant=merchant, code__in=codes_in_file[start : start + 5000])
        for code in taken.values_list("code", flat=True):
            errors.append({"line": seen[code], "message": _("This code has been imported or issued before.")})
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e["line"]))
    for _attempt in range(3):
        _number_lines(merchant, rows)
        try:
            with transaction.atomic():
                hotpath.bulk_insert(Voucher, rows)
                hotpath.recount_orders(merchant.pk, {(row["channel"], row["order_no"]) for row in rows})
            return len(rows)
        except IntegrityError:
            # Another import or issue took the same order lines (or codes) at this very moment:
            # number the lines again after theirs; a code taken meanwhile fails again below.
            continue
    raise ImportRefused([{"line": 1, "message": _(
        "Some of these codes or order numbers were added by someone else at the same moment. Send the file again."
    )}])


def _number_lines(merchant, rows):
    """Each row's place within its order, after the vouchers the order already has (an order may
    arrive in several files, or have been issued through the API before)."""
    order_nos = sorted({row["order_no"] for row in rows})
    last = {}
    for start in range(0, len(order_nos), 5000):
        taken = (
            Voucher.objects.filter(merchant=merchant, channel=Channel.OTHER, order_no__in=order_nos[start : start + 5000])
            .values("order_no").annotate(last=Max("line")).values_list("order_no", "last")
        )
        last.update(taken)
    for row in rows:
        last[row["order_no"]] = row["line"] = last.get(row["order_no"], 0) + 1


def _import_row(row, line, product, batch, default_from, default_until):
    try:
        parsed = codes.parse(row["code"])
    except codes.InvalidCode:
        return _("The code is empty, too long or has control characters."), None
    if parsed.code is None:
        return _("The code is empty, too long or has control characters."), None
    valid_until = default_until
    if row.get("valid_until"):
        valid_until = _import_date(row["valid_until"], product.merchant.tz)
        if valid_until is None:
            return _("valid_until must be a date as YYYY-MM-DD."), None
    order_no = row.get("order_no") or batch
    if len(order_no) > 64 or len(row.get("password", "")) > 128:
        return _("The order number or the password is too long."), None
    ciphertext, key_id = cipher.encrypt(row.get("password", ""))
    return None, {
        "merchant_id": product.merchant_id, "product_id": product.pk, "code": parsed.code, "token": new_token(),
        "channel": Channel.OTHER, "order_no": order_no, "line": line, "buyer_phone": "",
        "uses_total": product.uses_per_voucher, "uses_left": product.uses_per_voucher,
        "valid_from": default_from, "valid_until": valid_until, "state": Voucher.State.ACTIVE,
        "password_ciphertext": ciphertext, "password_key": key_id, "void_reason": "", "created_at": timezone.now(),
    }


@functools.lru_cache(maxsize=4096)
def _import_date(value, tz):
    """A day (2026-12-31, or 2026/1/5 as Excel writes it: the end of that day) or an ISO 8601 time."""
    for pattern in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            day = dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return dt.datetime.combine(day, dt.time.max, tzinfo=tz)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


def _log(member, voucher, action, note="", *, at=None):
    # The platform operator acting through the admin has no membership here: the row says nobody
    # rather than putting the act on the owner's name.
    VoucherLog.objects.create(
        merchant_id=voucher.merchant_id, voucher=voucher, staff=member if member.pk else None,
        action=action, note=note[:200], at=at or timezone.now(),
    )


@transaction.atomic
def voucher_reveal(*, member: Membership, voucher_id) -> tuple[Voucher, str]:
    """The whole code and the card password of a voucher, for its owner; every reveal is logged."""
    voucher = Voucher.objects.filter(merchant_id=member.merchant_id, pk=voucher_id).first()
    if voucher is None:
        raise Refusal("not_found")
    password = cipher.decrypt(voucher.password_ciphertext, voucher.password_key)
    _log(member, voucher, VoucherLog.Action.REVEALED)
    log.info("voucher %s revealed by staff %s", voucher.pk, member.pk)
    return voucher, password


def voucher_viewed(voucher_id, at=None):
    """The buyer page was opened: one UPDATE of the voucher row, however often it is opened."""
    at = at or timezone.now()
    Voucher.objects.filter(pk=voucher_id).update(
        view_count=F("view_count") + 1, last_viewed_at=at, first_viewed_at=Coalesce("first_viewed_at", Value(at)),
    )


def passwords_reencrypt(*, batch=2000) -> int:
    """Encrypt again under the first key every card password kept under another; how many moved."""
    current = cipher.keys()[0].id
    moved = 0
    stale = Voucher.objects.exclude(password_key__in=["", current]).order_by("pk")
    while True:
        rows = list(stale.values_list("pk", "password_ciphertext", "password_key")[:batch])
        if not rows:
            return moved
        with transaction.atomic():
            for pk, ciphertext, key_id in rows:
                fresh, fresh_key = cipher.encrypt(cipher.decrypt(ciphertext, key_id))
                Voucher.objects.filter(pk=pk, password_key=key_id).update(password_ciphertext=fresh, password_key=fresh_key)
        moved += len(rows)
