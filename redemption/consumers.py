"""The owner's live feed: redemption events pushed over a WebSocket as they commit."""

import asyncio
import collections
import contextlib
import datetime as dt
import json
import logging
import uuid
import weakref
from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from channels.layers import get_channel_layer
from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist
from django.utils import timezone

from redemption import events, metrics
from redemption.models import Event
from staff import devices
from staff.apikit import MAX_ID
from staff.models import Device, Role

log = logging.getLogger(__name__)
# One line when a dashboard's socket opens and one when it closes, beside hexiao.request's lines.
socket_log = logging.getLogger("hexiao.request")

CLOSE_FORBIDDEN = 4403
CLOSE_SIGNED_OUT = 4401
REPLAY_PAGE = 500  # events read from the table at a time


@database_sync_to_async
def _watch(scope):
    """(member, merchant, store ids, device id) for an owner or manager; None for anyone else."""
    user = scope.get("user")
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        member = user.membership
    except ObjectDoesNotExist:
        return None
    if member.role not in (Role.OWNER, Role.MANAGER):
        return None
    merchant = member.merchant
    # The device this socket belongs to: the token's (?token=), or the session's.
    session = scope.get("session")
    device_id = scope.get("device_id") or (session.get(devices.SESSION_DEVICE) if session is not None else None)
    return member, merchant, sorted(member.store_ids()), device_id


def _scope(merchant_id, store_ids, whole_merchant):
    qs = Event.objects.filter(merchant_id=merchant_id)
    return qs if whole_merchant else qs.filter(store_id__in=store_ids)


@database_sync_to_async
def _ids_after(scope, low):
    return list(scope.filter(id__gt=low).order_by("id").values_list("id", flat=True))


@database_sync_to_async
def _messages(scope, ids, tz):
    return [events.message(e, tz) for e in scope.filter(id__in=ids).order_by("id")]


@database_sync_to_async
def _resume_low(scope, after):
    """Where a feed resumed with ?after= starts: at the newest event of the scope that happened
    events.resend_seconds() before the scope's last event up to `after`. Everything up to it had
    committed by the time the client could hold `after`; what comes later may not have reached it,
    so it is sent again. Only the watcher's own events are read (a foreign or unknown id tells
    nothing of another merchant), newest first along the (merchant, id) index."""
    last = scope.filter(id__lte=after).order_by("-id").values_list("id", "at").first()
    if last is None:
        return 0
    before = last[1] - dt.timedelta(seconds=events.resend_seconds())
    settled = scope.filter(id__lt=last[0], at__lt=before)
    return settled.order_by("-id").values_list("id", flat=True).first() or 0


@database_sync_to_async
def _newest_id(scope):
    return scope.order_by("-id").values_list("id", flat=True).first() or 0


@database_sync_to_async
def _rows_after(low):
    """Every merchant's events after `low`: (id, merchant id, store id, when), oldest first."""
    return list(Event.objects.filter(id__gt=low).order_by("id").values_list("id", "merchant_id", "store_id", "at"))


@database_sync_to_async
def _signed_out(device_ids):
    if not device_ids:
        return set()
    return set(Device.objects.filter(pk__in=device_ids).exclude(signed_out_at=None).values_list("pk", flat=True))


@database_sync_to_async
def _events_by_id(ids):
    found = {}
    for start in range(0, len(ids), REPLAY_PAGE):
        found.update((e.id, e) for e in Event.objects.filter(id__in=ids[start : start + REPLAY_PAGE]))
    return found


