"""Offline at the counter: the snapshot a device decides with, its upload, and, for the owner,
the devices out there and the conflicts to settle."""

import re

from django.http import HttpResponseNotModified
from django.utils.cache import patch_vary_headers
from django.utils.dateparse import parse_datetime
from django.utils.http import parse_etags
from django.utils.text import compress_string
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present
from redemption.services import offline
from redemption.api import schema
from redemption.reasons import REASONS
from staff.apikit import MAX_ID, ApiView, Pagination, paginate, valid
from staff.permissions import ALL_STAFF, OWNER_MANAGER


class SnapshotQuery(serializers.Serializer):
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    device = serializers.CharField(required=False, allow_blank=True, max_length=64, default="",
                                   help_text="The device's own id (its uploads name it too).")
    pending = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000,
                                       help_text="How many items the device still holds to upload.")
    shape = serializers.ChoiceField(
        choices=["full", "compact"], default="full",
        help_text="compact: products once in a table, each voucher an array, names shortened (the scanner's).")


class SnapshotView(ApiView):
    """Staff of the store: what a device needs to decide alone while offline. No whole code: each
    voucher is named by `h`, an HMAC under `key` of the code's slow digest made as `kdf` says.

    The answer's ETag is the version of the list (offline.list_version). A device that sends it
    back in If-None-Match while the list is unchanged hears 304 with no body: it keeps its list and
    key, and holds them from now until Offline-Expires-At, as if it had fetched them again."""

    roles = ALL_STAFF

    @extend_schema(
        parameters=[SnapshotQuery, *schema.SNAPSHOT_HEADERS],
        responses={200: schema.AnySnapshot, 304: schema.NOT_MODIFIED, **schema.refusals(400, 403)},
    )
    def get(self, request):
        query = SnapshotQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        data = query.validated_data
        taken, key, kdf, vouchers, version = offline.snapshot(
            member=request.member, store_id=data["store"], device=data["device"], pending=data["pending"],
            known=_known(request, data["shape"]),
        )
        tz = request.member.merchant.tz
        if vouchers is None:
            response = HttpResponseNotModified()
            response["Offline-Issued-At"] = present.when(taken.issued_at, tz)
            response["Offline-Expires-At"] = present.when(taken.expires_at, tz)
        else:
            shape = present.snapshot_compact_data if data["shape"] == "compact" else present.snapshot_data
            response = Response(shape(taken, key, kdf, vouchers, tz))
        response["ETag"] = _etag(data["shape"], version)
        # The device keeps the list itself; a cache along the way must not answer for the server,
        # which has to record each device that holds one.
        response["Cache-Control"] = "no-store"
        return response

    def finalize_response(self, request, response, *args, **kwargs):
        response = super().finalize_response(request, response, *args, **kwargs)
        if response.status_code == 200 and ACCEPTS_GZIP.search(request.headers.get("Accept-Encoding", "")):
            _gzip(response)
        return response


ACCEPTS_GZIP = re.compile(r"\bgzip\b")


def _etag(form, version):
    # Weak: the list is the same, the bytes are not (each answer has a fresh key).
    return f'W/"{form}.{version}"'


def _known(request, form):
    """The version of the list in this format the device says it holds, or ""."""
    for etag in parse_etags(request.headers.get("If-None-Match", "")):
        form_of, _dot, version = etag.removeprefix("W/").strip('"').partition(".")
        if form_of == form:
            return version
    return ""


def _gzip(response):
    """Compressed here rather than by a middleware for every answer: BREACH needs a secret that stays
    the same across answers and text of the attacker's beside it. The only secret here is the key,
    fresh in each answer, and nothing of the request (the store's id, the device's) is echoed."""
    response.render()
    response.content = compress_string(response.content)
    response["Content-Encoding"] = "gzip"
    response["Content-Length"] = str(len(response.content))
    patch_vary_headers(response, ("Accept-Encoding",))


