"""Who is calling: API tokens (the Authorization header, or ?token= on a WebSocket); sessions are
Django's own."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token


def member_for_token(key):
    """(user, membership or None) for an API token, in one query; None for an unknown token."""
    token = Token.objects.select_related("user__membership__merchant").filter(key=key).first()
    if token is None:
        return None
    return token.user, getattr(token.user, "membership", None)


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token auth, loading the user, the member and the merchant in one query."""

    def authenticate_credentials(self, key):
        found = member_for_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, _member = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)


@database_sync_to_async
def _user_for_token(key):
    found = member_for_token(key)
    return found[0] if found and found[0].is_active else None


class TokenAuthMiddleware:
    """`?token=<key>` authenticates a WebSocket as the Authorization header does an API call."""

    def __init__(self, inner):
        self.inner = inner

    async def __call__(self, scope, receive, send):
        key = parse_qs(scope.get("query_string", b"").decode()).get("token", [None])[0]
        if key:
            user = await _user_for_token(key)
            if user is not None:
                scope = dict(scope, user=user)
        return await self.inner(scope, receive, send)