class Sweeper:
    """The process's one sweep of the event table for all its dashboards, every LIVE_FEED_SWEEP
    seconds: one read of the events after the lowest `low` of its sockets, and one of the messages
    they miss, however many sockets are open (a sweep per socket cost 100 queries a second at 200
    dashboards, each reading the last half minute of its scope).

    `settled` only grows: every event up to it had committed when a sweep read the table (it is the
    newest event read that is older than LIVE_FEED_SETTLE, so every lower id was drawn earlier and
    has committed or rolled back since), and each socket in that sweep was offered every event of
    its scope up to it. So each socket's `low` moves up to it after the sweep, a quiet merchant's
    too: no socket holds the read back for long.
    """

    def __init__(self):
        self.sockets = set()
        self.settled = 0
        self.task = None

    def join(self, socket):
        self.sockets.add(socket)
        if self.task is None:
            self.task = asyncio.get_running_loop().create_task(self.sweep_forever())

    def leave(self, socket):
        self.sockets.discard(socket)
        if not self.sockets and self.task is not None:
            self.task.cancel()
            self.task = None

    async def sweep_forever(self):
        while True:
            await asyncio.sleep(settings.LIVE_FEED_SWEEP)
            try:
                await self.sweep()
            except Exception:
                log.exception("live feed sweep failed")

    async def sweep(self):
        sockets = list(self.sockets)
        if not sockets:
            return
        settled_before = timezone.now() - dt.timedelta(seconds=settings.LIVE_FEED_SETTLE)
        rows = await _rows_after(min(s.low for s in sockets))
        # What the pushes brought, the Relay handed to every socket then open; a socket opened
        # since read it in its catch-up. So only what no push brought is owed: usually nothing.
        pushed = relay().pushed
        unpushed = [row for row in rows if row[0] not in pushed]
        owed = {s: [i for i, merchant, store, _ in unpushed if s.owes(i, merchant, store)] for s in sockets}
        found = await _events_by_id(sorted({i for ids in owed.values() for i in ids}))
        rendered = {}  # (id, time zone) -> message
        for socket, ids in owed.items():
            messages = []
            for i in ids:
                # A push may have come while the table was read: then the Relay has handed it out.
                if i in found and i not in relay().pushed:
                    if (i, socket.tz) not in rendered:
                        rendered[i, socket.tz] = events.message(found[i], socket.tz)
                    messages.append(rendered[i, socket.tz])
            if messages and socket in self.sockets:
                await socket.deliver(messages)
        self.settled = max([self.settled, *(i for i, _, _, at in rows if at < settled_before)])
        relay().forget(self.settled)
        await relay().resubscribe()
        for socket in sockets:
            socket.settle(self.settled)
        # A sign-out is pushed to its sockets too; this catches one whose push was lost.
        gone = await _signed_out({s.device_id for s in sockets} - {None})
        for socket in sockets:
            if socket.device_id in gone and socket in self.sockets:
                await socket.signed_out()


