"""The clerk's scanner PWA: the one-page scanner, its manifest and its service worker."""

import hashlib
import json

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.contrib.staticfiles import finders
from django.http import JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import get_language, gettext
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from redemption import reasons
from staff.models import Role, Store

# Every module app.js imports, directly or not: preloaded by the page at once (without them each
# level of imports would cost a round trip) and kept by the service worker.
MODULES = [
    "staff/js/away.js",
    "staff/js/camera.js",
    "staff/js/codes.js",
    "staff/js/dom.js",
    "staff/js/feedback.js",
    "staff/js/format.js",
    "staff/js/i18n.js",
    "staff/js/lookup.js",
    "staff/js/net.js",
    "staff/js/offline.js",
    "staff/js/screens.js",
    "staff/js/sha256.js",
    "staff/js/today.js",
    "staff/js/vault.js",
]
# Static files the scanner needs to open with a bad or no connection. The QR decoder is not here:
# it loads only when the camera opens and is cached then.
SHELL = [
    "staff/app.css",
    "staff/app.js",
    *MODULES,
    "staff/icon.svg",
    "staff/icon-192.png",
    "staff/icon-512.png",
    "staff/icon-maskable-512.png",
]


def member_stores(member):
    if member is None:
        return []
    stores = Store.objects.filter(pk__in=member.store_ids()).order_by("id").values("id", "name", "offline_enabled")
    return [{"id": s["id"], "name": s["name"], "offline": s["offline_enabled"]} for s in stores]


@login_required(login_url="/staff/login/")
@never_cache
@ensure_csrf_cookie
def scanner(request):
    member = getattr(request.user, "membership", None)
    stores = member_stores(member)
    config = {
        "staff": {
            "id": member.pk, "name": member.display_name,
            # Owners and managers may find a voucher without its code (查找订单); clerks never.
            "may_lookup": member.role in (Role.OWNER, Role.MANAGER),
        } if member else None,
        "stores": stores,
        "urls": {
            "check": reverse("api-check"),
            "redeem": reverse("api-redeem"),
            "redeem_order": reverse("api-redeem-order"),
            "lookup": reverse("api-vouchers-lookup"),
            "offline_snapshot": reverse("api-offline-snapshot"),
            "offline_upload": reverse("api-offline-upload"),
            "ping": reverse("api-ping"),
            "mine": reverse("api-redemptions-mine"),
            "reverse": reverse("api-reverse", args=[0]),
            "login": reverse("staff:login"),
            "sw": reverse("staff:sw"),
            "scope": reverse("staff:scanner"),
            "jsqr": static("vendor/jsqr/jsQR.js"),
        },
        "reasons": reasons.for_page(),
        "rules": {
            "clerk_undo_seconds": settings.CLERK_UNDO_WINDOW,
            "live_qr_step": settings.LIVE_QR_STEP,
            "throttle_window": settings.THROTTLE_WINDOW,
        },
    }
    context = {"member": member, "stores": stores, "config": config, "modules": MODULES}
    return render(request, "staff/scanner.html", context)


def manifest(request):
    icon = {"src": static("staff/icon.svg"), "sizes": "any", "type": "image/svg+xml"}
    body = {
        "name": "核销助手",
        "short_name": "核销助手",
        "description": gettext("Redeem voucher codes at the counter"),
        "lang": "en" if (get_language() or "").startswith("en") else "zh-CN",
        "start_url": reverse("staff:scanner"),
        "scope": reverse("staff:scanner"),
        "display": "standalone",
        "orientation": "portrait",
        "background_color": "#f4f6fa",
        "theme_color": "#1677ff",
        "icons": [
            icon,
            {"src": static("staff/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("staff/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {"src": static("staff/icon-maskable-512.png"), "sizes": "512x512", "type": "image/png", "purpose": "maskable"},
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json", json_dumps_params={"ensure_ascii": False})
    response["Cache-Control"] = "public, max-age=3600"
    return response


def shell_version():
    """A digest of the shell files, so a deploy that changes any of them installs a fresh cache."""
    digest = hashlib.sha256()
    for name in SHELL:
        with open(finders.find(name), "rb") as f:
            digest.update(f.read())
    return digest.hexdigest()[:12]


@never_cache
def service_worker(request):
    context = {
        "version": shell_version(),
        "shell": json.dumps([static(name) for name in SHELL]),
        "scope": reverse("staff:scanner"),
        "static_prefix": settings.STATIC_URL,
    }
    response = render(request, "staff/sw.js", context, content_type="text/javascript; charset=utf-8")
    response["Service-Worker-Allowed"] = reverse("staff:scanner")
    return response
