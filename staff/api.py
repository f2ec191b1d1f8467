"""The staff side of the API: API tokens, and the owner's set-up of stores and staff."""

from django.contrib.auth import authenticate, get_user_model, logout
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.utils.translation import gettext as _
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import NotAuthenticated
from rest_framework.permissions import AllowAny
from rest_framework.response import Response

from staff import devices, lockout, present, services
from staff.apikit import MAX_ID, ApiView, Error, Pagination, Throttled, not_found, paginate, valid
from staff.models import Device, Membership, Role, Store
from staff.permissions import OWNER, OWNER_MANAGER, Forbidden


class SignedOut(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["signed_out"])


class TokenInput(serializers.Serializer):
    username = serializers.CharField()
    password = serializers.CharField()
    name = serializers.CharField(required=False, allow_blank=True, max_length=100,
                                 help_text="What to call this device in the owner's list (default: from the User-Agent).")


class TokenView(ApiView):
    """POST: a username and password for an API token; every call makes a new token, a device of
    its own, and earlier ones keep working. DELETE: sign out the calling device (its token, or its
    session)."""

    permission_classes = [AllowAny]

    def perform_authentication(self, request):
        # Signing in takes no credentials but the body's (a stale token in the header is ignored);
        # signing out is by the caller's own.
        if request.method != "POST":
            super().perform_authentication(request)

    @extend_schema(
        request=TokenInput,
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
        name = request.data.get("name")
        name = name if isinstance(name, str) and name.strip() else devices.device_name(request.META.get("HTTP_USER_AGENT", ""))
        return Response({"token": devices.token_for(user, name=name.strip())})

    @extend_schema(request=None, responses={200: SignedOut, **{401: Error}})
    def delete(self, request):
        if request.user is None or not request.user.is_authenticated:
            raise NotAuthenticated()
        device = Device.objects.filter(pk=devices.calling_device_id(request)).first()
        if device is not None:
            devices.device_sign_out(device=device)
        elif request.auth is not None:
            request.auth.delete()  # a token without a device (made outside the API): it goes all the same
        if request.auth is None:
            logout(request._request)
        return Response({"ok": True, "result": "signed_out"})


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
    username = serializers.RegexField(r"^[\w.@+-]{1,150}$", max_length=150, required=False,
                                      help_text="Left out: one is made up (the member signs in by QR).")
    password = serializers.CharField(max_length=128, write_only=True, required=False,
                                     help_text="Left out: no password; the member signs in by a sign-in QR.")
    display_name = serializers.CharField(max_length=50)
    role = serializers.ChoiceField(choices=[Role.CLERK, Role.MANAGER])
    stores = StoresField(required=False, default=list)

    def validate_username(self, value):
        if get_user_model().objects.filter(username__iexact=value).exists():
            raise serializers.ValidationError(_("This username is taken."))
        return value

    def validate(self, data):
        if "password" in data:
            _password_problems(data["password"], get_user_model()(username=data.get("username", "")))
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


class DeviceOut(serializers.Serializer):
    id = serializers.IntegerField()
    current = serializers.BooleanField(help_text="The device making this request.")
    staff = inline_serializer("DeviceStaff", {"id": serializers.IntegerField(), "display_name": serializers.CharField()})
    how = serializers.ChoiceField(choices=Device.How.choices)
    name = serializers.CharField()
    created_at = serializers.DateTimeField()
    last_seen_at = serializers.DateTimeField()


class DeviceListView(ApiView):
    """Owner: every member's signed-in devices; manager: their own and their stores' clerks'.
    Most recently seen first."""

    roles = OWNER_MANAGER
    pagination_class = Pagination

    @extend_schema(responses=DeviceOut(many=True))
    def get(self, request):
        tz, current = request.member.merchant.tz, devices.calling_device_id(request)
        return paginate(self, request, devices.devices_for(request.member),
                        lambda d: present.device_data(d, tz, current))


class DeviceSignOutView(ApiView):
    """Owner, manager (their own and their clerks' devices): sign one device out. Its token or
    session answers 401 from now on and its open dashboard closes; the member's other devices go on."""

    roles = OWNER_MANAGER

    @extend_schema(request=None, responses={200: DeviceOut, **{404: Error}})
    def post(self, request, pk):
        device = (Device.objects.select_related("member").filter(member__merchant_id=request.member.merchant_id, pk=pk)
                  .first() or not_found())
        if not devices.may_manage(request.member, device.member):
            raise Forbidden()
        devices.device_sign_out(device=device)
        return Response(present.device_data(device, request.member.merchant.tz))


class SigninQrOut(serializers.Serializer):
    url = serializers.URLField(help_text="The sign-in link, for one use (the QR holds it).")
    qr_url = serializers.URLField()
    expires_at = serializers.DateTimeField()


class SigninQrView(ApiView):
    """Owner: a sign-in QR for any active clerk or manager; manager: for the clerks of their stores.
    One use within 10 minutes; making a new one voids the last."""

    roles = OWNER_MANAGER

    @extend_schema(request=None, responses={201: SigninQrOut, **{404: Error}})
    def post(self, request, pk):
        caller = request.member
        member = (Membership.objects.select_related("user").filter(merchant_id=caller.merchant_id, pk=pk).first()
                  or not_found())
        may = devices.may_manage(caller, member) and member.pk != caller.pk and (
            member.role == Role.CLERK or (caller.is_owner and member.role == Role.MANAGER))
        if not may or not member.user.is_active:
            raise Forbidden()
        link, token = devices.signin_link_create(member=member, by=caller)
        url = request.build_absolute_uri(f"/s/{token}/")
        return Response({"url": url, "qr_url": url + "qr.svg",
                         "expires_at": link.expires_at.astimezone(caller.merchant.tz).isoformat()}, status=201)
