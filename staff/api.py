"""The staff side of the API: API tokens, and the owner's set-up of stores and staff."""

from django.contrib.auth import authenticate, get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.authtoken.models import Token
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from staff import lockout, present, services
from staff.apikit import MAX_ID, ApiView, Throttled, not_found, valid
from staff.models import Membership, Role, Store
from staff.permissions import OWNER


class TokenView(ApiView):
    """Exchange a username and password for an API token."""

    permission_classes = [AllowAny]
    authentication_classes = []

    @extend_schema(
        request=inline_serializer("TokenInput", {"username": serializers.CharField(), "password": serializers.CharField()}),
        responses={200: inline_serializer("TokenOutput", {"token": serializers.CharField()}), 429: Throttled},
    )
    def post(self, request):
        if not isinstance(request.data, dict):
            raise serializers.ValidationError({"body": [_("Send a JSON object.")]})
        username, password = request.data.get("username"), request.data.get("password")
        if not all(isinstance(v, str) and v and "\x00" not in v for v in (username, password)):
            raise serializers.ValidationError({"username": [_("Enter a username and a password.")]})
        wait = lockout.locked_for(username, request)
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


class StoreInput(serializers.Serializer):
    name = serializers.CharField(max_length=100)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True, default="")


class StoreOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    address = serializers.CharField()
    offline_enabled = serializers.BooleanField()
    offline_max_redemptions = serializers.IntegerField()
    offline_max_value = serializers.DecimalField(max_digits=10, decimal_places=2)
    offline_snapshot_hours = serializers.IntegerField()


class StoreChange(serializers.Serializer):
    """Any of these; what is left out stays as it is."""

    name = serializers.CharField(max_length=100, required=False)
    address = serializers.CharField(max_length=200, required=False, allow_blank=True)
    offline_enabled = serializers.BooleanField(required=False)
    offline_max_redemptions = serializers.IntegerField(min_value=0, max_value=10000, required=False)
    offline_max_value = serializers.DecimalField(max_digits=10, decimal_places=2, min_value=0, required=False)
    offline_snapshot_hours = serializers.IntegerField(min_value=1, max_value=168, required=False)


class StoreDetailView(ApiView):
    """Owner: one store, and its offline switch and caps."""

    roles = OWNER

    def store(self, request, pk):
        return Store.objects.filter(merchant=request.member.merchant, pk=pk).first() or not_found()

    @extend_schema(responses=StoreOut, operation_id="v1_store_retrieve")
    def get(self, request, pk):
        return Response(present.store_data(self.store(request, pk)))

    @extend_schema(request=StoreChange, responses=StoreOut)
    def patch(self, request, pk):
        store = self.store(request, pk)
        store = services.store_update(store=store, **valid(StoreChange, request))
        return Response(present.store_data(store))


class StoreListView(ApiView):
    roles = OWNER

    @extend_schema(responses=StoreOut(many=True))
    def get(self, request):
        return Response([present.store_data(s) for s in request.member.merchant.stores.all()])

    @extend_schema(request=StoreInput, responses={201: StoreOut})
    def post(self, request):
        store = services.store_create(merchant=request.member.merchant, **valid(StoreInput, request))
        return Response(present.store_data(store), status=201)


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


def _password_problems(password, user):
    try:
        validate_password(password, user)
    except DjangoValidationError as error:
        raise serializers.ValidationError({"password": list(error.messages)}) from None


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
        _password_problems(data["password"], get_user_model()(username=data["username"]))
        return data


class OptionalBoolean(serializers.BooleanField):
    # DRF reads a checkbox left out of a form as false; here a field left out changes nothing.
    default_empty_html = serializers.empty


class StaffPatch(serializers.Serializer):
    is_active = OptionalBoolean(required=False)
    role = serializers.ChoiceField(choices=[Role.CLERK, Role.MANAGER], required=False)
    stores = StoresField(required=False)
    password = serializers.CharField(max_length=128, required=False, write_only=True)
    display_name = serializers.CharField(max_length=50, required=False)


class StaffOut(serializers.Serializer):
    id = serializers.IntegerField()
    username = serializers.CharField()
    display_name = serializers.CharField()
    role = serializers.CharField()
    stores = serializers.ListField(child=serializers.IntegerField())
    is_active = serializers.BooleanField()


def staff_queryset(merchant):
    return Membership.objects.filter(merchant=merchant).select_related("user").prefetch_related("stores")


class StaffListView(ApiView):
    roles = OWNER

    @extend_schema(responses=StaffOut(many=True))
    def get(self, request):
        return Response([present.member_data(m) for m in staff_queryset(request.member.merchant)])

    @extend_schema(request=StaffInput, responses={201: StaffOut})
    def post(self, request):
        data = valid(StaffInput, request)
        member = services.staff_create(merchant=request.member.merchant, **data)
        return Response(present.member_data(staff_queryset(request.member.merchant).get(pk=member.pk)), status=201)


class StaffDetailView(ApiView):
    roles = OWNER

    def get_member(self, request, pk):
        return staff_queryset(request.member.merchant).filter(pk=pk).first() or not_found()

    @extend_schema(responses=StaffOut, operation_id="v1_staff_member_retrieve")
    def get(self, request, pk):
        return Response(present.member_data(self.get_member(request, pk)))

    @extend_schema(request=StaffPatch, responses=StaffOut)
    def patch(self, request, pk):
        member = self.get_member(request, pk)
        data = valid(StaffPatch, request)
        if member.is_owner and (data.get("role") or data.get("is_active") is False):
            raise serializers.ValidationError({"role": [_("The owner's role cannot be changed here.")]})
        if "password" in data:
            _password_problems(data["password"], member.user)
        services.staff_update(member=member, **data)
        return Response(present.member_data(self.get_member(request, pk)))
