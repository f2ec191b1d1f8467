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
from django.utils.translation import get_language
from django.views.decorators.http import require_safe

from redemption import codes
from redemption.models import Redemption, Voucher

# The shape of Voucher.token; anything else is unknown without asking the database (and a NUL
# from a URL-encoded path never reaches PostgreSQL).
TOKEN = re.compile(r"[A-Za-z0-9_-]{16,32}")

# The page's words. The gettext catalogues belong to the staff side; the buyer page is small
# enough to carry its own two languages.
TEXT = {
    "zh": {
        "lang": "zh-CN",
        "status": {
            "active": "可使用",
            "pending": "未生效",
            "redeemed": "已使用",
            "expired": "已过期",
            "voided": "已作废（已退款）",
            "frozen": "已冻结",
        },
        "gone": {
            "redeemed": "此券已使用完毕",
            "expired": "此券已过有效期，无法使用",
            "voided": "此券已作废，对应订单已退款",
            "frozen": "此券已被冻结，请联系商家",
        },
        "qr_label": "核销二维码",
        "show_qr": "请向店员出示二维码或券码",
        "code": "券码",
        "live_note": "动态码每30秒刷新，截图无效",
        "live_code": "此券仅支持店员扫描动态二维码核销，不提供券码",
        "refresh_in": "{s} 秒后刷新",
        "retrying": "网络不佳，正在重新获取…",
        "noscript": "请开启浏览器的 JavaScript，动态码才能自动刷新。",
        "uses": "剩余 <b>{left}</b>/{total} 次",
        "valid_until": "有效期至 {at}",
        "valid_from": "生效时间 {at}",
        "no_expiry": "长期有效",
        "last_used": "最近使用 {at} · {store}",
        "order": "订单号 {order}",
        "stores": "适用门店",
        "all_stores": "全部门店通用",
        "how": "使用说明",
        "how_qr": "到店后打开本页，向店员出示二维码或券码，店员扫码即可核销。",
        "how_live": "到店后打开本页，向店员出示动态二维码，店员扫码即可核销。截图或转发的二维码无效。",
        "keep_safe": "本页链接即是您的券，请勿转发给他人。",
        "missing_title": "券不存在或链接有误",
        "missing_hint": "请检查链接是否完整，或联系商家重新发送。",
    },
    "en": {
        "lang": "en",
        "status": {
            "active": "Ready to use",
            "pending": "Not yet valid",
            "redeemed": "Used",
            "expired": "Expired",
            "voided": "Void (refunded)",
            "frozen": "Frozen",
        },
        "gone": {
            "redeemed": "This voucher has been used up.",
            "expired": "This voucher has expired and can no longer be used.",
            "voided": "This voucher is void: its order was refunded.",
            "frozen": "This voucher is frozen. Please contact the shop.",
        },
        "qr_label": "QR code to redeem",
        "show_qr": "Show the QR code or the code to the staff",
        "code": "Code",
        "live_note": "The live code changes every 30 s; screenshots do not work",
        "live_code": "Staff redeem this voucher by scanning the live QR code only; there is no code to type.",
        "refresh_in": "Refreshes in {s} s",
        "retrying": "Poor connection, fetching a new code…",
        "noscript": "Turn on JavaScript so the live code can refresh.",
        "uses": "Uses left: <b>{left}</b>/{total}",
        "valid_until": "Valid until {at}",
        "valid_from": "Valid from {at}",
        "no_expiry": "No expiry date",
        "last_used": "Last used {at} · {store}",
        "order": "Order {order}",
        "stores": "Where to use",
        "all_stores": "All stores",
        "how": "How to use",
        "how_qr": "At the shop, open this page and show the QR code or the code; the staff scan it to redeem.",
        "how_live": "At the shop, open this page and show the live QR code; the staff scan it to redeem. "
        "Screenshots and forwarded codes do not work.",
        "keep_safe": "This link is your voucher. Do not share it.",
        "missing_title": "Voucher not found",
        "missing_hint": "Check that the link is complete, or ask the shop to send it again.",
    },
}

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


def ui_text():
    return TEXT["en" if (get_language() or "").startswith("en") else "zh"]


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


def facts(voucher, status, text):
    """The lines under the QR: uses left, validity, last use and the masked order number.

    format_html escapes the values (a store name is merchant input) and keeps the words' own markup.
    """
    tz = voucher.merchant.tz
    lines = [format_html(text["uses"], left=voucher.uses_left, total=voucher.uses_total)]
    if status == "pending":
        lines.append(format_html(text["valid_from"], at=local(voucher.valid_from, tz)))
    if voucher.valid_until:
        lines.append(format_html(text["valid_until"], at=local(voucher.valid_until, tz)))
    else:
        lines.append(text["no_expiry"])
    standing = Redemption.objects.select_related("store").filter(voucher=voucher, reversed_at=None)
    last = standing.order_by("-at", "-id").first()
    if last:
        lines.append(format_html(text["last_used"], at=local(last.at, tz), store=last.store.name))
    lines.append(format_html(text["order"], order=codes.mask_order(voucher.order_no)))
    return lines


def stores(voucher):
    """The stores that take this voucher, and whether that is every store of the merchant."""
    listed = list(voucher.product.stores.all())
    return (listed, False) if listed else (list(voucher.merchant.stores.all()), True)


@require_safe
def voucher_page(request, token):
    voucher = find(token)
    text = ui_text()
    if voucher is None:
        return private(render(request, "buyer/missing.html", {"t": text}, status=404))
    now = timezone.now()
    status = shown_status(voucher, now)
    product = voucher.product
    page_url = reverse("buyer-voucher", args=[voucher.token])
    where, everywhere = stores(voucher)
    context = {
        "t": text,
        "voucher": voucher,
        "product": product,
        "status": status,
        "status_text": text["status"][status],
        "gone_text": text["gone"].get(status),
        "gone_icon": GONE_ICONS.get(status),
        "usable": usable(status),
        "facts": facts(voucher, status, text),
        "stores": where,
        "all_stores": everywhere,
        "page_url": page_url,
        "pips": range(voucher.uses_total) if 1 < voucher.uses_total <= 10 else None,
        "js_text": {"refresh_in": text["refresh_in"]},
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
