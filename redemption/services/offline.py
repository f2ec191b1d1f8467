"""Offline at the counter, with the risk bounded.

A device of a store that has offline turned on fetches a snapshot while online: the vouchers it
may decide on alone, each named by an HMAC of its code under a key of that snapshot only (never
the code), with the store's caps. Offline, it takes what the snapshot allows, up to the caps, and
queues it. Back online it uploads the queue; each item is redeemed as it would have been when it
was scanned, where that is still possible. What the server must refuse becomes a conflict for
the owner to settle (and an `offline.conflict` event).

The bound: an item counts only within a snapshot the device held when it scanned it, and only up
to that snapshot's caps (`offline_cap` beyond them), so what an owner risks per device is exactly
the caps they set.

The HMAC is not of the code itself but of a slow digest of it: a copy of a phone's list must cost
a guesser dearly per try, since the codes are only about 50 bits and the list carries the key. The
digest is PBKDF2-HMAC-SHA256 of the code with the merchant's salt, settings.OFFLINE_KDF_ITERATIONS
slow, and the phone derives one per scan. The server cannot afford that per voucher per snapshot,
so each voucher's digest is derived once and kept on its row (`offline_digest`): a snapshot derives
the missing ones for at most settings.OFFLINE_KDF_SECONDS and leaves the rest for a later snapshot,
and the webhook worker fills them in the background (`digests_fill`).
"""

import datetime as dt
import hashlib
import hmac
import logging
import secrets
import time

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Count, Q, Sum
from django.utils import timezone

from redemption import codes, events, hotpath, metrics
from redemption.services import redeem
from redemption.models import Attempt, OfflineConflict, OfflineSnapshot, Redemption, Voucher
from redemption.reasons import Refusal
from staff.models import Membership, Merchant, StoreOfflineRule

KDF = "pbkdf2-sha256"
# A snapshot carries 128 bits of each code's HMAC: among 20,000 names a wrong code matches one with
# a chance of about 2^-113, and a guesser is held by the digest's cost, not by the name's length.
NAME_HEX = 32

log = logging.getLogger(__name__)


def code_digest(salt, code, iterations):
    """The slow part of a code's name: PBKDF2-HMAC-SHA256 of the normalised code (UTF-8) with the
    merchant's salt (its hex digits taken as bytes), 32 bytes, in hex."""
    return hashlib.pbkdf2_hmac("sha256", code.encode(), bytes.fromhex(salt), iterations).hex()


def code_hash(key, digest):
    """The snapshot's name for a code: the first 128 bits of HMAC-SHA256 of its digest (bytes) under
    the snapshot's key (bytes), in hex. A fresh key each time: one snapshot's names say nothing of the
    next one's."""
    return hmac.new(bytes.fromhex(key), bytes.fromhex(digest), hashlib.sha256).hexdigest()[:NAME_HEX]


def token_hash(key, token):
    """The snapshot's name for a buyer page's token: hex HMAC-SHA256 of the token under the key. The
    token is 144 random bits (models.new_token): nothing slow is needed to keep a guesser off it."""
    return hmac.new(bytes.fromhex(key), token.encode(), hashlib.sha256).hexdigest()


def merchant_salt(merchant_id):
    """The merchant's salt for the digests, made on first use and never changed."""
    salt = Merchant.objects.values_list("offline_salt", flat=True).get(pk=merchant_id)
    if not salt:
        # Two first snapshots at once: only one sets it, and both read that one.
        Merchant.objects.filter(pk=merchant_id, offline_salt="").update(offline_salt=secrets.token_hex(16))
        salt = Merchant.objects.values_list("offline_salt", flat=True).get(pk=merchant_id)
    return salt


def _digests(vouchers, salt, seconds):
    """{voucher id: digest} of the vouchers that have one under the current iterations, deriving the
    missing ones, in the order given, until `seconds` have gone. Each is written by its own one-row
    UPDATE: holding no lock on one voucher while waiting for another, it cannot deadlock a redeem."""
    iterations = settings.OFFLINE_KDF_ITERATIONS
    prefix = f"{iterations}$"
    deadline = time.monotonic() + seconds
    digests = {}
    for voucher in vouchers:
        if (voucher.offline_digest or "").startswith(prefix):
            digests[voucher.pk] = voucher.offline_digest.removeprefix(prefix)
        elif time.monotonic() < deadline:
            digests[voucher.pk] = code_digest(salt, voucher.code, iterations)
            Voucher.objects.filter(pk=voucher.pk).update(offline_digest=prefix + digests[voucher.pk])
    return digests


