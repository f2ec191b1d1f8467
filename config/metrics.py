"""GET /metrics: the Prometheus figures of every server process of this host, for the bearer of
METRICS_TOKEN.

Counters, the request histogram and the live-connections gauge are kept by each process (in
PROMETHEUS_MULTIPROC_DIR when several run; redemption.metrics). What the database knows (the
webhook backlog, open offline conflicts, members locked out) is read at scrape time by the
answering process, so it is one figure however many processes there are.
"""

import hmac
import os
import re
from pathlib import Path

from asgiref.sync import async_to_sync
from django.conf import settings
from django.db import connection
from django.db.models import Count, Min
from django.http import Http404, HttpResponse
from django.utils import timezone
from django.views.decorators.cache import never_cache
from prometheus_client import CONTENT_TYPE_LATEST, CollectorRegistry, Histogram, generate_latest, multiprocess
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import REGISTRY

from config import health
from redemption.models import Delivery, OfflineConflict
from staff.models import Membership

REQUEST_SECONDS = Histogram(
    "hexiao_request_seconds", "Time to answer a request, by route (the URL pattern's name) and status.",
    ["route", "status"], buckets=(0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10),
)

_LIVE_GAUGE_FILE = re.compile(r"gauge_live\w+_(\d+)\.db")


def _gauge(name, documentation, value):
    family = GaugeMetricFamily(name, documentation)
    family.add_metric([], value)
    return family


class StateCollector:
    """What the database and the channel layer say now. One that does not answer is reported as
    down (hexiao_database_up / hexiao_channel_layer_up 0), and the scrape still answers."""

    def collect(self):
        try:
            figures = _database_figures()
        except Exception:  # noqa: BLE001
            connection.close()
            figures = []
        yield _gauge("hexiao_database_up", "1 when the database answered this scrape.", 1 if figures else 0)
        yield from (_gauge(*figure) for figure in figures)
        try:
            layer_up = async_to_sync(health.layer_round_trip)()
        except Exception:  # noqa: BLE001
            layer_up = False
        yield _gauge("hexiao_channel_layer_up", "1 when the channel layer carried a message for this scrape.",
                     1 if layer_up else 0)


def _database_figures():
    now = timezone.now()
    due = Delivery.objects.filter(delivered_at=None, failed_at=None, next_at__lte=now)
    backlog = due.aggregate(count=Count("id"), oldest=Min("next_at"))
    oldest = backlog["oldest"]
    return [
        ("hexiao_webhook_due", "Webhook deliveries due and not yet delivered.", backlog["count"]),
        ("hexiao_webhook_oldest_due_seconds", "How long the oldest due delivery has waited (0: none due).",
         (now - oldest).total_seconds() if oldest else 0),
        ("hexiao_offline_conflicts_open", "Offline conflicts the owners have not settled.",
         OfflineConflict.objects.filter(settled_at=None).count()),
        ("hexiao_staff_throttled", "Staff locked out now after repeated unknown codes.",
         Membership.objects.filter(throttled_until__gt=now).count()),
    ]


def registry():
    """Every process's figures (multiprocess mode) or this one's, and the database's."""
    directory = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
    collected = CollectorRegistry()
    if directory:
        _forget_dead_processes(directory)
        multiprocess.MultiProcessCollector(collected, directory)
    else:
        collected.register(REGISTRY)
    collected.register(StateCollector())
    return collected


def _forget_dead_processes(directory):
    """Drop the live gauges of processes that have gone (killed or crashed): daphne has no hook
    that runs when a sibling dies, so the scrape looks for them."""
    for path in Path(directory).iterdir():
        match = _LIVE_GAUGE_FILE.fullmatch(path.name)
        if match and not _running(int(match[1])):
            multiprocess.mark_process_dead(int(match[1]), directory)


def _running(pid):
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _authorized(request):
    given = request.headers.get("Authorization", "")
    expected = f"Bearer {settings.METRICS_TOKEN}"
    return hmac.compare_digest(given.encode(), expected.encode())


@never_cache
def metrics(request):
    if not settings.METRICS_TOKEN:
        raise Http404
    if not _authorized(request):
        return HttpResponse("401 Unauthorized\n", status=401, content_type="text/plain",
                            headers={"WWW-Authenticate": 'Bearer realm="metrics"'})
    return HttpResponse(generate_latest(registry()), content_type=CONTENT_TYPE_LATEST)
