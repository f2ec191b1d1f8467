"""The owner's live dashboard: one page; its numbers come from the stats API, its feed from the
WebSocket. Owners and managers only."""

import datetime as dt

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import ensure_csrf_cookie

from redemption import events, present, reasons, selectors
from redemption.models import Channel, Event, Voucher, VoucherStatus
from staff.models import Role, Store

# How many of today's events the feed starts with; the page asks the socket to replay them.
FEED_BACKLOG = 30

def feed_window(member, store_ids):
    """(replay from, newest) event ids. The feed replays from the start of today's last few events,
    so a fresh page is not empty, or from the newest if today has none, so nothing old comes back.
    Events up to the newest are in the numbers the page loads; only later ones are added live."""
    merchant = member.merchant
    events = Event.objects.filter(merchant=merchant)
    if not member.is_owner:
        events = events.filter(store_id__in=store_ids)
    newest = events.order_by("-id").values_list("id", flat=True).first() or 0
    midnight = dt.datetime.combine(timezone.now().astimezone(merchant.tz).date(), dt.time(), merchant.tz)
    today = list(events.filter(at__gte=midnight).order_by("-id").values_list("id", flat=True)[:FEED_BACKLOG])
    return (today[-1] - 1 if today else newest), newest


@login_required(login_url="/staff/login/")
@never_cache
@ensure_csrf_cookie
def dashboard(request):
    member = getattr(request.user, "membership", None)
    if member is None or member.role not in (Role.OWNER, Role.MANAGER):
        return render(request, "dashboard/forbidden.html", status=403)
    store_ids = member.store_ids()
    after, newest = feed_window(member, store_ids)
    stores = list(Store.objects.filter(pk__in=store_ids).order_by("id").values("id", "name"))
    config = {
        "merchant": member.merchant.name,
        "tz": member.merchant.time_zone,
        "me": {"name": member.display_name, "role": member.role},
        "stores": stores,
        "feedAfter": after,
        "feedRepeatSeconds": events.resend_seconds(),
        "reasons": reasons.for_page(),
        "channels": [{"value": value, "label": str(label)} for value, label in Channel.choices],
        "orderStatuses": {key: str(label) for key, label in present.ORDER_STATUS_LABELS.items()},
        "voucherStatuses": {value: str(label) for value, label in VoucherStatus.choices},
        "eventTitles": {key: str(title) for key, title in present.EVENT_TITLES.items()},
        "roles": {value: str(label) for value, label in Role.choices},
        "lastEventId": newest,
        "urls": {
            "staff": reverse("api-stats-staff"),
            "stores": reverse("api-stats-stores"),
            "products": reverse("api-stats-products"),
            "export": reverse("api-redemptions-export"),
            "orders": reverse("api-orders"),
            "ordersExport": reverse("api-orders-export"),
            "daily": reverse("api-stats-daily"),
            "dailyCsv": reverse("api-stats-daily-csv"),
            "vouchers": reverse("api-vouchers"),
            "historyPage": reverse("dashboard-voucher-history", args=[0]),
            "voucherHistory": reverse("api-voucher-history", args=[0]),
            "voucherActions": {
                action: reverse(f"api-voucher-{action}", args=[0]) for action in ("void", "freeze", "unfreeze", "reissue")
            },
            "productList": reverse("api-products"),
            "issueFile": "/api/v1/vouchers/issue-file/",
            "staffList": reverse("api-staff"),
            "staffDetail": reverse("api-staff-detail", args=[0]),
            "signinQr": reverse("api-staff-signin-qr", args=[0]),
            "storeList": reverse("api-stores"),
            "devices": reverse("api-devices"),
            "deviceSignOut": reverse("api-device-sign-out", args=[0]),
            "offlineDevices": reverse("api-offline-devices"),
            "offlineConflicts": reverse("api-offline-conflicts"),
            "offlineSettle": reverse("api-offline-settle", args=[0]),
            "ws": "/ws/dashboard/",
            "login": reverse("staff:login") + "?next=" + request.path,
        },
    }
    return render(request, "dashboard/dashboard.html", {"member": member, "stores": stores, "config": config})


@login_required(login_url="/staff/login/")
@never_cache
def voucher_history(request, pk):
    """A voucher's whole history on one printable page: what a merchant attaches to a platform dispute."""
    member = getattr(request.user, "membership", None)
    if member is None or member.role != Role.OWNER:
        return render(request, "dashboard/forbidden.html", status=403)
    voucher = (
        Voucher.objects.select_related("product", "replaces")
        .filter(merchant_id=member.merchant_id, pk=pk).first()
    )
    if voucher is None:
        raise Http404
    tz = member.merchant.tz
    data = selectors.voucher_history_data(voucher, tz)
    events = [
        {"at": present.local_text(e["at"]), "title": present.EVENT_TITLES[e["type"]], "type": e["type"],
         "details": present.event_details(e)}
        for e in data["events"]
    ]
    context = {
        "member": member, "voucher": voucher, "data": data["voucher"], "events": events,
        "channel": Channel(voucher.channel).label, "status": VoucherStatus(data["voucher"]["status"]).label,
        "printed_at": timezone.now().astimezone(tz).strftime("%Y-%m-%d %H:%M"),
        "valid_until": present.local_text(data["voucher"]["valid_until"]),
    }
    return render(request, "dashboard/history.html", context)
