"""Reports (owner, manager): redemption lists, stats per staff, store and product, CSV export."""

import csv
import io
from decimal import Decimal

from django.http import StreamingHttpResponse
from django.utils.translation import gettext as _
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_view
from rest_framework.response import Response

from redemption import codes, present, selectors
from redemption.api import schema
from redemption.api.common import RANGE_PARAMETERS, date_range, local_date
from redemption.models import Product
from staff.apikit import ApiView, Pagination, optional_int, paginate
from staff.models import Membership, Store
from staff.permissions import OWNER_MANAGER


def redemption_row(tz):
    def shape(redemption):
        row = present.redemption_data(redemption, tz)
        row["product"] = {"id": redemption.voucher.product_id, "name": redemption.voucher.product.name}
        return row

    return shape


class RedemptionListView(ApiView):
    """Redemptions in the caller's stores, newest first; ?store=&staff=&from=&to= (local dates)."""

    roles = OWNER_MANAGER
    pagination_class = Pagination

    @extend_schema(
        parameters=[
            OpenApiParameter("store", int), OpenApiParameter("staff", int),
            OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
        ],
        responses=schema.RedemptionRow(many=True),
    )
    def get(self, request):
        member = request.member
        params = request.query_params
        filters = {name: optional_int(params, name) for name in ("store", "staff")}
        day_from = local_date(params["from"], "from") if params.get("from") else None
        day_to = local_date(params["to"], "to") if params.get("to") else None
        qs = selectors.redemption_list(member=member, day_from=day_from, day_to=day_to, **filters)
        return paginate(self, request, qs, redemption_row(member.merchant.tz))


class StatsView(ApiView):
    """Per staff member (`by = "staff"`) or per store, over local days; owners and managers."""

    roles = OWNER_MANAGER
    by = None

    def get(self, request):
        member = request.member
        tz = member.merchant.tz
        day_from, day_to = date_range(request.query_params, tz)
        rows = selectors.redemption_stats(member=member, by=self.by, day_from=day_from, day_to=day_to,
                                          store=optional_int(request.query_params, "store"))
        if self.by == "staff":
            names = {m.id: present.staff_ref(m) for m in Membership.objects.filter(pk__in=rows)}
        else:
            names = {s.id: present.store_ref(s) for s in Store.objects.filter(pk__in=rows)}
        result = [
            {self.by: names[id_], **{k: present.when(v, tz) if k.endswith("_at") else v for k, v in row.items()}}
            for id_, row in rows.items()
        ]
        result.sort(key=lambda r: (-r["uses"], r[self.by]["id"]))
        return Response(result)


STATS_PARAMETERS = [*RANGE_PARAMETERS, OpenApiParameter("store", int)]


@extend_schema_view(get=extend_schema(parameters=STATS_PARAMETERS, responses=schema.StaffStats(many=True)))
class StaffStatsView(StatsView):
    by = "staff"


@extend_schema_view(get=extend_schema(parameters=STATS_PARAMETERS, responses=schema.StoreStats(many=True)))
class StoreStatsView(StatsView):
    by = "store"


class ProductStatsView(ApiView):
    roles = OWNER_MANAGER

    @extend_schema(parameters=RANGE_PARAMETERS, responses=schema.ProductStats(many=True))
    def get(self, request):
        merchant = request.member.merchant
        day_from, day_to = date_range(request.query_params, merchant.tz)
        figures = selectors.product_stats(merchant=merchant, day_from=day_from, day_to=day_to)
        result = []
        for product in Product.objects.filter(pk__in=figures):
            f = figures[product.id]
            median = f.pop("median_hours", None)
            standing = f["issued"] - f["voided"]
            result.append({
                "product": {"id": product.id, "name": product.name}, **f,
                "redemption_rate": round(f["redeemed"] / standing, 4) if standing else 0,
                "median_hours_to_redeem": round(median, 2) if median is not None else None,
            })
        return Response(sorted(result, key=lambda r: r["product"]["id"]))


class ExportView(ApiView):
    """Redemptions as CSV for reconciliation (对账): Excel in China opens UTF-8 with a BOM."""

    roles = OWNER_MANAGER

    def perform_content_negotiation(self, request, force=False):
        return super().perform_content_negotiation(request, force=True)

    @extend_schema(parameters=[*RANGE_PARAMETERS, OpenApiParameter("store", int), OpenApiParameter("staff", int)],
                   responses={(200, "text/csv"): OpenApiTypes.BINARY})
    def get(self, request):
        member = request.member
        tz = member.merchant.tz
        params = request.query_params
        day_from, day_to = date_range(params, tz)
        qs = selectors.redemption_list(member=member, day_from=day_from, day_to=day_to,
                                       store=optional_int(params, "store"), staff=optional_int(params, "staff"))
        response = StreamingHttpResponse(csv_rows(qs.iterator(chunk_size=2000), tz), content_type="text/csv; charset=utf-8")
        response["Content-Disposition"] = f'attachment; filename="redemptions-{day_from}-{day_to}.csv"'
        return response


def csv_rows(redemptions, tz):
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow([_("time"), _("store"), _("staff"), _("code"), _("order number"), _("product"), _("uses"),
                     _("face value"), _("reversed")])
    yield "\ufeff" + buffer.getvalue()
    for r in redemptions:
        buffer.seek(0)
        buffer.truncate()
        product = r.voucher.product
        value = r.value.quantize(Decimal("0.01"))
        writer.writerow([
            r.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), r.store.name, r.staff.display_name,
            codes.mask(r.voucher.code), r.voucher.order_no, product.name, r.uses, value,
            _("yes") if r.reversed_at else _("no"),
        ])
        yield buffer.getvalue()
