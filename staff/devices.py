"""Devices: each sign-in of a member (a session on the scanner, an API token, a sign-in QR) is a
device of its own that the owner sees and can sign out alone; and the sign-in QR itself.

Nothing here keeps a secret as it is sent: knox keeps an API token's SHA-512, a sign-in link keeps
its token's SHA-256, and a session's key is Django's own.
"""

import datetime as dt
import hashlib
import re
import secrets
from importlib import import_module

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from knox.models import AuthToken

from staff.models import Device, Membership, Role, SigninLink

SESSION_DEVICE = "device"  # the session's own device id
SESSION_SEEN = "device_seen"  # when this session last wrote its device's last-seen time (epoch seconds)


def device_group(device_id):
    """The channel group of a device's open dashboard sockets, told when it is signed out."""
    return f"device-{device_id}"


def device_name(user_agent: str) -> str:
    """A short name a person recognises from the browser's User-Agent: 'Android · Chrome'."""
    ua = user_agent or ""
    system = next((name for pattern, name in _SYSTEMS if re.search(pattern, ua)), "")
    browser = next((name for pattern, name in _BROWSERS if re.search(pattern, ua)), "")
    return " · ".join(part for part in (system, browser) if part)[:100]


_SYSTEMS = [(r"iPhone", "iPhone"), (r"iPad", "iPad"), (r"HarmonyOS", "HarmonyOS"), (r"Android", "Android"),
            (r"Windows", "Windows"), (r"Mac OS X|Macintosh", "Mac"), (r"CrOS", "ChromeOS"), (r"Linux", "Linux")]
_BROWSERS = [(r"MicroMessenger", "WeChat"), (r"DingTalk", "DingTalk"), (r"AlipayClient", "Alipay"),
             (r"Edg/", "Edge"), (r"HeadlessChrome", "Chrome"), (r"Chrome/|CriOS", "Chrome"),
             (r"Firefox/|FxiOS", "Firefox"), (r"Safari/", "Safari"), (r"curl/", "curl"),
             (r"python-requests|python-urllib|aiohttp|httpx", "Python")]


def device_with_token(*, member: Membership, how=Device.How.TOKEN, name="") -> tuple[Device, str]:
    """A new API token for the member, as a device of its own; the token is returned once."""
    with transaction.atomic():
        token, key = AuthToken.objects.create(user=member.user, expiry=None)
        device = Device.objects.create(member=member, how=how, name=name[:100], token=token)
    return device, key


def token_for(user, name="") -> str:
    """A new API token for a user: a member's is a device of its own; the platform operator's (no
    member of any merchant) is a bare token."""
    member = getattr(user, "membership", None)
    if member is None:
        return AuthToken.objects.create(user=user, expiry=None)[1]
    return device_with_token(member=member, name=name)[1]


def device_with_session(request, member: Membership, how=Device.How.PASSWORD) -> Device:
    """The request's session, just signed in, as a device; its id is kept in the session."""
    now = timezone.now()
    device = Device.objects.create(
        member=member, how=how, name=device_name(request.META.get("HTTP_USER_AGENT", "")),
        session_key=request.session.session_key or "", created_at=now, last_seen_at=now,
    )
    request.session[SESSION_DEVICE] = device.pk
    request.session[SESSION_SEEN] = int(now.timestamp())
    return device


def session_seen(request, member: Membership):
    """Note that a session's device was seen: at most once every DEVICE_SEEN_EVERY seconds. A session
    signed in before devices existed becomes one now."""
    if member is None:
        return
    now = timezone.now()
    device_id = request.session.get(SESSION_DEVICE)
    if device_id is None:
        if request.session.session_key:
            device_with_session(request, member)
        return
    if int(now.timestamp()) - request.session.get(SESSION_SEEN, 0) < settings.DEVICE_SEEN_EVERY:
        return
    Device.objects.filter(pk=device_id, signed_out_at=None).update(last_seen_at=now)
    request.session[SESSION_SEEN] = int(now.timestamp())


def token_seen(device: Device | None):
    """The same for a token's device, loaded with its token (no query unless a write is due)."""
    if device is None:
        return
    now = timezone.now()
    if (now - device.last_seen_at).total_seconds() >= settings.DEVICE_SEEN_EVERY:
        Device.objects.filter(pk=device.pk).update(last_seen_at=now)
        device.last_seen_at = now


