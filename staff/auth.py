from rest_framework import authentication, exceptions
from rest_framework.authtoken.models import Token
from django.utils.translation import gettext_lazy as _


class TokenAuthentication(authentication.TokenAuthentication):
    """DRF's token auth, loading the member and the merchant in the same query (the hot path)."""

    def authenticate_credentials(self, key):
        try:
            token = Token.objects.select_related("user__membership__merchant").get(key=key)
        except Token.DoesNotExist:
            raise exceptions.AuthenticationFailed(_("Invalid token.")) from None
        if not token.user.is_active:
            raise exceptions.AuthenticationFailed(_("User inactive or deleted."))
        return token.user, token
