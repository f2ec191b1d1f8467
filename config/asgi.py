import os

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")

import django  # noqa: E402

# Django must be set up before the middleware, the consumers and the models they import are loaded.
django.setup(set_prefix=False)

from django.conf import settings  # noqa: E402
from django.core.exceptions import RequestAborted  # noqa: E402
from django.core.handlers.asgi import ASGIHandler, get_script_prefix  # noqa: E402
from django.urls import reverse, set_script_prefix  # noqa: E402

from config import middleware  # noqa: E402


class Handler(ASGIHandler):
    """Django's ASGI handler, loading each of Django's middleware as its inline twin
    (config/middleware.py), so a request crosses no thread on the way to its view.

    The counter's check and redeem go further. Django makes a thread for every request, to run its
    request_started and request_finished receivers (which close the request's database connection)
    and any sync code of the request. The counter's views are async: they use no database connection
    of the event loop's, and what they hand to the counter threads closes its own connection there
    (redemption.api.threads). So those two are served with no thread made for them.
    """

    counter_paths = None

    async def __call__(self, scope, receive, send):
        if self.counter_paths is None:
            type(self).counter_paths = frozenset({reverse("api-check"), reverse("api-redeem")})
        if scope["type"] == "http" and scope["path"] in self.counter_paths:
            await self.handle_counter(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)

    async def handle_counter(self, scope, receive, send):
        try:
            body_file = await self.read_body(receive)
        except RequestAborted:
            return
        set_script_prefix(get_script_prefix(scope))
        request, error_response = self.create_request(scope, body_file)
        response = error_response if request is None else await self.run_get_response(request)
        try:
            await self.send_response(response, send)
        finally:
            response.close()  # a plain response: request_finished finds no connection in this thread
            body_file.close()

    def load_middleware(self, is_async=False):
        configured = settings.MIDDLEWARE
        settings.MIDDLEWARE = [middleware.INLINE.get(path, path) for path in configured]
        try:
            super().load_middleware(is_async)
        finally:
            settings.MIDDLEWARE = configured


django_asgi_app = Handler()

from daphne import http_protocol  # noqa: E402


class WebRequest(http_protocol.WebRequest):
    """Daphne's request, leaving a POST body to Django. Twisted parses a form body for daphne,
    which never reads the result, and answers a multipart body it cannot parse (no parts, or no
    closing boundary) with a bare 400 before the application sees it: no JSON, no Content-Type.
    Unparsed, the body reaches DRF, which answers it as any bad input (redemption.api.errors)."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, parsePOSTFormSubmission=False, **kwargs)


# daphne's HTTP factory makes its requests from this name when a connection opens.
http_protocol.WebRequest = WebRequest

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
