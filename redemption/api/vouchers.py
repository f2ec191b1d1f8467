"""Vouchers (owner, the issuing side): issue for an order, list, import card codes, void,
freeze, unfreeze, reissue (补发), and the QR image."""

import io
import re
import unicodedata

import qrcode
from django.http import HttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present, selectors, services
from redemption.api import schema
from redemption.models import Channel, Product, Voucher
from staff.apikit import MAX_ID, ApiView, Pagination, not_found, optional_int, optional_text, paginate, valid
from staff.permissions import OWNER, OWNER_MANAGER


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


class LookupInput(serializers.Serializer):
    order_no = serializers.CharField(required=False, allow_blank=True, max_length=64, default="")
    phone = serializers.CharField(required=False, allow_blank=True, max_length=40, default="")

    def validate_phone(self, value):
        # As typed on a phone: full-width digits from a Chinese input method, spaces, dashes, +86.
        value = unicodedata.normalize("NFKC", value).strip()
        if value and not re.fullmatch(r"\+?[0-9 -]{5,24}", value):
            raise serializers.ValidationError(_("Enter the whole phone number, digits only."))
        return value

    def validate(self, data):
        if bool(data["order_no"].strip()) == bool(data["phone"].strip()):
            raise serializers.ValidationError(_("Give either the whole order number or the whole phone number."))
        return data


class VoucherLookupView(ApiView):
    """Owner, manager: find a buyer's vouchers without the code (the phone is dead), by the exact
    order number or the whole phone number. Every lookup is recorded and shows on the live feed.
    Prefer POST: a query string (and the buyer's phone number in it) ends up in access logs."""

    roles = OWNER_MANAGER

    @extend_schema(parameters=[LookupInput], responses={200: schema.Lookup, **schema.refusals(400, 403, 429)})
    def get(self, request):
        query = LookupInput(data=request.query_params.dict())
        query.is_valid(raise_exception=True)
        return self._found(request.member, query.validated_data)

    @extend_schema(request=LookupInput, responses={200: schema.Lookup, **schema.refusals(400, 403, 429)})
    def post(self, request):
        return self._found(request.member, valid(LookupInput, request))

    def _found(self, member, data):
        found = services.voucher_lookup(member=member, order_no=data["order_no"].strip(), phone=data["phone"])
        return Response({"results": [present.voucher_data(v, member.merchant.tz) for v in found]})


class VoucherListView(ApiView):
    """Owner: issue vouchers for an order (POST), or list them with codes masked (GET)."""

    roles = OWNER
    pagination_class = Pagination

    @extend_schema(request=IssueInput, responses={200: schema.Issued, 201: schema.Issued})
    def post(self, request):
        data = valid(IssueInput, request)
        product = data.pop("product")
        product.merchant = request.member.merchant
        vouchers, created = services.voucher_issue(product=product, **data)
        tz = request.member.merchant.tz
        return Response(
            {"ok": True, "vouchers": [present.issued_voucher_data(v, tz, request.build_absolute_uri) for v in vouchers]},
            status=201 if created else 200,
        )

    @extend_schema(
        parameters=[
            OpenApiParameter("status", str, enum=selectors.VOUCHER_STATUSES), OpenApiParameter("product", int),
            OpenApiParameter("order_no", str), OpenApiParameter("q", str, description="order number or code tail"),
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


ACTION_MESSAGES = {
    "void": gettext_lazy("Voucher voided: it can no longer be redeemed."),
    "freeze": gettext_lazy("Voucher frozen: it cannot be redeemed until it is unfrozen."),
    "unfreeze": gettext_lazy("Voucher unfrozen: it can be redeemed again."),
}


class VoucherActionView(ApiView):
    """Owner: void (refund), freeze (reported stolen) or unfreeze a voucher."""

    roles = OWNER
    action = None

    @extend_schema(request=VoucherActionInput, responses={200: schema.VoucherChanged, **schema.refusals(409)})
    def post(self, request, pk):
        data = valid(VoucherActionInput, request)
        member = request.member
        if self.action == "void":
            voucher = services.voucher_void(member=member, voucher_id=pk, reason=data["reason"])
        else:
            voucher = services.voucher_freeze(member=member, voucher_id=pk, frozen=self.action == "freeze")
        return Response({
            "ok": True, "result": self.action, "message": str(ACTION_MESSAGES[self.action]),
            "voucher": present.voucher_data(voucher, member.merchant.tz),
        })


class VoucherReissueView(ApiView):
    """Owner: 补发 — void this voucher and issue a fresh code for the same order, linked to it."""

    roles = OWNER

    @extend_schema(request=VoucherActionInput, responses={201: schema.Reissued, **schema.refusals(409)})
    def post(self, request, pk):
        data = valid(VoucherActionInput, request)
        member = request.member
        tz = member.merchant.tz
        old, new = services.voucher_reissue(member=member, voucher_id=pk, reason=data["reason"])
        return Response(
            {
                "ok": True, "result": "reissued",
                "message": _("A new voucher was issued for this order; the old code no longer works."),
                "voucher": present.voucher_data(old, tz),
                "new_voucher": {**present.voucher_data(new, tz), **present.issued_voucher_data(new, tz, request.build_absolute_uri)},
            },
            status=201,
        )


class VoucherQRView(ApiView):
    """The voucher's QR (its buyer-page address), for printing or sending to the buyer."""

    roles = OWNER
    fmt = None

    def perform_content_negotiation(self, request, force=False):
        # A browser asks for image/*; errors still answer in JSON.
        return super().perform_content_negotiation(request, force=True)

    def get(self, request, pk):
        voucher = Voucher.objects.filter(merchant=request.member.merchant, pk=pk).first() or not_found()
        image, content_type = qr_image(request.build_absolute_uri(f"/v/{voucher.token}/"), self.fmt)
        return HttpResponse(image, content_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


@extend_schema_view(get=extend_schema(responses={(200, "image/svg+xml"): OpenApiTypes.BINARY}))
class VoucherSvgView(VoucherQRView):
    fmt = "svg"


@extend_schema_view(get=extend_schema(responses={(200, "image/png"): OpenApiTypes.BINARY}))
class VoucherPngView(VoucherQRView):
    fmt = "png"


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


class VoucherImportView(ApiView):
    """Owner: import third-party card codes from a CSV (UTF-8, or GB18030 as Excel saves it). All rows or none."""

    roles = OWNER

    @extend_schema(request={"multipart/form-data": ImportInput}, responses={201: schema.Imported, 422: schema.FileRefused})
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
