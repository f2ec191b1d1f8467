"""Events: written in the transaction of what they report, pushed to live dashboards after commit.

The row is the record (a dashboard that reconnects with ?after=<id> is sent what it missed;
webhook delivery reads the same rows), the push is only the fast path.
"""

import asyncio
import logging
import os

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


def _sending(event, tz):
    """The coroutine that sends the event to the dashboards watching its store (or the whole
    merchant), or None without a channel layer."""
    layer = get_channel_layer()
    if layer is None:
        return None
    group = store_group(event.store_id) if event.store_id else merchant_group(event.merchant_id)
    # The group goes with the message: each process's Relay hands it to its sockets of that group.
    return _send(layer, group, {"type": "event.push", "group": group, "event": message(event, tz)}, event.id)


def push(event, tz):
    """Send a committed event to its dashboards. Never raises: a dashboard that misses it catches
    up from the table."""
    send = _sending(event, tz)
    if send is None:
        return
    loop = _server_loop()
    if loop is not None:
        # Inside the ASGI server: hand the send to its event loop and return at once, so the
        # clerk's answer does not wait for Redis.
        asyncio.run_coroutine_threadsafe(send, loop)
    else:
        async_to_sync(_wait)(send)


_sends_in_flight = set()


def push_from_loop(event, tz):
    """push() for code running in the event loop itself: the send is scheduled, not awaited."""
    send = _sending(event, tz)
    if send is not None:
        task = asyncio.get_running_loop().create_task(send)
        _sends_in_flight.add(task)  # the loop keeps only a weak reference to a task
        task.add_done_callback(_sends_in_flight.discard)


def _server_loop():
    """The server's running event loop when this thread was started by sync_to_async, else None."""
    loop = getattr(SyncToAsync.threadlocal, "main_event_loop", None)
    if loop is None or getattr(SyncToAsync.threadlocal, "main_event_loop_pid", None) != os.getpid():
        return None
    return loop if loop.is_running() else None


async def _wait(awaitable):
    await awaitable


async def _send(layer, group, payload, event_id):
    try:
        await layer.group_send(group, payload)
    except Exception:
        log.exception("live push of event %s failed", event_id)
