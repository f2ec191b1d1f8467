"""The owner's back office: orders for 核销回传, the daily statement (对账单), a voucher's history as
dispute evidence, and the reveal of an imported card's code and password."""

import csv
import io

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from django.utils.translation import pgettext
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers
from rest_framework.response import Response

from redemption import present, selectors, services
from redemption.api import schema
from redemption.api.common import RANGE_PARAMETERS, date_range, local_date
from redemption.models import Channel, Voucher
from redemption.reasons import Refusal
from staff.apikit import ApiView, Pagination, optional_int, optional_text
from staff.permissions import OWNER, OWNER_MANAGER

ORDER_PARAMETERS = [
    OpenApiParameter("channel", str, enum=Channel.values),
    OpenApiParameter("status", str, enum=selectors.ORDER_STATUSES),
    OpenApiParameter("from", OpenApiTypes.DATE, description="the last redemption's local day, from"),
    OpenApiParameter("to", OpenApiTypes.DATE, description="the last redemption's local day, to"),
    OpenApiParameter("q", str, description="order number, or the last 4 or more characters of a code"),
]


def choice(params, name, choices):
    value = params.get(name) or None
    if value is not None and value not in choices:
        raise serializers.ValidationError({name: [_("Unknown value: choose one of %(choices)s.") % {"choices": ", ".join(choices)}]})
    return value


def order_filters(request):
    params = request.query_params
    day_from = local_date(params["from"], "from") if params.get("from") else None
    day_to = local_date(params["to"], "to") if params.get("to") else None
    if day_from and day_to and day_to < day_from:
        raise serializers.ValidationError({"to": [_("The end of the range is before its start.")]})
    q = optional_text(params, "q")
    return {
        "channel": choice(params, "channel", Channel.values), "status": choice(params, "status", selectors.ORDER_STATUSES),
        "day_from": day_from, "day_to": day_to, "q": q.strip() if q and q.strip() else None,
    }


class _Page:
    """One page of orders and the count of all, fetched in one query: what Django's Paginator asks
    of a list (count, then a slice), without counting the orders a second time."""

    def __init__(self, fetch, offset, limit):
        self.fetch = fetch
        self.rows, self.total = fetch((offset, limit))
        self.offset = offset

    def count(self):
        return self.total

    def __len__(self):
        return self.total

    def __getitem__(self, window):
        start, stop = window.start or 0, window.stop
        if start != self.offset:
            rows, _total = self.fetch((start, stop - start))
            return rows
        return self.rows[: stop - start]


class OrderListView(ApiView):
    """Orders (vouchers sharing a channel and order number), the most recently redeemed first."""

    roles = OWNER_MANAGER
    pagination_class = Pagination

    @extend_schema(parameters=ORDER_PARAMETERS, responses=schema.OrderRow(many=True))
    def get(self, request):
        member = request.member
        filters = order_filters(request)
        paginator = self.pagination_class()
        size = paginator.get_page_size(request)
        number = request.query_params.get(paginator.page_query_param, "1")
        offset = (int(number) - 1) * size if number.isascii() and number.isdigit() and int(number) >= 1 else 0
        page = _Page(lambda window: selectors.order_list(member=member, page=window, **filters), offset, size)
        tz = member.merchant.tz
        rows = paginator.paginate_queryset(page, request, view=self)
        return paginator.get_paginated_response([present.order_row_data(row, tz) for row in rows])