def _decidable(merchant_id, now):
    """The merchant's vouchers a device could decide on offline: active, uses left, not expired, and
    not needing the buyer's live QR (which only the server can check)."""
    return (
        Voucher.objects.filter(merchant_id=merchant_id, state=Voucher.State.ACTIVE, uses_left__gt=0)
        .filter(Q(valid_until=None) | Q(valid_until__gte=now), product__require_live_qr=False)
    )


def snapshot(*, member: Membership, store_id=None, device="", pending=0, known=""):
    """What a device of the store needs to decide alone: the decidable vouchers valid there, the
    caps, a fresh key and the derivation's parameters. A voucher whose digest is not derived within
    this request's share of time is left out until a later snapshot.

    `known` is the version of the list the device already holds (list_version). When it is still
    the list's version, no names are made: the device keeps its list and its key, and the row
    written here is what lets its items count as held from now on, as after a fresh list.
    Returns (OfflineSnapshot, key, kdf, vouchers, version); key and vouchers are None when `known` holds."""
    store = redeem.resolve_store(member, store_id)
    if not store.offline_enabled:
        raise Refusal("offline_disabled")
    now = timezone.now()
    kdf = {"name": KDF, "salt": merchant_salt(member.merchant_id), "iterations": settings.OFFLINE_KDF_ITERATIONS}
    vouchers = list(
        _decidable(member.merchant_id, now).filter(Q(product__stores=None) | Q(product__stores=store))
        .select_related("product").only(*SNAPSHOT_FIELDS).distinct().order_by("-id")[: settings.OFFLINE_SNAPSHOT_MAX]
    )
    digests = _digests(vouchers, kdf["salt"], settings.OFFLINE_KDF_SECONDS)
    vouchers = [voucher for voucher in vouchers if voucher.pk in digests]
    version = list_version(store, kdf, vouchers, now)
    key = None
    if known != version:
        key = secrets.token_hex(32)
        for voucher in vouchers:
            voucher.h, voucher.t = code_hash(key, digests[voucher.pk]), token_hash(key, voucher.token)
    taken = OfflineSnapshot.objects.create(
        merchant_id=member.merchant_id, store=store, staff=member, device=device[:64], issued_at=now,
        expires_at=now + dt.timedelta(hours=store.offline_snapshot_hours),
        max_redemptions=store.offline_max_redemptions, max_value=store.offline_max_value,
        vouchers=len(vouchers), pending=pending,
    )
    return taken, key, kdf, (vouchers if key else None), version


# What a snapshot reads of a voucher and its product: not the rest of the row (passwords, notes).
SNAPSHOT_FIELDS = (
    "code", "token", "uses_left", "valid_from", "valid_until", "state", "offline_digest", "product__id",
    "product__name", "product__face_value", "product__uses_per_voucher",
)


def list_version(store, kdf, vouchers, now):
    """A digest of everything a device decides with, but the key: the caps and their lifetime, the
    derivation, and each voucher's uses, validity, status and product. Any change a device must hear
    of moves it: a redeem in either path or a reversal (uses), a void or a freeze (leaves the list),
    a new voucher or one whose digest was derived since (joins it), an expiry passing, the owner's
    caps, a product renamed or repriced. It is read from the rows the snapshot reads anyway, not kept
    as a counter: no write path can forget to move it."""
    text = [f"{store.pk}|{store.offline_max_redemptions}|{store.offline_max_value}|{store.offline_snapshot_hours}",
            f"{kdf['name']}|{kdf['salt']}|{kdf['iterations']}"]
    for voucher in vouchers:
        product = voucher.product
        text.append(f"{voucher.pk}|{voucher.uses_left}|{voucher.valid_from}|{voucher.valid_until}|"
                    f"{voucher.status(now)}|{product.pk}|{product.name}|{product.face_value}|{product.uses_per_voucher}")
    return hashlib.sha256("\n".join(text).encode()).hexdigest()[:32]


def digests_fill(*, seconds):
    """Derive, for up to `seconds`, the digests that snapshots will need: of decidable vouchers of
    merchants with offline on in some store, the newest first. Returns how many it derived."""
    now = timezone.now()
    prefix = f"{settings.OFFLINE_KDF_ITERATIONS}$"
    merchants = Merchant.objects.filter(stores__offline_enabled=True).distinct().values_list("pk", flat=True)
    deadline = time.monotonic() + seconds
    derived = 0
    for merchant_id in merchants:
        missing = list(
            _decidable(merchant_id, now).exclude(offline_digest__startswith=prefix)
            .only("code", "offline_digest").order_by("-id")[:1000]
        )
        derived += len(_digests(missing, merchant_salt(merchant_id), deadline - time.monotonic()))
        if time.monotonic() >= deadline:
            break
    return derived


