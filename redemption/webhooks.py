"""Webhook delivery (核销回传): every event a merchant subscribed to reaches its receiver at least
once; a repeat carries the same X-Event-Id.

Events are rows written in the transaction of what they report. The worker fans each new event out
into Delivery rows, then sends what is due, retrying with backoff until a 2xx or a day has passed.
Nothing lives only in memory, so a receiver that is down, or a worker that is restarted, loses nothing.
"""

import datetime as dt
import hashlib
import hmac
import ipaddress
import json
import logging
import socket
import urllib.error
import urllib.request
from urllib.parse import urlparse

from django.conf import settings
from django.db import transaction
from django.db.models import F
from django.utils import timezone
from django.utils.translation import gettext as _

from redemption import events, present
from redemption.models import Delivery, Event, Voucher, Webhook

log = logging.getLogger(__name__)

RETRY_DELAYS = (10, 30, 120, 600)  # seconds; then hourly ...
RETRY_HOURLY = 3600
GIVE_UP_AFTER = dt.timedelta(days=1)  # ... until a day has passed
TIMEOUT = 10
# How long a claimed delivery is a worker's alone: well past TIMEOUT, so only a dead worker's runs out.
LEASE = 6 * TIMEOUT
EXPIRY_NOTICE = dt.timedelta(days=3)


def target_problem(url):
    """Why this URL may not receive webhooks, or None. Private, loopback and link-local addresses
    are refused (unless DEBUG) so a webhook cannot be aimed at the server's own network."""
    parts = urlparse(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return _("Use an http:// or https:// address.")
    if settings.DEBUG:
        return None
    try:
        infos = socket.getaddrinfo(parts.hostname, parts.port or (443 if parts.scheme == "https" else 80))
    except (socket.gaierror, UnicodeError):
        return _("This host name cannot be resolved.")
    for info in infos:
        address = ipaddress.ip_address(info[4][0].split("%")[0])
        if not address.is_global:
            return _("Private and loopback addresses cannot receive webhooks.")
    return None


def payload(event, tz):
    return {"id": event.id, "type": event.type, "created_at": present.when(event.at, tz), "data": event.data}


def sign(secret, body):
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


class _NoRedirects(urllib.request.HTTPRedirectHandler):
    # A redirect could lead past the address check; the receiver must answer at its own URL.
    def redirect_request(self, *args, **kwargs):
        return None


_opener = urllib.request.build_opener(_NoRedirects)


def fan_out(limit=500):
    """Write the deliveries owed for events not yet fanned out. Returns how many events were handled."""
    with transaction.atomic():
        batch = list(Event.objects.select_for_update(skip_locked=True).filter(fanned_out=False).order_by("id")[:limit])
        if not batch:
            return 0
        hooks = {}
        for hook in Webhook.objects.filter(merchant_id__in={e.merchant_id for e in batch}, is_active=True):
            hooks.setdefault(hook.merchant_id, []).append(hook)
        Delivery.objects.bulk_create(
            [
                Delivery(webhook=hook, event=event, next_at=event.at)
                for event in batch
                for hook in hooks.get(event.merchant_id, ())
                if event.type in hook.events
            ],
            ignore_conflicts=True,
        )
        Event.objects.filter(pk__in=[e.pk for e in batch]).update(fanned_out=True)
    return len(batch)


def deliver_due(limit=100):
    """Send deliveries that are due. Each is claimed first (a lease, committed at once), then sent
    with no transaction open, so a slow receiver never holds a lock that another worker waits on."""
    sent = 0
    for _round in range(limit):
        delivery = _claim_next()
        if delivery is None:
            break
        _attempt(delivery)
        sent += 1
    return sent


def _claim_next():
    """Take the next due delivery for LEASE seconds, or None when nothing is due.

    Compare-and-swap: the claim only succeeds while the row still has the due time we read, so of
    several workers exactly one gets it. A worker killed mid-send leaves the lease to run out; then
    the delivery is due again and sent again: delivery is at least once, and X-Event-Id lets a
    receiver drop the repeat."""
    now = timezone.now()
    due = Delivery.objects.filter(delivered_at=None, failed_at=None, next_at__lte=now).order_by("next_at", "id")
    for pk, next_at in due.values_list("pk", "next_at")[:20]:
        claimed = Delivery.objects.filter(pk=pk, next_at=next_at, delivered_at=None, failed_at=None).update(
            next_at=now + dt.timedelta(seconds=LEASE), attempts=F("attempts") + 1
        )
        if claimed:
            return Delivery.objects.select_related("webhook__merchant", "event").get(pk=pk)
    return None


def _attempt(delivery):
    hook = delivery.webhook
    body = json.dumps(payload(delivery.event, hook.merchant.tz), ensure_ascii=False).encode()
    status, error = None, target_problem(hook.url)
    if error is None:
        status, error = _post(hook, body, delivery.event)
    now = timezone.now()
    delivery.last_status, delivery.last_error = status, (error or "")[:200]
    if error is None:
        delivery.delivered_at = now
    elif now - delivery.created_at >= GIVE_UP_AFTER:
        delivery.failed_at = now
        log.warning("webhook %s: gave up on event %s after %s attempts", hook.pk, delivery.event_id, delivery.attempts)
    else:
        delivery.next_at = now + dt.timedelta(seconds=retry_delay(delivery.attempts))
    delivery.save(update_fields=["last_status", "last_error", "delivered_at", "failed_at", "next_at"])


def retry_delay(attempts):
    """Seconds before the next try after `attempts` failed ones: 10 s, 30 s, 2 min, 10 min, then hourly."""
    return RETRY_DELAYS[attempts - 1] if attempts <= len(RETRY_DELAYS) else RETRY_HOURLY


def _post(hook, body, event):
    request = urllib.request.Request(
        hook.url, data=body, method="POST",
        headers={
            "Content-Type": "application/json; charset=utf-8",
            "User-Agent": "hexiao-webhooks/1",
            "X-Signature": sign(hook.secret, body),
            "X-Event-Id": str(event.id),
            "X-Event-Type": event.type,
        },
    )
    try:
        with _opener.open(request, timeout=TIMEOUT) as response:
            return response.status, None if 200 <= response.status < 300 else f"HTTP {response.status}"
    except urllib.error.HTTPError as failure:
        return failure.code, f"HTTP {failure.code}"
    except (urllib.error.URLError, OSError, ValueError) as failure:
        return None, str(getattr(failure, "reason", failure))


def remind_expiring(limit=500):
    """Emit voucher.expiring once for each usable voucher that expires within EXPIRY_NOTICE."""
    now = timezone.now()
    with transaction.atomic():
        due = list(
            Voucher.objects.select_for_update(skip_locked=True).select_related("product", "merchant")
            .filter(state=Voucher.State.ACTIVE, uses_left__gt=0, expiry_reminded_at=None,
                    valid_until__gt=now, valid_until__lte=now + EXPIRY_NOTICE)[:limit]
        )
        for voucher in due:
            events.emit(voucher.merchant, "voucher.expiring", voucher=voucher)
        Voucher.objects.filter(pk__in=[v.pk for v in due]).update(expiry_reminded_at=now)
    return len(due)


def run_once():
    return {"reminded": remind_expiring(), "fanned_out": fan_out(), "sent": deliver_due()}