class CsvView(ApiView):
    """A CSV file for Excel as used in China: UTF-8 with a BOM."""

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    def csv_response(self, header, rows, filename):
        response = StreamingHttpResponse(csv_lines(header, rows), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="{filename}"'
        return response


def csv_lines(header, rows):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(header)
    yield "\ufeff" + buffer.getvalue()
    for row in rows:
        buffer.seek(0)
        buffer.truncate()
        writer.writerow(row)
        yield buffer.getvalue()


def local_time(moment, tz):
    return moment.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


class OrderExportView(CsvView):
    """The orders as CSV, with the list's filters: what a merchant uploads to a platform (核销回传)."""

    roles = OWNER_MANAGER

    @extend_schema(parameters=ORDER_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request):
        member = request.member
        tz = member.merchant.tz
        rows, _total = selectors.order_list(member=member, **order_filters(request))
        channels = dict(Channel.choices)
        header = [
            pgettext("orders csv", "order number"),
            pgettext("orders csv", "channel"),
            pgettext("orders csv", "vouchers"),
            pgettext("orders csv", "uses"),
            pgettext("orders csv", "uses used"),
            pgettext("orders csv", "status"),
            pgettext("orders csv", "first redeemed"),
            pgettext("orders csv", "last redeemed"),
            pgettext("orders csv", "face value"),
            pgettext("orders csv", "redeemed value"),
        ]
        lines = (
            [r["order_no"], channels.get(r["channel"], r["channel"]), r["vouchers"], r["uses_total"], r["uses_used"],
             str(present.ORDER_STATUS_LABELS[r["status"]]), local_time(r["first_at"], tz), local_time(r["last_at"], tz),
             r["face_value_total"], r["redeemed_value"]]
            for r in rows
        )
        return self.csv_response(header, lines, "orders.csv")


STATEMENT_PARAMETERS = [*RANGE_PARAMETERS, OpenApiParameter("channel", str, enum=Channel.values),
                        OpenApiParameter("store", int)]


def statement(request):
    member = request.member
    params = request.query_params
    day_from, day_to = date_range(params, member.merchant.tz)
    rows = selectors.daily_statement(member=member, day_from=day_from, day_to=day_to,
                                     channel=choice(params, "channel", Channel.values), store=optional_int(params, "store"))
    return rows, day_from, day_to


class DailyStatementView(ApiView):
    """对账单: per merchant-local day and channel, what was redeemed, reversed since, and the net."""

    roles = OWNER_MANAGER

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses=schema.StatementRow(many=True))
    def get(self, request):
        rows, _from, _to = statement(request)
        return Response([present.statement_data(row) for row in rows])


class DailyStatementCsvView(CsvView):
    roles = OWNER_MANAGER

    @extend_schema(parameters=STATEMENT_PARAMETERS, responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request):
        rows, day_from, day_to = statement(request)
        channels = dict(Channel.choices)
        header = [
            pgettext("statement csv", "date"),
            pgettext("statement csv", "channel"),
            pgettext("statement csv", "redemptions"),
            pgettext("statement csv", "uses"),
            pgettext("statement csv", "value"),
            pgettext("statement csv", "reversed"),
            pgettext("statement csv", "reversed value"),
            pgettext("statement csv", "net value"),
        ]
        lines = (
            [r["day"].isoformat(), channels.get(r["channel"], r["channel"]), r["redemptions"], r["uses"], r["value"],
             r["reversed"], r["reversed_value"], r["net_value"]]
            for r in rows
        )
        return self.csv_response(header, lines, f"statement-{day_from}-{day_to}.csv")


def owned_voucher(request, pk):
    """The caller's merchant's voucher; another merchant's id answers as an unknown one."""
    voucher = (
        Voucher.objects.select_related("product", "replaces")
        .filter(merchant_id=request.member.merchant_id, pk=pk).first()
    )
    if voucher is None:
        raise Refusal("not_found")
    return voucher


class VoucherHistoryView(ApiView):
    """Owner: everything that happened to one voucher, oldest first: the evidence for a dispute."""

    roles = OWNER

    @extend_schema(responses=schema.History)
    def get(self, request, pk):
        voucher = owned_voucher(request, pk)
        return Response(selectors.voucher_history_data(voucher, request.member.merchant.tz))


class VoucherRevealView(ApiView):
    """Owner: the whole code and card password of a voucher, once per request, and recorded."""

    roles = OWNER

    @extend_schema(request=None, responses=schema.Revealed)
    def post(self, request, pk):
        voucher, password = services.voucher_reveal(member=request.member, voucher_id=pk)
        return Response({"code": voucher.code, "password": password}, headers={"Cache-Control": "no-store"})