def upload(*, member: Membership, device, items, pending=0):
    """Redeem what a device took offline, in the order it took them. Each item answers
    {"idempotency_key", "result", "redemption"?}; an item sent again answers as it did the first
    time and redeems nothing twice. An item that names no voucher of the merchant is a guess, as
    at the counter: it counts towards the same lock-out, and a locked-out member's items answer
    `throttled` and stay on the phone."""
    results = [_upload_one(member, device, item) for item in items]
    now = timezone.now()
    latest = OfflineSnapshot.objects.filter(staff=member, device=device).order_by("-issued_at").first()
    if latest is not None:
        OfflineSnapshot.objects.filter(pk=latest.pk).update(last_upload_at=now, pending=pending)
    return results


def _upload_one(member, device, item):
    key = item["idempotency_key"]
    try:
        with transaction.atomic():
            # One item of a member at a time, from whichever of their devices: the same key sent
            # at once from two phones has one outcome, and items count against caps in turn.
            member.throttled_until = (
                Membership.objects.select_for_update().filter(pk=member.pk).values_list("throttled_until", flat=True)[0]
            )
            earlier = _answered(member, key)
            if earlier:
                return earlier
            left = member.throttled_for()
            if left:
                return {"idempotency_key": key, "result": "throttled", "retry_after": left}
            answer = _judge(member, device, item)
            metrics.scanned("redeem", answer["result"])
            return answer
    except IntegrityError:
        # The key was taken by a redeem at the counter that committed meanwhile: its answer is ours.
        return _answered(member, key) or {"idempotency_key": key, "result": "invalid_request"}


def _judge(member, device, item):
    key, uses = item["idempotency_key"], item["uses"]
    try:
        store = redeem.resolve_store(member, item.get("store"))
    except Refusal as refusal:
        return {"idempotency_key": key, "result": refusal.reason}
    scanned_at = min(item["scanned_at"], timezone.now())
    held = (
        OfflineSnapshot.objects
        .filter(store=store, staff=member, device=device, issued_at__lte=scanned_at, expires_at__gte=scanned_at)
        .order_by("-issued_at").first()
    )
    parsed = _parsed(item["code"])
    # Judged as it would have been when scanned: valid then, within the rules then; its uses as now.
    voucher = parsed and redeem.find_voucher(member, store, parsed, uses=uses, now=scanned_at, lock=True)
    if not voucher:
        return _guess(member, store, item, parsed, held)
    try:
        with transaction.atomic():
            redemption = _redeem_offline(member, store, held, parsed, voucher, uses, key, scanned_at, device)
        return {"idempotency_key": key, "result": "redeemed", "redemption": redemption}
    except Refusal as refusal:
        return _conflict(member, store, device, item, voucher, refusal.reason, scanned_at)


def _parsed(code):
    """The code as parsed, or None: a live QR cannot have been judged offline, so it names nothing."""
    try:
        parsed = codes.parse(code)
    except codes.InvalidCode:
        return None
    return None if parsed.is_live else parsed


def _guess(member, store, item, parsed, held):
    """An item naming no voucher of the merchant: logged, counted and shown as at the counter. A
    device that held no snapshot hears `offline_cap` for it, as for any item it sends, so its
    answers never tell a real code from a made-up one."""
    refusal = Refusal("not_found" if parsed else "invalid_code")
    try:
        redeem.refuse(member, store, parsed, Attempt.Kind.REDEEM, refusal, raw=str(item["code"]))
    except Refusal:
        pass
    return {"idempotency_key": item["idempotency_key"], "result": refusal.reason if held else "offline_cap"}


def _answered(member, key):
    redemption = (
        Redemption.objects.select_related("voucher__product", "store", "staff")
        .filter(staff=member, idempotency_key=key).first()
    )
    if redemption:
        return {"idempotency_key": key, "result": "redeemed", "redemption": redemption}
    conflict = OfflineConflict.objects.filter(staff=member, idempotency_key=key).first()
    if conflict:
        return {"idempotency_key": key, "result": conflict.result}
    return None


def _redeem_offline(member, store, held, parsed, voucher, uses, key, scanned_at, device):
    # No snapshot held when scanned: nothing the device took counts, whatever the voucher's state.
    if held is None:
        raise Refusal("offline_cap")
    redeem.guard(voucher, member, scanned_at, uses=uses)
    enabled, max_redemptions, max_value = _rule_when_scanned(held, store, scanned_at)
    if not enabled:
        raise Refusal("offline_disabled")
    if _over_caps(held, member, store, device, hotpath.redemption_value(voucher.product, uses),
                  max_redemptions, max_value):
        raise Refusal("offline_cap")
    return redeem.take(member, store, parsed, voucher, uses, timezone.now(), key, scanned_at=scanned_at,
                          device=device)


