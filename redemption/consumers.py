"""The owner's live feed: redemption events pushed over a WebSocket as they commit."""

from urllib.parse import parse_qs

from channels.db import database_sync_to_async
from channels.generic.websocket import AsyncJsonWebsocketConsumer
from django.core.exceptions import ObjectDoesNotExist

from redemption import events
from redemption.models import Event
from staff.models import Role

CLOSE_FORBIDDEN = 4403
REPLAY_LIMIT = 1000


@database_sync_to_async
def _watch(user):
    """(member, store ids, merchant group?) for an owner or manager; None for anyone else."""
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        member = user.membership
    except ObjectDoesNotExist:
        return None
    if member.role not in (Role.OWNER, Role.MANAGER):
        return None
    merchant = member.merchant
    return member, merchant, sorted(member.store_ids())


@database_sync_to_async
def _missed(merchant, store_ids, whole_merchant, after):
    qs = Event.objects.filter(merchant=merchant, id__gt=after)
    if not whole_merchant:
        qs = qs.filter(store_id__in=store_ids)
    tz = merchant.tz
    return [events.message(e, tz) for e in qs.order_by("id")[:REPLAY_LIMIT]]


class DashboardConsumer(AsyncJsonWebsocketConsumer):
    async def connect(self):
        await self.accept()
        watch = await _watch(self.scope.get("user"))
        if watch is None:
            # Accepted, then closed with 4403, so the browser can tell "not allowed" from "no server".
            await self.close(code=CLOSE_FORBIDDEN)
            return
        member, merchant, store_ids = watch
        self.groups_joined = [events.store_group(s) for s in store_ids]
        if member.is_owner:
            self.groups_joined.append(events.merchant_group(merchant.pk))
        for group in self.groups_joined:
            await self.channel_layer.group_add(group, self.channel_name)
        self.last_id = 0
        after = parse_qs(self.scope.get("query_string", b"").decode()).get("after", [None])[0]
        if after and after.isdigit():
            for message in await _missed(merchant, store_ids, member.is_owner, int(after)):
                await self._send(message)

    async def disconnect(self, code):
        for group in getattr(self, "groups_joined", []):
            await self.channel_layer.group_discard(group, self.channel_name)

    async def receive_json(self, content, **kwargs):
        if isinstance(content, dict) and content.get("type") == "ping":
            await self.send_json({"type": "pong"})

    async def event_push(self, message):
        await self._send(message["event"])

    async def _send(self, event):
        # A push can race a replay of the same event: ids only grow, so send each once.
        if event["id"] <= self.last_id:
            return
        self.last_id = event["id"]
        await self.send_json(event)
