"""Issuing without a terminal: a platform's order export in, codes and the bulk-delivery file
(批量发货) out."""

import io

from django.http import HttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema
from openpyxl import Workbook
from rest_framework import serializers
from rest_framework.response import Response

from redemption import services
from redemption.api import schema
from redemption.api.backoffice import CsvView
from redemption.api.vouchers import MAX_IMPORT_BYTES, IssueInput
from redemption.models import Channel, IssueBatch
from staff.apikit import MAX_ID, ApiView, not_found, valid
from staff.permissions import OWNER

DELIVERY_HEADER = ["订单号", "券码", "券链接", "有效期至"]


class IssueFileInput(serializers.Serializer):
    file = serializers.FileField(help_text=(
        "The platform's order export as downloaded: CSV (UTF-8, with or without BOM, or GB18030) or XLSX "
        "(first sheet). Columns by header: 订单号/订单编号/主订单编号/order_no; 数量/商品数量/购买数量/quantity "
        "(1 when absent); 手机号/收货人手机/收货人电话/联系电话/买家手机号/buyer_phone (optional)."))
    product = serializers.IntegerField(min_value=1, max_value=MAX_ID)
    channel = serializers.ChoiceField(choices=Channel.choices)

    def validate_product(self, value):
        return IssueInput.validate_product(self, value)


class IssueFileView(ApiView):
    """Owner: codes for every order of a platform's order export, all orders or none; an order issued
    before (by the API or an earlier file) gets nothing new and counts as repeated."""

    roles = OWNER

    @extend_schema(request={"multipart/form-data": IssueFileInput},
                   responses={201: schema.IssuedFile, 422: schema.FileRefused, **schema.refusals(400, 403)})
    def post(self, request):
        data = valid(IssueFileInput, request)
        upload = data["file"]
        if upload.size > MAX_IMPORT_BYTES:
            raise serializers.ValidationError({"file": [_("The file is larger than 20 MB.")]})
        try:
            batch = services.vouchers_issue_file(
                member=request.member, product=data["product"], channel=data["channel"], raw=upload.read()
            )
        except services.ImportRefused as refused:
            return Response({"ok": False, "result": "invalid_file", "errors": refused.errors, "message": _(
                "Nothing was issued: fix the lines below and send the whole file again.")}, status=422)
        return Response({
            "ok": True, "batch": batch.pk, "orders": batch.orders, "vouchers": batch.vouchers,
            "repeated": batch.repeated, "delivery_url": request.build_absolute_uri(delivery_path(batch, "csv")),
            "delivery_xlsx_url": request.build_absolute_uri(delivery_path(batch, "xlsx")),
        }, status=201)


def delivery_path(batch, fmt):
    return f"/api/v1/vouchers/issue-file/{batch.pk}/delivery.{fmt}"


def _batch(request, pk):
    batch = IssueBatch.objects.filter(merchant_id=request.member.merchant_id, pk=pk).first()
    if batch is None:
        raise not_found()
    return batch


def _delivery_rows(request, batch):
    tz = request.member.merchant.tz
    for voucher in services.batch_vouchers(batch):
        until = voucher.valid_until.astimezone(tz).strftime("%Y-%m-%d %H:%M") if voucher.valid_until else ""
        yield [voucher.order_no, voucher.code, request.build_absolute_uri(f"/v/{voucher.token}/"), until]


class DeliveryCsvView(CsvView):
    """Owner: the batch's delivery file for the platform's 批量发货, whole codes: UTF-8 with BOM,
    `订单号,券码,券链接,有效期至`, one row per voucher still valid. Download it again any time."""

    roles = OWNER

    @extend_schema(responses={(200, "text/csv"): OpenApiTypes.BINARY, **schema.refusals(403, 404)})
    def get(self, request, pk):
        batch = _batch(request, pk)
        return self.csv_response(DELIVERY_HEADER, _delivery_rows(request, batch), f"delivery-{batch.pk}.csv")


class DeliveryXlsxView(CsvView):
    """Owner: the same delivery file as an Excel workbook, every cell text, so Excel keeps an
    18-digit order number and a 16-digit code whole."""

    roles = OWNER

    @extend_schema(responses={
        (200, "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"): OpenApiTypes.BINARY,
        **schema.refusals(403, 404)})
    def get(self, request, pk):
        batch = _batch(request, pk)
        book = Workbook(write_only=True)
        sheet = book.create_sheet("发货")
        sheet.append(DELIVERY_HEADER)
        for row in _delivery_rows(request, batch):
            sheet.append(row)
        buffer = io.BytesIO()
        book.save(buffer)
        response = HttpResponse(
            buffer.getvalue(), content_type="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
        response["Content-Disposition"] = f'attachment; filename="delivery-{batch.pk}.xlsx"'
        return response
