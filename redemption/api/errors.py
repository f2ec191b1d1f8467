"""Every error the API gives, as {"ok": false, "result", "message", ...facts}: refusals from the
services (redemption.reasons) and DRF's own errors alike, in the caller's language."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404, JsonResponse
from django.middleware.common import CommonMiddleware
from django.urls import is_valid_path
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt
from rest_framework import exceptions
from rest_framework.response import Response

from redemption import present
from redemption.reasons import DETAILED, REASONS, Refusal


def local_tz(request):
    member = getattr(request, "member", None)
    return member.merchant.tz if member else zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _short(dt, tz):
    return date_format(dt.astimezone(tz), "Y-m-d H:i")


def refusal_body(refusal, request):
    tz = local_tz(request)
    body = {"ok": False, "result": refusal.reason}
    words = {}
    template = REASONS[refusal.reason].message
    for name, value in refusal.facts.items():
        if name == "last_redemption":
            body[name] = value and {
                "at": present.when(value.at, tz),
                "store": present.store_ref(value.store),
                "staff": present.staff_ref(value.staff),
            }
            if value:
                template = DETAILED[refusal.reason]
                words.update(at=_short(value.at, tz), store=value.store.name, staff=value.staff.display_name)
        elif name == "order":
            body[name] = present.order_data(value, tz)
        elif hasattr(value, "astimezone"):
            body[name] = present.when(value, tz)
            words[name] = _short(value, tz)
        else:
            body[name] = value
            words[name] = value
    body["message"] = str(template) % words if words else str(template)
    if refusal.voucher is not None:
        body["voucher"] = present.voucher_data(refusal.voucher, tz)
    return body


def refusal_response(refusal, request):
    response = Response(refusal_body(refusal, request), status=refusal.status)
    if refusal.reason == "throttled":
        response["Retry-After"] = str(refusal.facts["retry_after"])
    return response


def exception_handler(exc, context):
    """Every error as {"ok": false, "result", "message"}: machines read `result`, people `message`."""
    request = context["request"]
    if isinstance(exc, Refusal):
        return refusal_response(exc, request)
    if isinstance(exc, Http404):
        exc = exceptions.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = exceptions.PermissionDenied()
    if not isinstance(exc, exceptions.APIException):
        return None
    headers = {}
    if isinstance(exc, (exceptions.NotAuthenticated, exceptions.AuthenticationFailed)):
        result, message = "unauthorized", str(exc.detail)
        if getattr(context["view"], "get_authenticate_header", None):
            auth = context["view"].get_authenticate_header(request)
            if auth:
                headers["WWW-Authenticate"] = auth
    elif isinstance(exc, exceptions.PermissionDenied):
        result, message = "forbidden", str(REASONS["forbidden"].message)
    elif isinstance(exc, exceptions.NotFound):
        result, message = "not_found", _("Not found.")
    elif isinstance(exc, (exceptions.ValidationError, exceptions.ParseError)):
        result, message = "invalid_request", str(REASONS["invalid_request"].message)
    else:
        result, message = exc.default_code, str(exc.detail)
    body = {"ok": False, "result": result, "message": message}
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = exc.detail
    elif isinstance(exc, exceptions.ParseError):
        body["errors"] = {"body": [str(exc.detail)]}
    return Response(body, status=exc.status_code, headers=headers)


@csrf_exempt
def unmatched(request, *args, **kwargs):
    """Any /api/ address that names no operation (an id that is not a number, a typo): the JSON 404
    an API client can read, never Django's HTML page."""
    # The route that sent us here also matches a missing slash; keep Django's redirect to the
    # address with the slash where that one exists (APPEND_SLASH).
    if settings.APPEND_SLASH and not request.path_info.endswith("/"):
        match = is_valid_path(request.path_info + "/", getattr(request, "urlconf", None))
        if match and match.func is not unmatched:
            middleware = CommonMiddleware(lambda request: None)
            return middleware.response_redirect_class(middleware.get_full_path_with_slash(request))
    return JsonResponse({"ok": False, "result": "not_found", "message": _("Not found.")}, status=404)