class Relay:
    """The process's one member of the groups its sockets watch (their stores', their merchant's,
    their device's): a push crosses Redis once per process and is handed to the sockets of its
    group here (with a member per socket, 200 dashboards of one merchant made each event 200
    messages, each taken off Redis apart). Sockets have no channel of their own, so this loop is
    the only reader: a read that times out on a busy Redis costs a retry, not the sockets.

    A socket that asked for batches (?batch=1) gets what arrives for it between two ticks as one
    message: the events, oldest first, in a JSON array. The batches are made once a tick for the
    whole process and encoded once for all the sockets that watch the same groups. The first event
    after a quiet spell goes out at once; while events keep coming, the ticks are LIVE_FEED_BATCH
    apart, or further when the last tick went to so many sockets that LIVE_FEED_MESSAGES a second
    would be passed (one message per redemption to 200 dashboards was 100,000 WebSocket messages a
    second at 500 redeems a second, and drowned the server's loop).
    """

    def __init__(self):
        self.members = collections.defaultdict(set)  # group -> sockets
        self.lock = asyncio.Lock()
        self.channel = self.task = None
        self.layer = None
        self.subscribed = set()  # the groups Redis has our subscription to
        self.pushed = set()  # ids of the events handed out, above the sweep's `settled`
        self.held = {}  # group -> events held for the batched sockets, oldest first
        self.tick = None  # the task that sends what is held
        self.last_tick = float("-inf")  # the loop's time of the last one
        self.interval = 0.0  # how long after it the next may be

    async def join(self, layer, groups, socket):
        async with self.lock:
            self.layer = layer
            for group in groups:
                self.members[group].add(socket)
            await self._subscribe(groups)

    async def leave(self, layer, groups, socket):
        async with self.lock:
            for group in groups:
                self.members[group].discard(socket)
                if not self.members[group]:
                    del self.members[group]
                    if group in self.subscribed:
                        self.subscribed.discard(group)
                        with contextlib.suppress(Exception):  # Redis is down: nothing to leave
                            await layer.group_discard(group, self.channel)
            if not self.members and self.task is not None:
                self.task.cancel()
                self.channel = self.task = None
                self.subscribed.clear()

    async def resubscribe(self):
        """Subscribe to the groups a Redis that was down made us miss (the sweep calls this)."""
        async with self.lock:
            missing = [g for g in self.members if g not in self.subscribed]
            if missing:
                await self._subscribe(missing)

    async def _subscribe(self, groups):
        # With Redis down the sockets still open and are fed by the sweep; this is tried again then.
        try:
            if self.channel is None:
                self.channel = await self.layer.new_channel()
                self.task = asyncio.get_running_loop().create_task(self.receive_forever(self.layer, self.channel))
            for group in groups:
                if group not in self.subscribed:
                    await self.layer.group_add(group, self.channel)
                    self.subscribed.add(group)
        except Exception:
            log.warning("live push: could not subscribe to Redis; the sweep tries again", exc_info=True)

    async def receive_forever(self, layer, channel):
        while True:
            try:
                message = await layer.receive(channel)
            except Exception:
                # A busy Redis times a read out: every socket of the process depends on this loop.
                log.exception("live push relay read failed")
                await asyncio.sleep(0.1)
                continue
            await self.hand_out(message)

    async def hand_out(self, message):
        group = message.get("group")
        sockets = list(self.members.get(group, ()))
        if message.get("type") == "device.signed_out":
            for socket in sockets:
                await socket.signed_out()
            return
        self.pushed.update(e["id"] for e in message["events"])
        batched = [s for s in sockets if s.batched]
        if batched:
            self.held.setdefault(group, []).extend(message["events"])
            if self.tick is None:
                loop = asyncio.get_running_loop()
                self.tick = loop.create_task(self.send_held(max(0.0, self.last_tick + self.interval - loop.time())))
        for event in message["events"]:
            text = None  # encoded once, for every socket of the group that takes events one by one
            for socket in sockets:
                if not socket.batched:
                    text = text or json.dumps(event)
                    await socket.deliver([event], text, pushed=True)

    async def send_held(self, delay):
        if delay:
            await asyncio.sleep(delay)
        held, self.held = self.held, {}
        self.last_tick, self.tick = asyncio.get_running_loop().time(), None
        sockets = {s for group in held for s in self.members.get(group, ()) if s.batched}
        batches = {}  # the held groups a socket watches -> (events, their JSON)
        for socket in sockets:
            groups = tuple(sorted(g for g in socket.watched if g in held))
            if groups not in batches:
                batch = sorted((e for g in groups for e in held[g]), key=lambda e: e["id"])
                batches[groups] = batch, json.dumps(batch)
            await socket.deliver(*batches[groups], pushed=True)
        self.interval = max(settings.LIVE_FEED_BATCH, len(sockets) / settings.LIVE_FEED_MESSAGES)

    def forget(self, settled):
        """The sweep has offered every event up to `settled` to every socket: forget those."""
        self.pushed = {i for i in self.pushed if i > settled}


_per_loop = weakref.WeakKeyDictionary()


def _of_this_process(kind):
    """The process's Sweeper or Relay (one per event loop: the tests run each scenario in a loop
    of its own)."""
    mine = _per_loop.setdefault(asyncio.get_running_loop(), {})
    if kind not in mine:
        mine[kind] = kind()
    return mine[kind]


def sweeper():
    return _of_this_process(Sweeper)


def relay():
    return _of_this_process(Relay)


