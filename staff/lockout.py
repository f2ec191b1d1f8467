"""Password guessing is refused like code guessing: after LOGIN_FAILURES wrong passwords for one
username within LOGIN_WINDOW seconds, that username cannot log in anywhere (scanner, API token,
admin) until the window has passed. Counted in the cache, which is Redis, shared by every process,
in production."""

import hashlib
import time

from django.conf import settings
from django.contrib.auth.backends import ModelBackend
from django.contrib.auth.signals import user_logged_in, user_login_failed
from django.core.cache import cache
from django.dispatch import receiver


def _key(username):
    # Hashed: usernames need not appear in the cache's keys.
    return "login-failures:" + hashlib.sha256(str(username).strip().lower().encode()).hexdigest()[:32]


def locked_for(username):
    """Seconds this username must still wait before a password is checked again, or 0."""
    failures = cache.get(_key(username)) or []
    recent = [t for t in failures if t > time.time() - settings.LOGIN_WINDOW]
    if len(recent) < settings.LOGIN_FAILURES:
        return 0
    return max(1, int(recent[-settings.LOGIN_FAILURES] + settings.LOGIN_WINDOW - time.time()) + 1)


@receiver(user_login_failed)
def count_failure(sender, credentials, request=None, **kwargs):
    username = credentials.get("username")
    if not username:
        return
    now = time.time()
    failures = [t for t in (cache.get(_key(username)) or []) if t > now - settings.LOGIN_WINDOW]
    cache.set(_key(username), (failures + [now])[-settings.LOGIN_FAILURES:], settings.LOGIN_WINDOW)


def forget(username):
    cache.delete(_key(username))


@receiver(user_logged_in)
def forget_on_login(sender, user, request=None, **kwargs):
    forget(user.get_username())


class LockoutModelBackend(ModelBackend):
    """Django's own backend, refusing to check passwords for a username that is locked out."""

    def authenticate(self, request, username=None, password=None, **kwargs):
        if username is not None and locked_for(username):
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)
