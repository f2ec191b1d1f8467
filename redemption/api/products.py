"""Products (owner): what is sold, its face value, uses, validity, stores and rules."""

from django.db import transaction
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present
from redemption.api.common import LocalDateTimeField
from redemption.models import Product
from staff.api import StoresField
from staff.apikit import ApiView, valid
from staff.permissions import OWNER


class ProductSerializer(serializers.ModelSerializer):
    """A product as the owner sends it; the answer is shaped by present.product_data."""

    valid_from = LocalDateTimeField(required=False, allow_null=True)
    valid_until = LocalDateTimeField(required=False, allow_null=True, end_of_day=True)
    stores = StoresField(required=False, default=list)
    face_value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, coerce_to_string=True)
    uses_per_voucher = serializers.IntegerField(min_value=1, max_value=1000, default=1)
    valid_days = serializers.IntegerField(min_value=1, max_value=3660, required=False, allow_null=True)

    class Meta:
        model = Product
        fields = [
            "id", "name", "face_value", "uses_per_voucher", "valid_from", "valid_until",
            "valid_days", "stores", "require_live_qr", "instructions",
        ]

    def validate(self, data):
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