class ScannedAtField(serializers.DateTimeField):
    """When the device took it, with the device's offset: without one the server cannot tell
    which moment the device meant, so it is refused rather than read in the server's zone."""

    default_error_messages = {
        "offset": gettext_lazy("Give the time with its offset from UTC, e.g. 2026-12-01T10:00:00+08:00."),
    }

    def to_internal_value(self, value):
        moment = super().to_internal_value(value)
        if moment.year < 2000:
            self.fail("invalid", format="ISO 8601")
        if isinstance(value, str) and parse_datetime(value).tzinfo is None:
            self.fail("offset")
        return moment


class UploadItem(serializers.Serializer):
    idempotency_key = serializers.CharField(max_length=64)
    code = serializers.JSONField()
    uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1000)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    scanned_at = ScannedAtField(help_text="When the device took it, ISO 8601 with offset.")

    def validate_code(self, value):
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
        if not isinstance(value, str):
            raise serializers.ValidationError(_("The code must be text."))
        return value


class UploadInput(serializers.Serializer):
    device = serializers.CharField(max_length=64)
    items = UploadItem(many=True, max_length=500)
    pending = serializers.IntegerField(required=False, default=0, min_value=0, max_value=100000)

    def validate_items(self, items):
        keys = [item["idempotency_key"] for item in items]
        if len(set(keys)) != len(keys):
            raise serializers.ValidationError(_("Each idempotency key may appear once."))
        return items


class UploadView(ApiView):
    """What a device took offline, in the order it took it: each item redeemed as it would have
    been when scanned where still possible, else a conflict for the owner (and its reason here)."""

    roles = ALL_STAFF

    @extend_schema(request=UploadInput, responses={200: schema.Uploaded, **schema.refusals(400, 403)})
    def post(self, request):
        data = valid(UploadInput, request)
        results = offline.upload(member=request.member, device=data["device"], items=data["items"],
                                 pending=data["pending"])
        tz = request.member.merchant.tz
        return Response({"results": [_result(r, tz) for r in results]})


def _result(result, tz):
    body = {"idempotency_key": result["idempotency_key"], "result": result["result"]}
    if "redemption" in result:
        body["redemption"] = present.redemption_data(result["redemption"], tz)
        body["voucher"] = present.voucher_data(result["redemption"].voucher, tz)
    else:
        reason = REASONS.get(result["result"])
        body["message"] = str(reason.title) if reason else result["result"]
    if "retry_after" in result:
        body["retry_after"] = result["retry_after"]
    return body


class ConflictQuery(serializers.Serializer):
    settled = serializers.BooleanField(required=False, allow_null=True, default=None,
                                       help_text="false: still to settle; true: settled; left out: all.")
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)


class ConflictListView(ApiView):
    """Owner, manager (their stores): offline redemptions the server could not make, newest first;
    ?settled=0 for those still open."""

    roles = OWNER_MANAGER
    pagination_class = Pagination

    @extend_schema(parameters=[ConflictQuery], responses=schema.Conflict(many=True))
    def get(self, request):
        query = ConflictQuery(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        settled, store = query.validated_data["settled"], query.validated_data["store"]
        conflicts = offline.conflicts_for(request.member)
        if settled is not None:
            conflicts = conflicts.filter(settled_at__isnull=not settled)
        if store:
            conflicts = conflicts.filter(store_id=store)
        tz = request.member.merchant.tz
        return paginate(self, request, conflicts, lambda c: present.conflict_data(c, tz))


class SettleInput(serializers.Serializer):
    note = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ConflictSettleView(ApiView):
    """Owner, manager: mark a conflict settled, with a note of how."""

    roles = OWNER_MANAGER

    @extend_schema(request=SettleInput, responses={200: schema.Conflict, **schema.refusals(400, 403, 404)})
    def post(self, request, pk):
        data = valid(SettleInput, request)
        conflict = offline.conflict_settle(member=request.member, conflict_id=pk, note=data["note"])
        return Response(present.conflict_data(conflict, request.member.merchant.tz))


class DeviceListView(ApiView):
    """Owner, manager (their stores): each device holding a snapshot, what it has brought back,
    and what it may still take offline before it must sync."""

    roles = OWNER_MANAGER

    @extend_schema(responses=schema.Devices)
    def get(self, request):
        tz = request.member.merchant.tz
        return Response({"results": [present.device_data(d, tz) for d in offline.devices_for(request.member)]})
