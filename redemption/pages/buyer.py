"""The buyer's voucher page (/v/<token>/): no login, the unguessable token is the key.

It shows the QR, the code, status, uses left, validity, stores and how to use the voucher. For a
product that requires the live QR, the QR carries a payload that changes every LIVE_QR_STEP
seconds (live.json) and the code is not shown, so a screenshot or a forwarded code stops working.
"""

import itertools
import math
import re
import time

import qrcode
from django.conf import settings
from django.http import JsonResponse
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext
from django.views.decorators.http import require_safe

from redemption import codes, services
from redemption.models import Redemption, Voucher

# The shape of Voucher.token; anything else is unknown without asking the database (and a NUL
# from a URL-encoded path never reaches PostgreSQL).
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")

# A circle with a mark inside, drawn where the QR would be once a voucher can no longer be used.
_RING = "M24 4a20 20 0 1 0 0 40a20 20 0 1 0 0-40"
GONE_ICONS = {
    "redeemed": _RING + "M14 24l7 7l13-14",
    "expired": _RING + "M24 12v13l8 5",
    "voided": _RING + "M10 10l28 28",
    "frozen": _RING + "M16 23h16v12H16zM19 23v-4a5 5 0 0 1 10 0v4",
}

# Inline SVG and JSON only, from this site: the page holds a secret in its address.
CSP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "base-uri 'none'; form-action 'none'; frame-ancestors 'none'"
)


def private(response):
    """The URL is the voucher: keep the page out of caches, search engines and Referer headers."""
    response["Cache-Control"] = "no-store"
    response["X-Robots-Tag"] = "noindex, nofollow"
    response["Referrer-Policy"] = "no-referrer"
    return response


def find(token):
    if not TOKEN.fullmatch(token):
        return None
    return Voucher.objects.select_related("product", "merchant").filter(token=token).first()


def shown_status(voucher, now):
    """The model's status, plus "pending" for a voucher whose validity has not started yet."""
    status = voucher.status(now)
    if status == "active" and voucher.valid_from and now < voucher.valid_from:
        return "pending"
    return status


def usable(status):
    return status in ("active", "pending")


def qr_svg(text):
    """The QR as one compact SVG path (a run of dark modules per row), sized by CSS."""
    qr = qrcode.QRCode(border=4)
    qr.add_data(text)
    qr.make(fit=True)
    matrix = qr.get_matrix()
    size = len(matrix)
    runs = []
    for y, row in enumerate(matrix):
        x = 0
        for dark, run in itertools.groupby(row):
            n = len(list(run))
            if dark:
                runs.append(f"M{x} {y}h{n}v1h-{n}z")
            x += n
    return (
        f'<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 {size} {size}" shape-rendering="crispEdges" '
        f'aria-hidden="true"><path fill="#fff" d="M0 0h{size}v{size}H0z"/><path d="{"".join(runs)}"/></svg>'
    )


def live_qr(token):
    """The current live payload, its QR and whole seconds until the next one is due."""
    now = time.time()
    step = settings.LIVE_QR_STEP
    payload = codes.live_qr_payload(token, at=now)
    return {"payload": payload, "svg": qr_svg(payload), "expires_in": max(1, math.ceil(step - now % step))}


def local(dt, tz):
    return dt.astimezone(tz).strftime("%Y-%m-%d %H:%M")


def facts(voucher, status):
    """The lines under the QR: uses left, validity, last use and the masked order number.

    format_html escapes the values (a store name is merchant input) and keeps the words' own markup.
    """
    tz = voucher.merchant.tz
    lines = [format_html(gettext("Uses left: <b>{left}</b>/{total}"), left=voucher.uses_left, total=voucher.uses_total)]
    if status == "pending":
        lines.append(format_html(gettext("Valid from {at}"), at=local(voucher.valid_from, tz)))
    if voucher.valid_until:
        lines.append(format_html(gettext("Valid until {at}"), at=local(voucher.valid_until, tz)))
    else:
        lines.append(gettext("No expiry date"))
    standing = Redemption.objects.select_related("store").filter(voucher=voucher, reversed_at=None)
    last = standing.order_by("-at", "-id").first()
    if last:
        lines.append(format_html(gettext("Last used {at} · {store}"), at=local(last.at, tz), store=last.store.name))
    lines.append(format_html(gettext("Order {order}"), order=codes.mask_order(voucher.order_no)))
    return lines


def stores(voucher):
    """The stores that take this voucher, and whether that is every store of the merchant."""
    listed = list(voucher.product.stores.all())
    return (listed, False) if listed else (list(voucher.merchant.stores.all()), True)


@require_safe
def voucher_page(request, token):
    voucher = find(token)
    if voucher is None:
        return private(render(request, "buyer/missing.html", status=404))
    now = timezone.now()
    if request.method == "GET":
        services.voucher_viewed(voucher.pk, now)
    status = shown_status(voucher, now)
    product = voucher.product
    page_url = reverse("buyer-voucher", args=[voucher.token])
    where, everywhere = stores(voucher)
    context = {
        "voucher": voucher,
        "product": product,
        "status": status,
        "gone_icon": GONE_ICONS.get(status),
        "usable": usable(status),
        "facts": facts(voucher, status),
        "stores": where,
        "all_stores": everywhere,
        "page_url": page_url,
        "pips": range(voucher.uses_total) if 1 < voucher.uses_total <= 10 else None,
    }
    if context["usable"]:
        if product.require_live_qr:
            context["live"] = live_qr(voucher.token)
            context["step"] = settings.LIVE_QR_STEP
        else:
            context["qr"] = qr_svg(request.build_absolute_uri(page_url))
            context["code"] = codes.group(voucher.code)
    response = render(request, "buyer/voucher.html", context)
    response["Content-Security-Policy"] = CSP
    return private(response)


@require_safe
def live_payload(request, token):
    """{"payload", "svg", "expires_in"} for a live-QR voucher that can still be used; 409 {"status"} once it cannot."""
    voucher = find(token)
    if voucher is None or not voucher.product.require_live_qr:
        return private(JsonResponse({"status": "not_found"}, status=404))
    status = shown_status(voucher, timezone.now())
    if not usable(status):
        return private(JsonResponse({"status": status}, status=409))
    return private(JsonResponse(live_qr(voucher.token)))


@require_safe
def voucher_status(request, token):
    """What the open page polls, so the buyer sees 已使用 moments after the counter scans the QR."""
    voucher = find(token)
    if voucher is None:
        return private(JsonResponse({"status": "not_found"}, status=404))
    status = shown_status(voucher, timezone.now())
    return private(JsonResponse({"status": status, "uses_left": voucher.uses_left}))
