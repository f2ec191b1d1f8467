"""Events: written in the transaction of what they report, pushed to live dashboards after commit.

The row is the record (a dashboard that reconnects with ?after=<id> is sent what it missed;
webhook delivery reads the same rows), the push is only the fast path.
"""

import asyncio
import logging
import os
import weakref

from asgiref.sync import SyncToAsync, async_to_sync
from channels.layers import get_channel_layer
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from redemption import hotpath, present

log = logging.getLogger(__name__)


def store_group(store_id):
    return f"store.{store_id}"


def merchant_group(merchant_id):
    return f"merchant.{merchant_id}"


def resend_seconds():
    """How far before the event a dashboard resumes after (?after=<id>) its feed starts again: the
    longest a transaction takes to commit, plus one sweep, for an event that committed just before
    the client left but had not been swept to it yet."""
    return settings.LIVE_FEED_SETTLE + settings.LIVE_FEED_SWEEP


def event_data(merchant, *, store=None, **facts):
    """What an event says, in the contract's shapes, times in the merchant's time zone."""
    tz = merchant.tz
    data = {}
    for name, value in facts.items():
        if name == "redemption":
            data[name] = present.redemption_data(value, tz)
        elif name == "voucher":
            data[name] = present.voucher_data(value, tz)
        elif name == "staff":
            data[name] = present.staff_ref(value)
        else:
            data[name] = value
    if store is not None:
        data["store"] = present.store_ref(store)
    return data


def emit(merchant, type, *, store=None, **facts):
    """Write the event in the current transaction; push it to the dashboards once it commits."""
    event = hotpath.create_event(
        merchant_id=merchant.pk, store_id=store and store.pk, type=type,
        data=event_data(merchant, store=store, **facts), at=timezone.now(),
    )
    transaction.on_commit(lambda: push(event, merchant.tz))
    return event


def message(event, tz):
    return {"type": event.type, "id": event.id, "at": present.when(event.at, tz), **event.data}


def _addressed(event, tz):
    """(channel layer, group, message) of an event's push, or None without a channel layer. The
    group is the event's store's (or its merchant's): each process's Relay hands the message to
    its sockets of that group."""
    layer = get_channel_layer()
    if layer is None:
        return None
    group = store_group(event.store_id) if event.store_id else merchant_group(event.merchant_id)
    return layer, group, message(event, tz)


def push(event, tz):
    """Send a committed event to its dashboards. Never raises: a dashboard that misses it catches
    up from the table."""
    addressed = _addressed(event, tz)
    if addressed is None:
        return
    loop = _server_loop()
    if loop is not None:
        # Inside the ASGI server: hand the push to its event loop and return at once, so the
        # clerk's answer does not wait for Redis.
        loop.call_soon_threadsafe(_publisher(loop).add, *addressed)
    else:
        layer, group, payload = addressed
        async_to_sync(_send)(layer, group, [payload])


def push_from_loop(event, tz):
    """push() for code running in the event loop itself: the push is queued, not awaited."""
    addressed = _addressed(event, tz)
    if addressed is not None:
        _publisher(asyncio.get_running_loop()).add(*addressed)


class Publisher:
    """A server process's pushes: one group_send per group carries every event of that group that
    came while the previous send was on its way to Redis. A quiet counter's event leaves at once,
    alone; at a busy one's hundreds a second, a send carries several, and Redis sees a few sends
    a second instead of one per redemption (each group_send is three round trips)."""

    def __init__(self):
        self.pending = {}  # (layer, group) -> messages, oldest first
        self.task = None

    def add(self, layer, group, payload):
        self.pending.setdefault((layer, group), []).append(payload)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.flush())

    async def flush(self):
        try:
            while self.pending:
                batch, self.pending = self.pending, {}
                await asyncio.gather(*(_send(layer, group, payloads) for (layer, group), payloads in batch.items()))
        finally:
            self.task = None


_publishers = weakref.WeakKeyDictionary()


def _publisher(loop):
    if loop not in _publishers:
        _publishers[loop] = Publisher()
    return _publishers[loop]


def _server_loop():
    """The server's running event loop when this thread was started by sync_to_async, else None."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


async def _send(layer, group, payloads):
    try:
        await layer.group_send(group, {"type": "event.push", "group": group, "events": payloads})
    except Exception:
        log.exception("live push of events %s failed", [p["id"] for p in payloads])
