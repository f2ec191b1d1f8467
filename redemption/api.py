"""The REST API: each view validates input, calls a service or a selector, and shapes the answer."""

import csv
import datetime as dt
import io
from decimal import Decimal

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import transaction
from django.http import HttpResponse, StreamingHttpResponse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema, extend_schema_field, inline_serializer
import qrcode
from qrcode.image.pure import PyPNGImage
from qrcode.image.svg import SvgPathImage
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.views import APIView

from redemption import codes, present, schema, selectors, services, webhooks
from redemption.models import Channel, Product, Store, Voucher, Webhook
from staff import lockout
from staff import services as staff_services
from staff.models import Membership, Role
from staff.permissions import ALL_STAFF, OWNER, OWNER_MANAGER


# Ids are 64-bit in the database; anything larger is refused as input, not passed on to fail there.
MAX_ID = 2**63 - 1


def optional_int(params, name):
    """An id from the query string, or None; "¹" and "9" * 30 are refused, not crashed on."""
    value = params.get(name)
    if not value:
        return None
    if not (value.isascii() and value.isdigit() and int(value) <= MAX_ID):
        raise serializers.ValidationError({name: [_("A whole number is required.")]})
    return int(value)


def optional_text(params, name, max_length=64):
    value = params.get(name) or None
    if value is not None and ("\x00" in value or len(value) > max_length):
        raise serializers.ValidationError({name: [_("This value is not valid.")]})
    return value


class Pagination(PageNumberPagination):
    page_size = 50
    page_size_query_param = "page_size"
    max_page_size = 500


def paginate(view, request, queryset, shape):
    paginator = Pagination()
    page = paginator.paginate_queryset(queryset, request, view=view)
    return paginator.get_paginated_response([shape(item) for item in page])


def local_date(value, field):
    try:
        return dt.date.fromisoformat(value)
    except (TypeError, ValueError):
        raise serializers.ValidationError({field: [_("Enter a date as YYYY-MM-DD.")]}) from None


@extend_schema_field(OpenApiTypes.DATETIME)
class LocalDateTimeField(serializers.Field):
    """Takes YYYY-MM-DD (the start of that day, or its end with end_of_day) or a full ISO 8601 time,
    in the merchant's time zone."""

    default_error_messages = {"invalid": gettext_lazy("Enter a date as YYYY-MM-DD or a time as ISO 8601.")}

    def __init__(self, *, end_of_day=False, **kwargs):
        self.end_of_day = end_of_day
        super().__init__(**kwargs)

    def to_internal_value(self, value):
        tz = self.context["tz"]
        if not isinstance(value, str):
            self.fail("invalid")
        try:
            if len(value) == 10:
                day = dt.date.fromisoformat(value)
                return dt.datetime.combine(day, dt.time.max if self.end_of_day else dt.time.min, tzinfo=tz)
            moment = dt.datetime.fromisoformat(value)
        except ValueError:
            self.fail("invalid")
        return moment if moment.tzinfo else moment.replace(tzinfo=tz)

    def to_representation(self, value):
        return present.when(value, self.context["tz"])


def code_input(data):
    """The scanned or typed code as text; numbers pass (a JSON client may send digits as one)."""
    value = data.get("code", "")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    return value


class RedeemInput(serializers.Serializer):
    code = serializers.JSONField(required=False, allow_null=True, help_text="The code as typed or scanned, or a buyer QR payload.")
    uses = serializers.IntegerField(required=False, default=1, min_value=1, max_value=1000)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)
    idempotency_key = serializers.CharField(required=False, allow_null=True, allow_blank=True, max_length=64)


class CheckInput(serializers.Serializer):
    code = serializers.JSONField(required=False, allow_null=True)
    store = serializers.IntegerField(required=False, allow_null=True, default=None, min_value=1, max_value=MAX_ID)


OUTCOME_SCHEMA = {200: schema.Outcome, **schema.REFUSALS}


def outcome_response(request, outcome):
    tz = request.member.merchant.tz
    body = {
        "ok": True,
        "result": outcome.result,
        "message": _("Redeemed.") if outcome.result == "redeemed" else _("Valid: can be redeemed."),
        "store": present.store_data(outcome.store),
        "voucher": present.voucher_data(outcome.voucher, tz),
    }
    if outcome.redemption is not None:
        body["redemption"] = present.redemption_data(outcome.redemption, tz)
    return Response(body)


