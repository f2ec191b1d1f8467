"""Password guessing is refused like code guessing, on every login path (scanner, API token, admin):

- after LOGIN_FAILURES wrong passwords for one username within LOGIN_WINDOW seconds, that username
  cannot log in until the window has passed (guessing one account's password);
- after LOGIN_ADDRESS_FAILURES wrong passwords from one address within LOGIN_WINDOW, that address
  cannot log in as anyone until the window has passed (trying one password on many accounts).

Counted in the cache, which is Redis, shared by every process, in production."""

import hashlib
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver


def _key(kind, value):
    # Hashed: usernames and addresses need not appear in the cache's keys.
    return f"login-failures:{kind}:" + hashlib.sha256(str(value).strip().lower().encode()).hexdigest()[:32]


def client_address(request):
    """The caller's address: REMOTE_ADDR, or the header a trusted proxy sets (CLIENT_ADDRESS_HEADER)."""
    if request is None:
        return None
    meta = request.META
    header = settings.CLIENT_ADDRESS_HEADER
    value = (meta.get(header) if header else None) or meta.get("REMOTE_ADDR") or ""
    return value.split(",")[-1].strip() or None


def _wait(key, limit):
    failures = cache.get(key) or []
    recent = [t for t in failures if t > time.time() - settings.LOGIN_WINDOW]
    if len(recent) < limit:
        return 0
    return max(1, int(recent[-limit] + settings.LOGIN_WINDOW - time.time()) + 1)


def locked_for(username, request=None):
    """Seconds before a password for this username (from this request's address) is checked
    again, or 0."""
    wait = _wait(_key("user", username), settings.LOGIN_FAILURES)
    address = client_address(request)
    if address:
        wait = max(wait, _wait(_key("address", address), settings.LOGIN_ADDRESS_FAILURES))
    return wait


def _count(key, limit):
    now = time.time()
    failures = [t for t in (cache.get(key) or []) if t > now - settings.LOGIN_WINDOW]
    cache.set(key, (failures + [now])[-limit:], settings.LOGIN_WINDOW)


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username")
    if username:
        _count(_key("user", username), settings.LOGIN_FAILURES)
    address = client_address(request)
    if address:
        _count(_key("address", address), settings.LOGIN_ADDRESS_FAILURES)


def forget(username):
    # A right password clears the username's count, never the address's: a sprayer who guesses
    # one account right must not earn another round of guesses.
    cache.delete(_key("user", username))


def forget_address(address):
    cache.delete(_key("address", address))


@receiver(user_logged_in)
def forget_on_login(sender, user, request=None, **kwargs):
    forget(user.get_username())


class LockoutModelBackend(ModelBackend):
    """Django's own backend, refusing to check passwords for a username that is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and locked_for(username, request):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