def _rule_when_scanned(held, store, scanned_at):
    """(enabled, max redemptions, max value) at the moment of the scan: the snapshot's caps, unless
    the owner changed the switch or the caps after the snapshot was fetched and before the scan;
    then that change holds too (a phone cannot keep caps the owner has since lowered)."""
    changed = (
        StoreOfflineRule.objects.filter(store=store, since__gt=held.issued_at, since__lte=scanned_at)
        .order_by("-since").first()
    )
    if changed is None:
        return True, held.max_redemptions, held.max_value
    return changed.enabled, min(held.max_redemptions, changed.max_redemptions), min(held.max_value, changed.max_value)


def _over_caps(held, member, store, device, value, max_redemptions, max_value):
    taken = Redemption.objects.filter(
        staff=member, store=store, device=device, offline=True,
        scanned_at__gte=held.issued_at, scanned_at__lte=held.expires_at,
    ).aggregate(n=Count("id"), value=Sum("value"))
    return taken["n"] + 1 > max_redemptions or (taken["value"] or 0) + value > max_value


def _conflict(member, store, device, item, voucher, reason, scanned_at):
    """Keep a refused item for the owner to settle, and tell the dashboard and the webhooks. Past
    OFFLINE_OPEN_CONFLICTS_MAX open conflicts of one device, a refused item is only answered and
    logged: one phone cannot bury the owner's list."""
    masked = codes.mask(voucher.code)
    hotpath.record_attempt(
        merchant_id=member.merchant_id, staff_id=member.pk, store_id=store.pk, voucher_id=voucher.pk,
        kind=Attempt.Kind.REDEEM, input_masked=masked, result=reason, at=timezone.now(),
    )
    answer = {"idempotency_key": item["idempotency_key"], "result": reason}
    open_ones = OfflineConflict.objects.filter(staff=member, device=device[:64], settled_at=None)
    if open_ones.count() >= settings.OFFLINE_OPEN_CONFLICTS_MAX:
        log.warning("offline conflict not kept: staff %s device %s has %s open", member.pk, device[:8],
                    settings.OFFLINE_OPEN_CONFLICTS_MAX)
        return answer
    conflict = OfflineConflict.objects.create(
        merchant_id=member.merchant_id, store=store, staff=member, device=device[:64], voucher=voucher,
        idempotency_key=item["idempotency_key"], code_masked=masked, uses=item["uses"], result=reason,
        scanned_at=scanned_at,
    )
    facts = {"conflict": conflict.pk, "result": reason, "staff": member, "code_masked": masked, "uses": conflict.uses,
             "scanned_at": scanned_at.astimezone(member.merchant.tz).isoformat(), "device": device[:8],
             "idempotency_key": conflict.idempotency_key, "voucher": voucher}
    events.emit(member.merchant, "offline.conflict", store=store, **facts)
    return answer


def conflict_settle(*, member: Membership, conflict_id, note=""):
    """Mark a conflict settled (the owner sorted it out with the buyer or the clerk)."""
    conflict = conflicts_for(member).filter(pk=conflict_id).first()
    if conflict is None:
        raise Refusal("not_found")
    if conflict.settled_at is None:
        OfflineConflict.objects.filter(pk=conflict.pk, settled_at=None).update(
            settled_at=timezone.now(), settled_by=member, settle_note=note[:200]
        )
        conflict.refresh_from_db()
    return conflict


def conflicts_for(member):
    conflicts = OfflineConflict.objects.filter(merchant_id=member.merchant_id)
    if not member.is_owner:
        conflicts = conflicts.filter(store_id__in=member.store_ids())
    return conflicts.select_related("store", "staff", "settled_by", "voucher__product")


def devices_for(member, now=None):
    """Each device's latest snapshot in the member's stores, with what it took offline within it:
    the owner's exposure right now (the caps minus what has come back)."""
    now = now or timezone.now()
    latest = {}
    snapshots = OfflineSnapshot.objects.filter(merchant_id=member.merchant_id, expires_at__gte=now - dt.timedelta(days=1))
    if not member.is_owner:
        snapshots = snapshots.filter(store_id__in=member.store_ids())
    for snap in snapshots.select_related("store", "staff").order_by("issued_at"):
        latest[(snap.store_id, snap.staff_id, snap.device)] = snap
    rows = []
    for snap in sorted(latest.values(), key=lambda s: s.issued_at, reverse=True):
        taken = Redemption.objects.filter(
            staff_id=snap.staff_id, store_id=snap.store_id, device=snap.device, offline=True,
            scanned_at__gte=snap.issued_at, scanned_at__lte=snap.expires_at,
        ).aggregate(n=Count("id"), value=Sum("value"))
        snap.taken, snap.taken_value = taken["n"], taken["value"] or 0
        snap.live = snap.expires_at >= now
        rows.append(snap)
    return rows