class CheckView(APIView):
    """Look a code up without redeeming it: for the confirm step before the final tap."""

    roles = ALL_STAFF

    @extend_schema(request=CheckInput, responses=OUTCOME_SCHEMA)
    def post(self, request):
        data = valid(CheckInput, request)
        outcome = services.voucher_check(member=request.member, raw_code=code_input(request.data), store_id=data["store"])
        return outcome_response(request, outcome)


class RedeemView(APIView):
    """Redeem a code. Refusals answer with a stable `result` and a sentence for the clerk."""

    roles = ALL_STAFF

    @extend_schema(request=RedeemInput, responses=OUTCOME_SCHEMA)
    def post(self, request):
        data = valid(RedeemInput, request)
        outcome = services.voucher_redeem(
            member=request.member,
            raw_code=code_input(request.data),
            uses=data["uses"],
            store_id=data["store"],
            idempotency_key=data.get("idempotency_key") or None,
        )
        return outcome_response(request, outcome)


def valid(serializer_class, request, **context):
    if not isinstance(request.data, dict):
        raise serializers.ValidationError({"body": [_("Send a JSON object.")]})
    serializer = serializer_class(data=request.data, context={"request": request, **context})
    serializer.is_valid(raise_exception=True)
    return serializer.validated_data


class ReverseInput(serializers.Serializer):
    reason = serializers.CharField(required=False, allow_blank=True, max_length=200, default="")


class ReverseView(APIView):
    roles = ALL_STAFF

    @extend_schema(request=ReverseInput, responses=OUTCOME_SCHEMA)
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


def redemption_row(tz):
    def shape(redemption):
        row = present.redemption_data(redemption, tz)
        row["product"] = {"id": redemption.voucher.product_id, "name": redemption.voucher.product.name}
        return row

    return shape


class RedemptionListView(APIView):
    """Redemptions in the caller's stores, newest first; ?store=&staff=&from=&to= (local dates)."""

    roles = OWNER_MANAGER

    @extend_schema(
        parameters=[
            OpenApiParameter("store", int), OpenApiParameter("staff", int),
            OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE),
            OpenApiParameter("page", int),
        ],
        responses=schema.RedemptionOut(many=True),
    )
    def get(self, request):
        member = request.member
        params = request.query_params
        filters = {name: optional_int(params, name) for name in ("store", "staff")}
        day_from = local_date(params["from"], "from") if params.get("from") else None
        day_to = local_date(params["to"], "to") if params.get("to") else None
        qs = selectors.redemption_list(member=member, day_from=day_from, day_to=day_to, **filters)
        return paginate(self, request, qs, redemption_row(member.merchant.tz))


class MineView(APIView):
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


# --- merchant set-up (owner) ---


class StoreSerializer(serializers.ModelSerializer):
    class Meta:
        model = Store
        fields = ["id", "name", "address"]


class StoreListView(APIView):
    roles = OWNER

    @extend_schema(responses=StoreSerializer(many=True))
    def get(self, request):
        return Response(StoreSerializer(request.member.merchant.stores.all(), many=True).data)

    @extend_schema(request=StoreSerializer, responses={201: StoreSerializer})
    def post(self, request):
        data = valid(StoreSerializer, request)
        store = Store.objects.create(merchant=request.member.merchant, **data)
        return Response(StoreSerializer(store).data, status=201)


class StoresField(serializers.ListField):
    """A list of store ids, each one of the caller's merchant."""

    child = serializers.IntegerField(min_value=1, max_value=MAX_ID)

    def to_internal_value(self, data):
        ids = set(super().to_internal_value(data))
        merchant = self.context["request"].member.merchant
        stores = list(Store.objects.filter(merchant=merchant, pk__in=ids))
        if len(stores) != len(ids):
            raise serializers.ValidationError(_("Unknown store."))
        return stores

    def to_representation(self, stores):
        return sorted(store.id for store in stores.all())


def staff_data(member):
    return {
        "id": member.id,
        "username": member.user.username,
        "display_name": member.display_name,
        "role": member.role,
        "stores": sorted(s.id for s in member.stores.all()),
        "is_active": member.user.is_active,
    }


class StaffInput(serializers.Serializer):
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150)
    password = serializers.CharField(max_length=128, write_only=True)
    display_name = serializers.CharField(max_length=50)
    role = serializers.ChoiceField(choices=[Role.CLERK, Role.MANAGER])
    stores = StoresField(required=False, default=list)

    def validate_username(self, value):
        if get_user_model().objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("This username is taken."))
        return value

    def validate(self, data):
        try:
            validate_password(data["password"], get_user_model()(username=data["username"]))
        except DjangoValidationError as error:
            raise serializers.ValidationError({"password": list(error.messages)}) from None
        return data


