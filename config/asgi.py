import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

# Django must be set up before the middleware, the consumers and the models they import are loaded.
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.handlers.asgi import ASGIHandler  # noqa: E402

from config import middleware  # noqa: E402


class Handler(ASGIHandler):
    """Django's ASGI handler, loading each of Django's middleware as its inline twin
    (config/middleware.py), so a request crosses no thread on the way to its view."""

    def load_middleware(self, is_async=False):
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = [middleware.INLINE.get(path, path) for path in configured]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured


django_asgi_app = Handler()

from channels.auth import AuthMiddlewareStack  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from channels.security.websocket import AllowedHostsOriginValidator  # noqa: E402

from config.routing import websocket_urlpatterns  # noqa: E402
from staff.auth import TokenAuthMiddleware  # noqa: E402

application = ProtocolTypeRouter(
    {
        "http": django_asgi_app,
        "websocket": AllowedHostsOriginValidator(AuthMiddlewareStack(TokenAuthMiddleware(URLRouter(websocket_urlpatterns)))),
    }
)
