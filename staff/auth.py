from django.utils.translation import gettext_lazy as _
from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token

from redemption import hotpath


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token auth, loading the user, the member and the merchant in one query (the hot path)."""

    def authenticate_credentials(self, key):
        found = hotpath.member_for_token(key)
        if found is None:
            raise exceptions.AuthenticationFailed(_("Invalid token."))
        user, _member = found
        if not user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return user, Token(key=key, user=user)