class StaffPatch(serializers.Serializer):
    is_active = serializers.BooleanField(required=False)
    role = serializers.ChoiceField(choices=[Role.CLERK, Role.MANAGER], required=False)
    stores = StoresField(required=False)
    password = serializers.CharField(max_length=128, required=False, write_only=True)
    display_name = serializers.CharField(max_length=50, required=False)


def staff_queryset(merchant):
    return Membership.objects.filter(merchant=merchant).select_related("user").prefetch_related("stores")


class StaffListView(APIView):
    roles = OWNER

    @extend_schema(responses=schema.StaffOut(many=True))
    def get(self, request):
        return Response([staff_data(m) for m in staff_queryset(request.member.merchant)])

    @extend_schema(request=StaffInput, responses={201: schema.StaffOut})
    def post(self, request):
        data = valid(StaffInput, request)
        member = staff_services.staff_create(merchant=request.member.merchant, **data)
        return Response(staff_data(staff_queryset(request.member.merchant).get(pk=member.pk)), status=201)


class StaffDetailView(APIView):
    roles = OWNER

    def get_member(self, request, pk):
        return staff_queryset(request.member.merchant).filter(pk=pk).first() or _not_found()

    @extend_schema(responses=schema.StaffOut, operation_id="v1_staff_member_retrieve")
    def get(self, request, pk):
        return Response(staff_data(self.get_member(request, pk)))

    @extend_schema(request=StaffPatch, responses=schema.StaffOut)
    def patch(self, request, pk):
        member = self.get_member(request, pk)
        data = valid(StaffPatch, request)
        if member.is_owner and (data.get("role") or data.get("is_active") is False):
            raise serializers.ValidationError({"role": [_("The owner's role cannot be changed here.")]})
        user = member.user
        if "password" in data:
            try:
                validate_password(data["password"], user)
            except DjangoValidationError as error:
                raise serializers.ValidationError({"password": list(error.messages)}) from None
        with transaction.atomic():
            if "is_active" in data:
                user.is_active = data["is_active"]
                if not user.is_active:
                    # Tokens go at once; sessions fail on the next request since the user is inactive.
                    Token.objects.filter(user=user).delete()
            if "password" in data:
                user.set_password(data["password"])
            user.save()
            for name in ("role", "display_name"):
                if name in data:
                    setattr(member, name, data[name])
            member.save()
            if "stores" in data:
                member.stores.set(data["stores"])
        return Response(staff_data(self.get_member(request, pk)))


def _not_found():
    raise NotFound()


class ProductSerializer(serializers.ModelSerializer):
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


class ProductListView(APIView):
    roles = OWNER

    def context(self, request):
        return {"request": request, "tz": request.member.merchant.tz}

    @extend_schema(responses=ProductSerializer(many=True))
    def get(self, request):
        products = request.member.merchant.products.prefetch_related("stores")
        return Response(ProductSerializer(products, many=True, context=self.context(request)).data)

    @extend_schema(request=ProductSerializer, responses={201: ProductSerializer})
    def post(self, request):
        data = valid(ProductSerializer, request, tz=request.member.merchant.tz)
        stores = data.pop("stores")
        with transaction.atomic():
            product = Product.objects.create(merchant=request.member.merchant, **data)
            product.stores.set(stores)
        return Response(ProductSerializer(product, context=self.context(request)).data, status=201)


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


