"""Products (owner): what is sold, its face value, uses, validity, stores and rules."""

import datetime as dt

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, extend_schema_field
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present
from redemption.api.common import LocalDateTimeField
from redemption.models import Product
from staff.api import StoresField
from staff.apikit import ApiView, valid
from staff.permissions import OWNER


class RedeemableHours(serializers.Serializer):
    weekdays = serializers.ListField(child=serializers.IntegerField(min_value=1, max_value=7), min_length=1,
                                     help_text="Monday = 1 … Sunday = 7")
    # "from" is a Python keyword: named through the field's source below.
    until = serializers.RegexField(r"^\d\d:\d\d$", help_text="HH:MM, exclusive, after from")


RedeemableHours._declared_fields["from"] = serializers.RegexField(r"^\d\d:\d\d$", help_text="HH:MM")


@extend_schema_field(RedeemableHours(allow_null=True))
class RedeemableHoursField(serializers.Field):
    """{"weekdays": [1..7] (Monday = 1), "from": "HH:MM", "until": "HH:MM"} in the merchant's time
    zone; `until` is exclusive and after `from` (no window across midnight). null: any time."""

    default_error_messages = {
        "invalid": _("Give weekdays (1 = Monday … 7 = Sunday), and from and until as HH:MM, until after from."),
    }

    def __init__(self, **kwargs):
        super().__init__(required=False, allow_null=True, **kwargs)

    def to_internal_value(self, value):
        try:
            days, start, end = value["weekdays"], value["from"], value["until"]
            if set(value) - {"weekdays", "from", "until"} or not days or len(days) > 7:
                raise ValueError
            if any(type(day) is not int or not 1 <= day <= 7 for day in days):
                raise ValueError
            start, end = (dt.datetime.strptime(t, "%H:%M").time() for t in (start, end))
            if not (len(value["from"]) == len(value["until"]) == 5 and start < end):
                raise ValueError
        except (TypeError, KeyError, ValueError):
            self.fail("invalid")
        return {"hours_weekdays": sum(1 << (day - 1) for day in set(days)), "hours_from": start, "hours_until": end}

    def to_representation(self, value):
        return value


class ProductSerializer(serializers.ModelSerializer):
    """A product as the owner sends it; the answer is shaped by present.product_data."""

    valid_from = LocalDateTimeField(required=False, allow_null=True)
    valid_until = LocalDateTimeField(required=False, allow_null=True, end_of_day=True)
    stores = StoresField(required=False, default=list)
    face_value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=True)
    uses_per_voucher = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    valid_days = serializers.IntegerField(min_value=1, max_value=3660, required=False, allow_null=True)
    max_uses_per_day = serializers.IntegerField(
        min_value=1, max_value=1000, required=False, allow_null=True,
        help_text="Uses of one voucher per merchant-local day (daily_limit). null: no limit.",
    )
    min_minutes_between_uses = serializers.IntegerField(
        min_value=1, max_value=525600, required=False, allow_null=True,
        help_text="Minutes after a use before the voucher works again (too_soon). null: no wait.",
    )
    redeemable_hours = RedeemableHoursField(help_text="When the voucher may be used (outside_hours). null: any time.")

    class Meta:
        model = Product
        fields = [
            "id", "name", "face_value", "uses_per_voucher", "valid_from", "valid_until",
            "valid_days", "stores", "require_live_qr", "instructions",
            "max_uses_per_day", "min_minutes_between_uses", "redeemable_hours",
        ]

    def validate(self, data):
        hours = data.pop("redeemable_hours", None)
        if hours:
            data.update(hours)
        if data.get("valid_from") and data.get("valid_until") and data["valid_until"] < data["valid_from"]:
            raise serializers.ValidationError({"valid_until": [_("The end of validity is before its start.")]})
        return data


class ProductListView(ApiView):
    roles = OWNER

    @extend_schema(responses=ProductSerializer(many=True))
    def get(self, request):
        tz = request.member.merchant.tz
        products = request.member.merchant.products.prefetch_related("stores")
        return Response([present.product_data(p, tz) for p in products])

    @extend_schema(request=ProductSerializer, responses={201: ProductSerializer})
    def post(self, request):
        data = valid(ProductSerializer, request, tz=request.member.merchant.tz)
        stores = data.pop("stores")
        with transaction.atomic():
            product = Product.objects.create(merchant=request.member.merchant, **data)
            product.stores.set(stores)
        return Response(present.product_data(product, request.member.merchant.tz), status=201)
