"""Who is calling: API tokens (the Authorization header, or ?token= on a WebSocket), kept by knox
only as a hash, each one a device; sessions are Django's own, each one a device too."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models import Q
from django.dispatch import receiver
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from knox.auth import TokenAuthentication as KnoxTokenAuthentication
from knox.crypto import hash_token
from knox.models import AuthToken
from rest_framework import authentication, exceptions

from staff import devices
from staff.models import Device


def digest_of(key):
    """The hash knox keeps of a token, or None for what cannot be one."""
    if not isinstance(key, str) or not key or len(key) > 200 or not key.isascii():
        return None
    return hash_token(key)


def member_for_token(key):
    """(user, membership or None, token row) for an API token, in one query; None for an unknown,
    expired or signed-out token."""
    digest = digest_of(key)
    if digest is None:
        return None
    token = (
        AuthToken.objects.select_related("user__membership__merchant", "device")
        .filter(Q(expiry=None) | Q(expiry__gt=timezone.now()), digest=digest).first()
    )
    if token is None:
        return None
    return token.user, getattr(token.user, "membership", None), token


class TokenAuthentication(KnoxTokenAuthentication):
    """knox's token auth (the hash looked up, never the token), loading the user, the member, the
    merchant and the device in one query, and noting when the device was last seen."""

    def authenticate_credentials(self, token):
        found = member_for_token(token.decode("utf-8", errors="replace"))
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, _member, auth_token = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        devices.token_seen(getattr(auth_token, "device", None))
        return user, auth_token


class SessionAuthentication(authentication.SessionAuthentication):
    """DRF's session auth (with CSRF), noting the session's device as seen."""

    def authenticate(self, request):
        found = super().authenticate(request)
        if found is not None:
            devices.session_seen(request._request, getattr(found[0], "membership", None))
        return found


@receiver(user_logged_in)
def _session_signed_in(sender, request, user, **kwargs):
    # Each sign-in on a page (the scanner's login, a sign-in QR, the admin) is a device of its own.
    member = getattr(user, "membership", None)
    if request is not None and member is not None:
        devices.device_with_session(request, member, how=getattr(request, "signin_how", Device.How.PASSWORD))


@receiver(user_logged_out)
def _session_signed_out(sender, request, user, **kwargs):
    device_id = request.session.get(devices.SESSION_DEVICE) if request is not None else None
    if device_id is not None:
        Device.objects.filter(pk=device_id, signed_out_at=None).update(signed_out_at=timezone.now())


@database_sync_to_async
def _socket_caller(key):
    found = member_for_token(key)
    if not found or not found[0].is_active:
        return None, None
    return found[0], getattr(found[2], "device", None)


class TokenAuthMiddleware:
    """`?token=<key>` authenticates a WebSocket as the Authorization header does an API call; the
    socket's device rides along in the scope, so signing it out closes the socket."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        key = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
        if key:
            user, device = await _socket_caller(key)
            if user is not None:
                scope = dict(scope, user=user, device_id=device and device.pk)
        return await self.inner(scope, receive, send)
