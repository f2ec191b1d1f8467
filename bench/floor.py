"""The framework's floor: the cheapest Django answer to the redeem request, served like the app.

One file, no middleware, no installed apps, no database: one *sync* view at /api/v1/redeem/ that
parses the JSON body and answers {"ok": true, "result": "redeemed"}, and /healthz for the wait.
bench/run.py serves it with the same server command as the app, e.g.

    daphne -b 127.0.0.1 -p PORT bench.floor:application

(`bench` is found as a namespace package from the project root, so no bench module shadows another.)
Whatever redeem costs beyond this is the product's own work: authentication, the queries, the
live push, DRF, the middleware.
"""

import json
import secrets

from django.conf import settings
from django.http import HttpResponse, HttpResponseBadRequest, JsonResponse
from django.urls import path

settings.configure(
    DEBUG=False,
    SECRET_KEY=secrets.token_urlsafe(50),
    ALLOWED_HOSTS=["127.0.0.1"],
    ROOT_URLCONF=__name__,
    MIDDLEWARE=[],
    INSTALLED_APPS=[],
    DATABASES={},
)

# Compact, as DRF writes it, so the load generator checks the same bytes as for the app.
COMPACT = {"separators": (",", ":")}


def redeem(request):
    try:
        code = json.loads(request.body)["code"]
    except (ValueError, TypeError, KeyError):
        return HttpResponseBadRequest()
    if not isinstance(code, str):
        return HttpResponseBadRequest()
    response = JsonResponse({"ok": True, "result": "redeemed"}, json_dumps_params=COMPACT)
    # The app's CommonMiddleware sets Content-Length; without it the servers would answer chunked.
    response["Content-Length"] = len(response.content)
    return response


def healthz(request):
    return HttpResponse(b"ok")


urlpatterns = [
    path("api/v1/redeem/", redeem),
    path("healthz", healthz),
]

from django.core.asgi import get_asgi_application  # noqa: E402

application = get_asgi_application()