class TokenView(APIView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=inline_serializer("TokenInput", {"username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()})},
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"body": [_("Send a JSON object.")]})
        username, password = request.data.get("username"), request.data.get("password")
        if not all(isinstance(v, str) and v and "\x00" not in v for v in (username, password)):
            raise serializers.ValidationError({"username": [_("Enter a username and a password.")]})
        wait = lockout.locked_for(username)
        if wait:
            return Response(
                {"ok": False, "result": "throttled", "retry_after": wait,
                 "message": _("Too many wrong passwords. Try again in %(minutes)s minutes.") % {"minutes": (wait + 59) // 60}},
                status=429, headers={"Retry-After": str(wait)},
            )
        user = authenticate(request, username=username, password=password)
        if user is None:
            return Response(
                {"ok": False, "result": "invalid_credentials", "message": _("Wrong username or password.")},
                status=400,
            )
        lockout.forget(username)
        token, _created = Token.objects.get_or_create(user=user)
        return Response({"token": token.key})


class PingView(APIView):
    """The cheapest JSON answer the server stack can give: the floor the benchmark compares with."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(responses=schema.Ping)
    def get(self, request):
        return Response({"ok": True})


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
        voucher = Voucher.objects.filter(merchant=request.member.merchant, pk=pk).first() or _not_found()
        image, content_type = qr_image(request.build_absolute_uri(f"/v/{voucher.token}/"), fmt)
        return HttpResponse(image, content_type=content_type, headers={"Cache-Control": "private, max-age=3600"})


def qr_image(text, fmt):
    factory, content_type = (SvgPathImage, "image/svg+xml") if fmt == "svg" else (PyPNGImage, "image/png")
    buffer = io.BytesIO()
    qrcode.make(text, image_factory=factory, box_size=10, border=2).save(buffer)
    return buffer.getvalue(), content_type


def date_range(params, tz):
    """?from=&to= as local days; today when left out."""
    today = timezone.now().astimezone(tz).date()
    day_from = local_date(params["from"], "from") if params.get("from") else today
    day_to = local_date(params["to"], "to") if params.get("to") else max(day_from, today)
    if day_to < day_from:
        raise serializers.ValidationError({"to": [_("The end of the range is before its start.")]})
    if (day_to - day_from).days > 366:
        raise serializers.ValidationError({"to": [_("Ask for at most one year at a time.")]})
    return day_from, day_to




RANGE_PARAMETERS = [OpenApiParameter("from", OpenApiTypes.DATE), OpenApiParameter("to", OpenApiTypes.DATE)]


class StatsView(APIView):
    """Per staff member (`by = "staff"`) or per store, over local days; owners and managers."""

    roles = OWNER_MANAGER
    by = None

    @extend_schema(parameters=[*RANGE_PARAMETERS, OpenApiParameter("store", int)], responses=schema.StaffStats(many=True))
    def get(self, request):
        member = request.member
        tz = member.merchant.tz
        day_from, day_to = date_range(request.query_params, tz)
        rows = selectors.redemption_stats(member=member, by=self.by, day_from=day_from, day_to=day_to,
                                          store=optional_int(request.query_params, "store"))
        if self.by == "staff":
            names = {m.id: present.staff_data(m) for m in Membership.objects.filter(pk__in=rows)}
        else:
            names = {s.id: present.store_data(s) for s in Store.objects.filter(pk__in=rows)}
        result = [
            {self.by: names[id_], **{k: present.when(v, tz) if k.endswith("_at") else v for k, v in row.items()}}
            for id_, row in rows.items()
        ]
        result.sort(key=lambda r: (-r["uses"], r[self.by]["id"]))
        return Response(result)


class ProductStatsView(APIView):
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


class ExportView(APIView):
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


class WebhookSerializer(serializers.ModelSerializer):
    events = serializers.ListField(
        child=serializers.ChoiceField(choices=Webhook.EVENTS), allow_empty=False, max_length=len(Webhook.EVENTS)
    )

    class Meta:
        model = Webhook
        fields = ["id", "url", "events", "secret", "is_active", "created_at"]
        read_only_fields = ["secret", "created_at"]

    def validate_url(self, value):
        problem = webhooks.target_problem(value)
        if problem:
            raise serializers.ValidationError(problem)
        return value

    def validate_events(self, value):
        return sorted(set(value))


class WebhookListView(APIView):
    """Owner: where events are POSTed, signed with the webhook's secret (X-Signature: sha256=<hex>)."""

    roles = OWNER

    @extend_schema(responses=WebhookSerializer(many=True))
    def get(self, request):
        return Response(WebhookSerializer(request.member.merchant.webhooks.all(), many=True).data)

    @extend_schema(request=WebhookSerializer, responses={201: WebhookSerializer})
    def post(self, request):
        data = valid(WebhookSerializer, request)
        hook = Webhook.objects.create(merchant=request.member.merchant, **data)
        return Response(WebhookSerializer(hook).data, status=201)


class WebhookDetailView(APIView):
    roles = OWNER

    @extend_schema(responses={204: None})
    def delete(self, request, pk):
        deleted, _rows = Webhook.objects.filter(merchant=request.member.merchant, pk=pk).delete()
        if not deleted:
            _not_found()
        return Response(status=204)


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