def _asks_for_batches(scope):
    return parse_qs(scope.get("query_string", b"").decode()).get("batch", [""])[0] == "1"


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    """Sends each event of the watcher's scope exactly once, however the pushes arrive.

    Pushes are the fast path, not the record. Event ids are drawn before commit, so a lower id can
    commit after a higher one, and a full channel drops pushes. So the consumer remembers what it
    sent rather than the highest id, and the process's Sweeper offers it, every LIVE_FEED_SWEEP
    seconds, the events of its scope that it has not sent. `low` only passes an id once every event
    drawn before it must have committed (LIVE_FEED_SETTLE bounds how long a transaction takes from
    drawing its event id to commit).
    For the same reason a client resuming with ?after=<id> is sent the half minute before that id
    again (see _resume_low), and drops what it already has by id.
    """

    # No channel of its own: the process's Relay reads Redis for all its sockets.
    channel_layer_alias = None

    async def connect(self):
        # Taken before the handshake completes: a feed "from now" includes whatever commits next.
        newest = await _newest_id(Event.objects.all())
        await self.accept()
        watch = await _watch(self.scope)
        self.log_fields = {"request_id": uuid.uuid4().hex, "route": "dashboard-socket",
                           "staff": watch and watch[0].pk}
        if watch is None:
            # Accepted, then closed with 4403, so the browser can tell "not allowed" from "no server".
            await self.close(code=CLOSE_FORBIDDEN)
            return
        member, merchant, store_ids, device_id = watch
        metrics.LIVE_CONNECTIONS.inc()
        self.live = True
        socket_log.info("dashboard socket opened", extra=self.log_fields)
        self.tz = merchant.tz
        self.merchant_id, self.store_ids = merchant.pk, None if member.is_owner else set(store_ids)
        self.events = _scope(merchant.pk, store_ids, member.is_owner)
        self.batched = _asks_for_batches(self.scope)
        self.watched = [events.store_group(s) for s in store_ids]
        if member.is_owner:
            self.watched.append(events.merchant_group(merchant.pk))
        # Signing out is addressed to this socket's device.
        self.device_id = device_id
        if device_id is not None:
            self.watched.append(devices.device_group(device_id))
        self.sent = {}  # id -> when it happened (as sent), for ids above `low`
        self.catching_up = True  # till then, what the Relay pushes is remembered too
        after = parse_qs(self.scope.get("query_string", b"").decode()).get("after", [None])[0]
        # Without ?after, the feed starts now. With it, everything after that id comes first, and
        # the recent events before it again, as one of them may have committed after it was sent:
        # the client drops repeats by id.
        if after and after.isascii() and after.isdigit():
            self.low = await _resume_low(self.events, min(int(after), MAX_ID))
        else:
            self.low = newest
        # Pushes first, then the catch-up's read: whatever commits in between comes one way or both.
        self.layer = get_channel_layer()
        await relay().join(self.layer, self.watched, self)
        # The first catch-up reads this socket's own scope; from then on the process's sweep covers
        # it. Every event up to what had settled before the catch-up read has been offered by it.
        settled = sweeper().settled
        await self.catch_up()
        self.catching_up = False
        self.settle(settled)
        sweeper().join(self)

    async def disconnect(self, code):
        if getattr(self, "live", False):
            metrics.LIVE_CONNECTIONS.dec()
        socket_log.info("dashboard socket closed", extra={**getattr(self, "log_fields", {}), "close_code": code})
        sweeper().leave(self)
        if getattr(self, "watched", None):
            await relay().leave(self.layer, self.watched, self)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def signed_out(self):
        # This socket's device was signed out: 4401 tells the page to sign in again (once, though
        # the push and a sweep may both say so).
        if not getattr(self, "closing", False):
            self.closing = True
            await self.close(code=CLOSE_SIGNED_OUT)

    def owes(self, event_id, merchant_id, store_id):
        """Whether an event read by the process's sweep is of this socket's scope and not yet sent."""
        in_scope = merchant_id == self.merchant_id and (self.store_ids is None or store_id in self.store_ids)
        return in_scope and event_id > self.low and event_id not in self.sent

    async def catch_up(self):
        """Send what the table has of this socket's scope and the socket has not; then move `low`
        past what has settled."""
        settled_before = timezone.now() - dt.timedelta(seconds=settings.LIVE_FEED_SETTLE)
        missing = [i for i in await _ids_after(self.events, self.low) if i not in self.sent]
        for start in range(0, len(missing), REPLAY_PAGE):
            await self.deliver(await _messages(self.events, missing[start : start + REPLAY_PAGE], self.tz))
        self.settle(max([0, *(i for i, at in self.sent.items() if dt.datetime.fromisoformat(at) < settled_before)]))

    def settle(self, settled):
        """Every event of the scope up to `settled` has been offered to this socket: forget them."""
        if settled > self.low:
            self.low = settled
            self.sent = {i: at for i, at in self.sent.items() if i > self.low}

    async def deliver(self, messages, text=None, pushed=False):
        """Send those of `messages` (oldest first) this socket has not had: one by one, or as one
        batch. `text` is the JSON of all of them (of the one, unbatched), when the caller has it.
        What the Relay hands out (`pushed`) it hands out once; what the catch-up and the sweeps
        send is remembered here, against a push of the same event arriving after them."""
        new = [m for m in messages if m["id"] > self.low and m["id"] not in self.sent]
        if len(new) != len(messages):
            text = None
        if not new:
            return
        if not pushed or self.catching_up:
            for m in new:
                self.sent[m["id"]] = m["at"]
        if self.batched:
            await self.send(text_data=text or json.dumps(new))
        else:
            for m in new:
                await self.send(text_data=text or json.dumps(m))
