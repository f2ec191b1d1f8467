"""The counter: check a code, redeem it, undo a redemption, and the clerk's own day."""

from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present, selectors, services
from redemption.api import schema
from redemption.api.reports import redemption_row
from staff.apikit import MAX_ID, ApiView, valid
from staff.permissions import ALL_STAFF


def code_input(data):
    """The scanned or typed code as text; numbers pass (a JSON client may send digits as one)."""
    value = data.get("code", "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class RedeemInput(serializers.Serializer):
    code = serializers.JSONField(required=False, allow_null=True, help_text="The code as typed or scanned, or a buyer QR payload.")
    voucher = serializers.IntegerField(
        required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID,
        help_text="Instead of `code`: the id of a voucher found by lookup (owner and manager only).",
    )
    uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1000)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    idempotency_key = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)


class OrderItem(serializers.Serializer):
    id = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1000)


class RedeemOrderInput(serializers.Serializer):
    code = serializers.JSONField(required=False, allow_null=True, help_text="Any voucher of the order, as scanned or typed.")
    vouchers = OrderItem(many=True, allow_empty=False, max_length=services.MAX_ORDER_VOUCHERS)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    idempotency_key = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)

    def validate_vouchers(self, items):
        ids = [item["id"] for item in items]
        if len(set(ids)) != len(ids):
            raise serializers.ValidationError(_("Each voucher may be named once."))
        return items


class CheckInput(serializers.Serializer):
    code = serializers.JSONField(required=False, allow_null=True)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)


# Every refusal of the counter (redemption.reasons) comes with its facts.
OUTCOME_SCHEMA = {200: schema.Outcome, **schema.refusals(400, 403, 404, 409, 422, 429)}


def outcome_body(result, store, voucher, redemption, tz, order=None, said=None):
    """The counter's answer. `said`: the data of the redemption's event, when the caller has it
    (it presents the same voucher and redemption)."""
    body = {
        "ok": True,
        "result": result,
        "message": _("Redeemed.") if result == "redeemed" else _("Valid: can be redeemed."),
        "store": present.store_ref(store),
        "voucher": said["voucher"] if said else present.voucher_data(voucher, tz),
    }
    if redemption is not None:
        body["redemption"] = said["redemption"] if said else present.redemption_data(redemption, tz)
    if order:
        body["order"] = present.order_data(order, tz)
    return body


def outcome_response(request, outcome):
    tz = request.member.merchant.tz
    return Response(outcome_body(outcome.result, outcome.store, outcome.voucher, outcome.redemption, tz, outcome.order))


class CheckView(ApiView):
    """Look a code up without redeeming it: for the confirm step before the final tap."""

    roles = ALL_STAFF

    @extend_schema(request=CheckInput, responses=OUTCOME_SCHEMA)
    def post(self, request):
        data = valid(CheckInput, request)
        outcome = services.voucher_check(member=request.member, raw_code=code_input(request.data), store_id=data["store"])
        return outcome_response(request, outcome)


class RedeemView(ApiView):
    """Redeem a code. Refusals answer with a stable `result` and a sentence for the clerk."""

    roles = ALL_STAFF

    @extend_schema(request=RedeemInput, responses=OUTCOME_SCHEMA)
    def post(self, request):
        data = valid(RedeemInput, request)
        outcome = services.voucher_redeem(
            member=request.member,
            raw_code=code_input(request.data),
            voucher_id=data["voucher"],
            uses=data["uses"],
            store_id=data["store"],
            idempotency_key=data.get("idempotency_key") or None,
        )
        return outcome_response(request, outcome)


class RedeemOrderView(ApiView):
    """Redeem several vouchers of one order in one tap, all or none: the scanned code proves the
    buyer holds the order; `vouchers` names the ones to redeem (ids from check's `order`)."""

    roles = ALL_STAFF

    @extend_schema(request=RedeemOrderInput, responses={**OUTCOME_SCHEMA, 200: schema.OrderOutcome})
    def post(self, request):
        data = valid(RedeemOrderInput, request)
        outcome = services.order_redeem(
            member=request.member,
            raw_code=code_input(request.data),
            items={item["id"]: item["uses"] for item in data["vouchers"]},
            store_id=data["store"],
            idempotency_key=data.get("idempotency_key") or None,
        )
        tz = request.member.merchant.tz
        count = len(outcome.redemptions)
        return Response({
            "ok": True,
            "result": "redeemed",
            "message": ngettext("Redeemed %(count)s voucher.", "Redeemed %(count)s vouchers.", count) % {"count": count},
            "store": present.store_ref(outcome.store),
            "redemptions": [present.redemption_data(r, tz) for r in outcome.redemptions],
            "vouchers": [present.voucher_data(r.voucher, tz) for r in outcome.redemptions],
        })


class ReverseInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ReverseView(ApiView):
    roles = ALL_STAFF

    @extend_schema(request=ReverseInput, responses={200: schema.Reversed, **schema.refusals(403, 404, 409)})
    def post(self, request, pk):
        data = valid(ReverseInput, request)
        redemption = services.redemption_reverse(member=request.member, redemption_id=pk, reason=data["reason"])
        tz = request.member.merchant.tz
        return Response(
            {
                "ok": True,
                "result": "reversed",
                "message": _("Redemption reversed; the uses are back on the voucher."),
                "redemption": present.redemption_data(redemption, tz),
                "voucher": present.voucher_data(redemption.voucher, tz),
            }
        )


class MineView(ApiView):
    """The caller's own redemptions of today (the merchant's local day)."""

    roles = ALL_STAFF

    @extend_schema(responses=schema.Mine)
    def get(self, request):
        member = request.member
        tz = member.merchant.tz
        today = timezone.now().astimezone(tz).date()
        rows = list(selectors.redemption_list(member=member, staff=member.pk, day_from=today, day_to=today, own=True))
        standing = [r for r in rows if r.reversed_at is None]
        return Response(
            {
                "date": today.isoformat(),
                "count": len(standing),
                "uses": sum(r.uses for r in standing),
                "results": [redemption_row(tz)(r) for r in rows],
            }
        )
