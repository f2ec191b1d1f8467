"""Django's own middleware, run in the server's event loop without a thread hop.

Under ASGI, Django runs each classic middleware's hooks in a worker thread: two hand-offs per
middleware per request, sixteen for this stack, which cost more than the rest of a scan. The hooks
of the middleware below do no I/O (headers, cookies, language, CSRF tokens, lazy user), so they run
inline. The two that can reach the database, saving a session and storing messages, still go to a
thread, and only when they have something to save.

settings.MIDDLEWARE keeps Django's names (its deploy checks look for them); the ASGI handler in
config/asgi.py loads each one's twin from INLINE instead. Under WSGI and in tests nothing changes.
"""

import json
import logging
import time

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.conf import settings
from django.contrib.auth import middleware as auth
from django.contrib.messages import middleware as messages
from django.contrib.messages.storage import default_storage
from django.contrib.sessions import middleware as sessions
from django.middleware import clickjacking, common, csrf, locale, security
from django.utils.functional import SimpleLazyObject, empty

from config import logs, metrics

request_log = logging.getLogger("hexiao.request")
# The routes whose answer is a scan's: their log line carries its `result`.
SCANS = frozenset({"api-check", "api-redeem", "api-redeem-order"})


class Inline:
    """For a MiddlewareMixin whose hooks do no I/O: in async mode, call them directly."""

    def __init__(self, get_response):
        super().__init__(get_response)
        if iscoroutinefunction(self.get_response) and hasattr(self, "process_view"):
            hook = self.process_view

            async def process_view(request, view, args, kwargs):
                return hook(request, view, args, kwargs)

            # Django adapts each process_view to the handler's mode; an async one needs no thread.
            self.process_view = process_view

    async def __acall__(self, request):
        response = self.process_request(request) if hasattr(self, "process_request") else None
        response = response or await self.get_response(request)
        if hasattr(self, "process_response"):
            response = await self.respond(request, response)
        return response

    async def respond(self, request, response):
        return self.process_response(request, response)


class SecurityMiddleware(Inline, security.SecurityMiddleware):
    pass


class SessionMiddleware(Inline, sessions.SessionMiddleware):
    async def respond(self, request, response):
        session = getattr(request, "session", None)
        saves = session is not None and (session.modified or settings.SESSION_SAVE_EVERY_REQUEST)
        if saves and not session.is_empty():
            return await sync_to_async(self.process_response)(request, response)
        return self.process_response(request, response)


class LocaleMiddleware(Inline, locale.LocaleMiddleware):
    pass


class CommonMiddleware(Inline, common.CommonMiddleware):
    pass


class CsrfViewMiddleware(Inline, csrf.CsrfViewMiddleware):
    pass


class AuthenticationMiddleware(Inline, auth.AuthenticationMiddleware):
    pass


class MessageMiddleware(Inline, messages.MessageMiddleware):
    """Messages are only made for the admin's pages: the storage is built the first time it is used."""

    def process_request(self, request):
        request._messages = SimpleLazyObject(lambda: default_storage(request))

    async def respond(self, request, response):
        storage = getattr(request, "_messages", None)
        if storage is None or storage._wrapped is empty:
            return response
        if storage.used or storage.added_new:
            return await sync_to_async(self.process_response)(request, response)
        return response


class XFrameOptionsMiddleware(Inline, clickjacking.XFrameOptionsMiddleware):
    pass


class RequestLog:
    """Outermost: gives each request its id (kept from X-Request-ID when well formed, and sent
    back), times it into hexiao_request_seconds by route, and logs one line when it is answered."""

    sync_capable = async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self.get_response):
            return self.__acall__(request)
        started, context = self.start(request)
        try:
            return self.finish(request, self.get_response(request), started)
        finally:
            logs.request_id.reset(context)

    async def __acall__(self, request):
        started, context = self.start(request)
        try:
            return self.finish(request, await self.get_response(request), started)
        finally:
            logs.request_id.reset(context)

    def start(self, request):
        return time.perf_counter(), logs.request_id.set(logs.request_id_for(request))

    def finish(self, request, response, started):
        seconds = time.perf_counter() - started
        route = logs.route_of(request)
        metrics.REQUEST_SECONDS.labels(route=route, status=response.status_code).observe(seconds)
        response["X-Request-ID"] = logs.request_id.get()
        fields = {"method": request.method, "route": route, "status": response.status_code,
                  "duration_ms": round(seconds * 1000, 1), "staff": staff_of(request)}
        if route in SCANS:
            fields["result"] = scan_result(response)
        request_log.info("%s %s %s", request.method, route, response.status_code, extra=fields)
        return response


def staff_of(request):
    """The signed-in member's id, if the request has already loaded them: never a query of its own."""
    if hasattr(request, "staff_id"):  # the counter's fast path, which loads no user
        return request.staff_id
    user = request.__dict__.get("user")
    if isinstance(user, SimpleLazyObject):
        user = None if user._wrapped is empty else user._wrapped
    state = getattr(user, "_state", None)
    member = state and state.fields_cache.get("membership")
    return member.pk if member else None


def scan_result(response):
    """The `result` of a check's or a redeem's JSON answer (a stable code: "redeemed" or a reason)."""
    try:
        result = json.loads(response.content).get("result")
    except (AttributeError, ValueError):
        return None
    return result if isinstance(result, str) else None


# Django's middleware -> its inline twin here.
INLINE = {
    f"{base.__module__}.{base.__name__}": f"{__name__}.{twin.__name__}"
    for twin in (
        SecurityMiddleware, SessionMiddleware, LocaleMiddleware, CommonMiddleware, CsrfViewMiddleware,
        AuthenticationMiddleware, MessageMiddleware, XFrameOptionsMiddleware,
    )
    for base in [twin.__bases__[1]]
}
