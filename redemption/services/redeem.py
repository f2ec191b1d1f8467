"""Redeeming at the counter: check, redeem one voucher or a whole order, exactly once. The redeem
path is hot: every query here is counted in tests."""

import datetime as dt
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Q
from django.utils import timezone

from redemption import codes, events, hotpath, metrics
from redemption.models import Attempt, Redemption, Voucher, next_redeemable
from redemption.reasons import GUESS_REASONS, Refusal
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


@metrics.counted("check", "redeemable")
def voucher_check(*, member: Membership, raw_code, store_id=None) -> Outcome:
    """Tell whether a code could be redeemed here and now, and list the other vouchers of its order.
    Changes nothing but the attempt log."""
    store = resolve_store(member, store_id)
    parsed = _parse(member, store, raw_code, Attempt.Kind.CHECK)
    now = timezone.now()
    voucher = find_voucher(member, store, parsed, uses=1, now=now)
    order = None
    try:
        if voucher is None:
            raise _not_found(parsed)
        order = _order_of(member, store, parsed, voucher, now)
        guard(voucher, member, now, order=order)
    except Refusal as refusal:
        refuse(member, store, parsed, Attempt.Kind.CHECK, refusal, voucher)
    _record(member, store, parsed, Attempt.Kind.CHECK, "redeemable", voucher)
    return Outcome("redeemable", store, voucher, order=order)


def _order_of(member, store, parsed, voucher, now):
    """The vouchers of the voucher's order, each with the first rule it breaks for one use here
    (`broken`), when the order holds more than this one; else None."""
    vouchers = hotpath.order_vouchers(voucher, store.pk, parsed, uses={}, now=now, tz=member.merchant.tz)
    return vouchers if len(vouchers) > 1 else None


@metrics.counted("redeem", "redeemed")
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
        refuse(member, store, parsed, Attempt.Kind.REDEEM, refusal, refusal.voucher)


def _redeem_locked(member, store, parsed, uses, idempotency_key):
    now = timezone.now()
    voucher = find_voucher(member, store, parsed, uses=uses, now=now, lock=True)
    if voucher is None:
        raise Refusal("not_found") if parsed.voucher_id else _not_found(parsed)
    try:
        guard(voucher, member, now, uses=uses)
    except Refusal as refusal:
        refusal.voucher = voucher
        raise
    redemption = take(member, store, parsed, voucher, uses, now, idempotency_key)
    return Outcome("redeemed", store, voucher, redemption)


def take(member, store, parsed, voucher, uses, now, idempotency_key, batch=None, scanned_at=None, device=""):
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


@metrics.counted("redeem", "redeemed")
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
    scanned = find_voucher(member, store, parsed, uses=1, now=now)
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
            guard(vouchers[pk], member, now, uses=items[pk])
        except Refusal as refusal:
            refusal.voucher = vouchers[pk]
            refusal.facts["refused"] = listed
            raise
    redemptions, first = [], None
    for pk in sorted(items):
        redemption = take(member, store, parsed, vouchers[pk], items[pk], now,
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
        refuse(member, store, None, kind, refusal, raw=raw_code)


def find_voucher(member, store, parsed, *, uses, now, lock=False):
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


def guard(voucher, member, now, uses=1, order=None):
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


def refuse(member, store, parsed, kind, refusal, voucher=None, *, raw=None):
    """Log a refusal as an attempt, lock out a member who looks to be guessing, and re-raise."""
    refusal.voucher = voucher
    _record(member, store, parsed, kind, refusal.reason, voucher, raw=raw)
    if refusal.reason in GUESS_REASONS:
        throttle_if_guessing(member)
    events.emit(
        member.merchant, "attempt.refused", store=store, reason=refusal.reason, staff=member,
        code_masked=parsed.masked if parsed else codes.mask(str(raw or "")[:40]),
    )
    raise refusal


def throttle_if_guessing(member):
    now = timezone.now()
    window = dt.timedelta(seconds=settings.THROTTLE_WINDOW)
    recent = Attempt.objects.filter(staff=member, at__gt=now - window, result__in=GUESS_REASONS)
    if recent.count() >= settings.THROTTLE_LIMIT:
        member.throttled_until = now + window
        Membership.objects.filter(pk=member.pk).update(throttled_until=member.throttled_until)
        log.warning("staff %s locked out for %ss after repeated unknown codes", member.pk, settings.THROTTLE_WINDOW)
