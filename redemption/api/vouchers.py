"""Vouchers (owner, the issuing side): issue for an order, list, import card codes, void,
freeze, unfreeze, reissue (补发), and the QR image."""

import io

import qrcode
from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from redemption import codes, present, selectors, services
from redemption.api import schema
from redemption.models import Channel, Product, Voucher
from staff.apikit import MAX_ID, not_found, optional_int, optional_text, paginate, valid
from staff.permissions import OWNER


class IssueInput(serializers.Serializer):
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    order_no = serializers.CharField(max_length=64)
    channel = serializers.ChoiceField(choices=Channel.choices, default=Channel.MANUAL)
    quantity = serializers.IntegerField(min_value=1, max_value=services.MAX_QUANTITY, default=1)
    buyer_phone = serializers.RegexField(r"^\+?[0-9 -]{5,20}$", required=False, allow_blank=True, default="")

    def validate_product(self, value):
        product = Product.objects.filter(merchant=self.context["request"].member.merchant, pk=value).first()
        if product is None:
            raise serializers.ValidationError(_("Unknown product."))
        return product


def issued_data(request, voucher, tz):
    return {
        "id": voucher.id,
        "code": voucher.code,
        "code_display": codes.group(voucher.code),
        "voucher_url": request.build_absolute_uri(f"/v/{voucher.token}/"),
        "qr_url": request.build_absolute_uri(f"/api/v1/vouchers/{voucher.id}/qr.svg"),
        "valid_from": present.when(voucher.valid_from, tz),
        "valid_until": present.when(voucher.valid_until, tz),
        "uses_left": voucher.uses_left,
        "status": voucher.status(),
    }


class VoucherListView(APIView):
    """Owner: issue vouchers for an order (POST), or list them with codes masked (GET)."""

    roles = OWNER

    @extend_schema(request=IssueInput, responses={200: schema.Issued, 201: schema.Issued})
    def post(self, request):
        data = valid(IssueInput, request)
        product = data.pop("product")
        product.merchant = request.member.merchant
        vouchers, created = services.voucher_issue(product=product, **data)
        tz = request.member.merchant.tz
        return Response(
            {"ok": True, "vouchers": [issued_data(request, v, tz) for v in vouchers]},
            status=201 if created else 200,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=selectors.VOUCHER_STATUSES), OpenApiParameter("product", int),
            OpenApiParameter("order_no", str), OpenApiParameter("q", str, description="order number or code tail"),
            OpenApiParameter("page", int),
        ],
        responses=schema.VoucherOut(many=True),
    )
    def get(self, request):
        tz = request.member.merchant.tz
        params = request.query_params
        status = params.get("status") or None
        if status and status not in selectors.VOUCHER_STATUSES:
            raise serializers.ValidationError({"status": [_("Unknown status.")]})
        product = optional_int(params, "product")
        qs = selectors.voucher_list(
            merchant=request.member.merchant, status=status, product=product,
            order_no=optional_text(params, "order_no"), q=optional_text(params, "q"),
        )
        return paginate(self, request, qs, lambda v: present.voucher_data(v, tz))


class VoucherActionInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class VoucherActionView(APIView):
    """Owner: void (refund), freeze (reported stolen), unfreeze, reissue (补发)."""

    roles = OWNER
    action = None

    @extend_schema(request=VoucherActionInput, responses={200: schema.Outcome, 201: schema.Outcome, **schema.REFUSALS})
    def post(self, request, pk):
        data = valid(VoucherActionInput, request)
        member = request.member
        tz = member.merchant.tz
        if self.action == "reissue":
            old, new = services.voucher_reissue(member=member, voucher_id=pk, reason=data["reason"])
            body = {"ok": True, "result": "reissued", "voucher": present.voucher_data(old, tz),
                    "new_voucher": {**present.voucher_data(new, tz), **issued_data(request, new, tz)}}
            return Response(body, status=201)
        if self.action == "void":
            voucher = services.voucher_void(member=member, voucher_id=pk, reason=data["reason"])
        else:
            voucher = services.voucher_freeze(member=member, voucher_id=pk, frozen=self.action == "freeze")
        return Response({"ok": True, "result": self.action, "voucher": present.voucher_data(voucher, tz)})


class VoucherQRView(APIView):
    """The voucher's QR (its buyer-page address) as SVG or PNG, for printing or sending to the buyer."""

    roles = OWNER

    def perform_content_negotiation(self, request, force=False):
        # A browser asks for image/*; errors still answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(responses={(200, "image/svg+xml"): OpenApiTypes.BINARY, (200, "image/png"): OpenApiTypes.BINARY})
    def get(self, request, pk, fmt):
        voucher = Voucher.objects.filter(merchant=request.member.merchant, pk=pk).first() or not_found()
        image, content_type = qr_image(request.build_absolute_uri(f"/v/{voucher.token}/"), fmt)
        return HttpResponse(image, content_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


def qr_image(text, fmt):
    factory, content_type = (SvgPathImage, "image/svg+xml") if fmt == "svg" else (PyPNGImage, "image/png")
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=factory, box_size=10, border=2).save(buffer)
    return buffer.getvalue(), content_type


class ImportInput(serializers.Serializer):
    file = serializers.FileField(help_text="CSV with a header row: code[,password][,order_no][,valid_until]")
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    def validate_product(self, value):
        return IssueInput.validate_product(self, value)


MAX_IMPORT_BYTES = 20 * 1024 * 1024


class VoucherImportView(APIView):
    """Owner: import third-party card codes from a CSV (UTF-8, or GB18030 as Excel saves it). All rows or none."""

    roles = OWNER

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: schema.Imported, **schema.REFUSALS})
    def post(self, request):
        data = valid(ImportInput, request)
        upload = data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError({"file": [_("The file is larger than 20 MB.")]})
        try:
            count = services.voucher_import(product=data["product"], raw=upload.read())
        except services.ImportRefused as refused:
            return Response(
                {"ok": False, "result": "invalid_file", "message": _("Nothing was imported: fix the lines below and send the whole file again."),
                 "errors": refused.errors},
                status=422,
            )
        return Response({"ok": True, "count": count}, status=201)