def calling_device_id(request):
    """The device a DRF request comes from: its token's, or its session's."""
    if request.auth is not None:
        return getattr(getattr(request.auth, "device", None), "pk", None)
    return request.session.get(SESSION_DEVICE)


def devices_for(member: Membership):
    """The signed-in devices a member may see and sign out: an owner every member's, a manager
    their own and those of the clerks of their stores; a clerk none here."""
    devices = Device.objects.filter(member__merchant_id=member.merchant_id, signed_out_at=None)
    if member.role == Role.MANAGER:
        clerks = Membership.objects.filter(role=Role.CLERK, stores__in=member.store_ids()).values("pk")
        devices = devices.filter(Q(member=member) | Q(member__in=clerks))
    elif member.role != Role.OWNER:
        devices = devices.none()
    return devices.select_related("member").order_by("-last_seen_at", "-pk")


def may_manage(caller: Membership, member: Membership) -> bool:
    """Whose devices (and sign-in QRs) a member looks after: an owner everyone's in the merchant,
    a manager their own and those of the clerks of their stores."""
    if member.merchant_id != caller.merchant_id:
        return False
    if caller.is_owner:
        return True
    if caller.role != Role.MANAGER:
        return False
    return member.pk == caller.pk or (
        member.role == Role.CLERK and member.stores.filter(pk__in=caller.store_ids()).exists())


def device_sign_out(*, device: Device, now=None) -> Device:
    """Sign one device out: its token or session stops at once (the next request answers 401), its
    open dashboard socket is told to close; the member's other devices go on."""
    now = now or timezone.now()
    with transaction.atomic():
        flipped = Device.objects.filter(pk=device.pk, signed_out_at=None).update(signed_out_at=now)
        if device.token_id:
            AuthToken.objects.filter(digest=device.token_id).delete()
        if device.session_key:
            import_module(settings.SESSION_ENGINE).SessionStore().delete(device.session_key)
    device.signed_out_at = device.signed_out_at or now
    if flipped:
        transaction.on_commit(lambda: _tell_sockets(device.pk))
    return device


def _tell_sockets(device_id):
    layer = get_channel_layer()
    if layer is not None:
        # The group goes with the message: each process's Relay closes its sockets of that group.
        group = device_group(device_id)
        async_to_sync(layer.group_send)(group, {"type": "device.signed_out", "group": group})


def member_signed_out(*, member: Membership):
    """Every device of a member (deactivated): tokens and sessions go at once."""
    for device in Device.objects.filter(member=member, signed_out_at=None):
        device_sign_out(device=device)
    AuthToken.objects.filter(user=member.user).delete()


def _digest(token):
    return hashlib.sha256(token.encode()).hexdigest()


def signin_link_create(*, member: Membership, by: Membership) -> tuple[SigninLink, str]:
    """A sign-in QR for `member`: one use within SIGNIN_LINK_MINUTES; the member's earlier unused
    links are voided. Returns the link and its token (shown once, never kept)."""
    now = timezone.now()
    token = secrets.token_urlsafe(24)
    with transaction.atomic():
        SigninLink.objects.filter(member=member, used_at=None, voided_at=None).update(voided_at=now)
        link = SigninLink.objects.create(
            member=member, digest=_digest(token), created_by=by, created_at=now,
            expires_at=now + dt.timedelta(minutes=settings.SIGNIN_LINK_MINUTES),
        )
    return link, token


def signin_link_usable(token) -> SigninLink | None:
    """The link a token names, while it can still sign someone in; it spends nothing."""
    if not isinstance(token, str) or not 16 <= len(token) <= 64:
        return None
    link = (SigninLink.objects.select_related("member__user", "member__merchant")
            .filter(digest=_digest(token), used_at=None, voided_at=None, expires_at__gt=timezone.now()).first())
    if link is None or not link.member.user.is_active:
        return None
    return link


def signin_link_spend(token) -> Membership | None:
    """Spend a link: of two taps at once only one signs in (compare-and-swap on used_at)."""
    link = signin_link_usable(token)
    if link is None:
        return None
    spent = SigninLink.objects.filter(pk=link.pk, used_at=None, voided_at=None).update(used_at=timezone.now())
    return link.member if spent else None
