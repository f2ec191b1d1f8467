"""Every refusal the API gives: its HTTP status, its sentence in the caller's language, its facts."""

import zoneinfo

from django.conf import settings
from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.http import Http404
from django.utils.formats import date_format
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from rest_framework import exceptions
from rest_framework.response import Response

from redemption import present
from redemption.services import Refusal

STATUS = {
    "invalid_code": 422,
    "not_found": 404,
    "voided": 409,
    "frozen": 409,
    "not_yet_valid": 409,
    "expired": 409,
    "wrong_store": 409,
    "already_redeemed": 409,
    "insufficient_uses": 409,
    "live_qr_required": 409,
    "qr_expired": 409,
    "already_reversed": 409,
    "throttled": 429,
    "forbidden": 403,
    "store_required": 400,
    "invalid_request": 400,
    "unauthorized": 401,
}

MESSAGES = {
    "invalid_code": gettext_lazy("This code is not valid. Check it and enter it again."),
    "not_found": gettext_lazy("No voucher with this code."),
    "voided": gettext_lazy("This voucher has been voided (refunded)."),
    "frozen": gettext_lazy("This voucher is frozen. Ask the shop owner."),
    "not_yet_valid": gettext_lazy("This voucher is not valid yet. It can be used from %(valid_from)s."),
    "expired": gettext_lazy("This voucher expired on %(valid_until)s."),
    "wrong_store": gettext_lazy("This voucher cannot be used in this store."),
    "already_redeemed": gettext_lazy("Already redeemed."),
    "already_redeemed_by": gettext_lazy("Already redeemed: %(at)s at %(store)s by %(staff)s."),
    "insufficient_uses": gettext_lazy("Not enough uses left: %(uses_left)s left."),
    "live_qr_required": gettext_lazy("This voucher needs the buyer's live QR code. Scan it from the buyer's phone."),
    "qr_expired": gettext_lazy("This QR code has expired. Ask the buyer to refresh it and scan again."),
    "already_reversed": gettext_lazy("This redemption has already been reversed."),
    "throttled": gettext_lazy("Too many wrong codes. Try again in %(retry_after)s seconds."),
    "forbidden": gettext_lazy("You are not allowed to do this."),
    "store_required": gettext_lazy("Choose the store you are working at."),
    "invalid_request": gettext_lazy("Some of what was sent is not valid."),
    "unauthorized": gettext_lazy("Log in first."),
}


def local_tz(request):
    member = getattr(request, "member", None)
    return member.merchant.tz if member else zoneinfo.ZoneInfo(settings.TIME_ZONE)


def _short(dt, tz):
    return date_format(dt.astimezone(tz), "Y-m-d H:i")


def refusal_body(refusal, request):
    tz = local_tz(request)
    body = {"ok": False, "result": refusal.reason}
    words = {}
    key = refusal.reason
    for name, value in refusal.facts.items():
        if name == "last_redemption":
            body[name] = value and {
                "at": present.when(value.at, tz),
                "store": present.store_data(value.store),
                "staff": present.staff_data(value.staff),
            }
            if value:
                key = "already_redeemed_by"
                words.update(at=_short(value.at, tz), store=value.store.name, staff=value.staff.display_name)
        elif hasattr(value, "astimezone"):
            body[name] = present.when(value, tz)
            words[name] = _short(value, tz)
        else:
            body[name] = value
            words[name] = value
    body["message"] = str(MESSAGES[key]) % words if words else str(MESSAGES[key])
    if refusal.voucher is not None:
        body["voucher"] = present.voucher_data(refusal.voucher, tz)
    return body


def refusal_response(refusal, request):
    response = Response(refusal_body(refusal, request), status=STATUS[refusal.reason])
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
        result, message = "forbidden", str(MESSAGES["forbidden"])
    elif isinstance(exc, exceptions.NotFound):
        result, message = "not_found", _("Not found.")
    elif isinstance(exc, (exceptions.ValidationError, exceptions.ParseError)):
        result, message = "invalid_request", str(MESSAGES["invalid_request"])
    else:
        result, message = exc.default_code, str(exc.detail)
    body = {"ok": False, "result": result, "message": message}
    if isinstance(exc, exceptions.ValidationError):
        body["errors"] = exc.detail
    elif isinstance(exc, exceptions.ParseError):
        body["errors"] = {"body": [str(exc.detail)]}
    return Response(body, status=exc.status_code, headers=headers)
