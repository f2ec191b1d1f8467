"""Serializers that describe the answers in the OpenAPI schema. The answers themselves are built
by redemption.present, which is faster on the redeem path; tests/test_schema_truth.py holds every
answer of every operation to these descriptions."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, PolymorphicProxySerializer
from rest_framework import serializers

from redemption.models import Channel, VoucherStatus
from redemption.services.offline import KDF
from redemption.reasons import REASONS
from redemption.selectors import ORDER_STATUSES
from staff.apikit import Error


class IdName(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StaffRef(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class VoucherOut(serializers.Serializer):
    id = serializers.IntegerField()
    code_masked = serializers.CharField(help_text="The last 4 characters; never the whole code.")
    product = IdName()
    uses_total = serializers.IntegerField()
    uses_left = serializers.IntegerField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=VoucherStatus.values)
    order_no_masked = serializers.CharField()
    buyer_phone_masked = serializers.CharField(allow_blank=True, help_text="Empty when no phone number is known.")


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    uses = serializers.IntegerField()
    store = IdName()
    staff = StaffRef()
    code_masked = serializers.CharField()
    reversed = serializers.BooleanField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    offline = serializers.BooleanField(help_text="Taken by a device while the shop was offline, uploaded later.")
    scanned_at = serializers.DateTimeField(allow_null=True, help_text="Offline only: when the device scanned it; `at` is when the server recorded it.")


class RedemptionRow(RedemptionOut):
    """A redemption in a list: with the product it was of."""

    product = IdName()


class OrderVoucher(serializers.Serializer):
    id = serializers.IntegerField()
    code_masked = serializers.CharField()
    product = IdName()
    uses_left = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VoucherStatus.values)
    result = serializers.CharField(help_text="What one use here and now would answer: redeemable, or the refusal's reason.")


class Order(serializers.Serializer):
    order_no_masked = serializers.CharField()
    channel = serializers.CharField()
    vouchers = OrderVoucher(many=True, help_text="Every voucher of the order, the scanned one included, by id.")


class Outcome(serializers.Serializer):
    """Check and redeem: what the clerk's screen shows."""

    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["redeemable", "redeemed"])
    message = serializers.CharField(help_text="A sentence for the clerk, in the request's language.")
    store = IdName(help_text="The store the code was checked or redeemed at.")
    redemption = RedemptionOut(required=False, help_text="Redeem only.")
    voucher = VoucherOut()
    order = Order(required=False, help_text="Check only: the voucher's order, when it holds several vouchers.")


class OrderOutcome(serializers.Serializer):
    """A whole order redeemed: one redemption per voucher, by voucher id."""

    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["redeemed"])
    message = serializers.CharField(help_text="A sentence for the clerk, in the request's language.")
    store = IdName()
    redemptions = RedemptionOut(many=True)
    vouchers = VoucherOut(many=True)


class Lookup(serializers.Serializer):
    results = VoucherOut(many=True, help_text="At most 20, newest order first; codes and phone numbers masked.")


class Reversed(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["reversed"])
    message = serializers.CharField(help_text="A sentence for the clerk, in the request's language.")
    redemption = RedemptionOut()
    voucher = VoucherOut()


class LastRedemption(serializers.Serializer):
    at = serializers.DateTimeField()
    store = IdName()
    staff = StaffRef()


class OrderRefusal(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.CharField()


class Refused(Error):
    """A refusal, with the facts behind it where there are any."""

    result = serializers.CharField(help_text="The reason: " + ", ".join(REASONS) + ".")
    message = serializers.CharField(help_text="A sentence for the clerk, in the request's language.")
    voided_at = serializers.DateTimeField(required=False, help_text="voided")
    valid_from = serializers.DateTimeField(required=False, help_text="not_yet_valid")
    valid_until = serializers.DateTimeField(required=False, help_text="expired")
    uses_left = serializers.IntegerField(required=False, help_text="insufficient_uses")
    last_redemption = LastRedemption(required=False, allow_null=True, help_text="already_redeemed")
    retry_after = serializers.IntegerField(required=False, help_text="throttled: seconds (also in Retry-After)")
    next_at = serializers.DateTimeField(required=False, help_text="outside_hours, too_soon, daily_limit: the earliest moment it would be allowed")
    refused = OrderRefusal(many=True, required=False, help_text="A whole order: every voucher that could not be redeemed")
    order = Order(required=False, help_text="Check: the voucher's order, when it holds several vouchers.")
    voucher = VoucherOut(required=False, help_text="The voucher refused, where the caller may see it.")


def refusals(*statuses):
    """The documented answers for these refusal statuses (see redemption.reasons)."""
    return {status: Refused for status in statuses}


class Mine(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()
    uses = serializers.IntegerField()
    results = RedemptionRow(many=True)


class IssuedVoucher(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField(help_text="The whole code, for the buyer.")
    code_display = serializers.CharField(help_text="The code grouped by 4 for reading.")
    voucher_url = serializers.URLField(help_text="The buyer's page.")
    qr_url = serializers.URLField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    uses_left = serializers.IntegerField()
    status = serializers.ChoiceField(choices=VoucherStatus.values)


class Issued(serializers.Serializer):
    ok = serializers.BooleanField()
    vouchers = IssuedVoucher(many=True)


class VoucherChanged(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["void", "freeze", "unfreeze"], help_text="The action done.")
    message = serializers.CharField(help_text="A sentence for the owner, in the request's language.")
    voucher = VoucherOut()


class NewVoucher(VoucherOut, IssuedVoucher):
    """The fresh voucher of a reissue (补发): as listed, and with its whole code for the buyer."""


class Reissued(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.ChoiceField(choices=["reissued"])
    message = serializers.CharField(help_text="A sentence for the owner, in the request's language.")
    voucher = VoucherOut(help_text="The old voucher, now voided.")
    new_voucher = NewVoucher()


class Figures(serializers.Serializer):
    redemptions = serializers.IntegerField()
    uses = serializers.IntegerField()
    face_value_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    refused_attempts = serializers.IntegerField()
    reversed = serializers.IntegerField()
    first_at = serializers.DateTimeField(allow_null=True)
    last_at = serializers.DateTimeField(allow_null=True)


class StaffStats(Figures):
    staff = StaffRef()


class StoreStats(Figures):
    store = IdName()


class ProductStats(serializers.Serializer):
    product = IdName()
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    redemption_rate = serializers.FloatField(min_value=0, max_value=1)
    voided = serializers.IntegerField()
    expired_unused = serializers.IntegerField()
    median_hours_to_redeem = serializers.FloatField(allow_null=True)


class Imported(serializers.Serializer):
    ok = serializers.BooleanField()
    count = serializers.IntegerField()


class IssuedFile(serializers.Serializer):
    ok = serializers.BooleanField()
    batch = serializers.IntegerField()
    orders = serializers.IntegerField(help_text="Orders in the file (rows of one order number count once).")
    vouchers = serializers.IntegerField(help_text="Vouchers in the delivery file: issued now, and those of repeated orders.")
    repeated = serializers.IntegerField(help_text="Orders issued before (by the API or an earlier file): nothing new "
                                        "was issued for them, their vouchers are in the delivery file.")
    delivery_url = serializers.URLField(help_text="The delivery file (CSV, UTF-8 with BOM), owner only.")
    delivery_xlsx_url = serializers.URLField(help_text="The same as an Excel workbook.")


class BadLine(serializers.Serializer):
    line = serializers.IntegerField(help_text="The line number in the file, the header being line 1.")
    message = serializers.CharField()


class FileRefused(Error):
    """Nothing was imported: every bad line, and why."""

    errors = BadLine(many=True)


class Caps(serializers.Serializer):
    max_redemptions = serializers.IntegerField()
    max_value = serializers.DecimalField(max_digits=10, decimal_places=2)


class SnapshotProduct(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    face_value = serializers.DecimalField(max_digits=10, decimal_places=2)
    uses_per_voucher = serializers.IntegerField()


class SnapshotVoucher(serializers.Serializer):
    h = serializers.CharField(help_text=(
        "32 hex digits: the first 16 bytes of HMAC-SHA256, under the snapshot's key, of the code's digest "
        "(PBKDF2-HMAC-SHA256 of the normalised code in UTF-8, as `kdf` says, 32 bytes)."))
    t = serializers.CharField(help_text="Hex HMAC-SHA256 of the buyer page's token (UTF-8) under the snapshot's key, "
                                        "for a scan of the buyer's QR code.")
    uses_left = serializers.IntegerField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    product = SnapshotProduct()
    status = serializers.ChoiceField(choices=VoucherStatus.values)


class Kdf(serializers.Serializer):
    name = serializers.ChoiceField(choices=[KDF])
    salt = serializers.CharField(help_text="32 hex digits: the merchant's salt (its bytes); it does not change.")
    iterations = serializers.IntegerField()


class Snapshot(serializers.Serializer):
    store = IdName()
    issued_at = serializers.DateTimeField()
    expires_at = serializers.DateTimeField()
    caps = Caps(help_text="What this device may take offline before it syncs.")
    key = serializers.CharField(help_text="64 hex digits: the HMAC key of this snapshot only (its bytes).")
    kdf = Kdf(help_text="How a code's digest is derived, before the HMAC.")
    vouchers = SnapshotVoucher(many=True)


class CompactNames(serializers.Serializer):
    h = serializers.IntegerField(help_text="How many hex digits of each code's name (`h` of the full format) are kept.")
    t = serializers.IntegerField(help_text="How many hex digits of each token's name (`t` of the full format) are kept.")


class CompactSnapshot(Snapshot):
    format = serializers.ChoiceField(choices=["compact"])
    names = CompactNames()
    products = SnapshotProduct(many=True)
    statuses = serializers.ListField(child=serializers.ChoiceField(choices=VoucherStatus.values))
    vouchers = serializers.ListField(child=serializers.ListField(child=serializers.JSONField()), help_text=(
        "Each voucher as [h, t, uses_left, valid_from, valid_until, product, status]: its names' first "
        "`names` hex digits, valid_from and valid_until in seconds since the epoch or null, the index of its "
        "product in `products` and of its status in `statuses`."))


AnySnapshot = PolymorphicProxySerializer(
    component_name="AnySnapshot", serializers=[Snapshot, CompactSnapshot], resource_type_field_name=None,
)

SNAPSHOT_HEADERS = [
    OpenApiParameter("If-None-Match", str, OpenApiParameter.HEADER, required=False,
                     description="The ETag of the list the device holds: 304 when it is unchanged."),
    OpenApiParameter("ETag", str, OpenApiParameter.HEADER, response=[200, 304], required=True,
                     description="The version of the list (weak: each answer has a fresh key)."),
    OpenApiParameter("Offline-Expires-At", str, OpenApiParameter.HEADER, response=[304], required=True,
                     description="Until when the device holds the list it kept, its key included."),
    OpenApiParameter("Offline-Issued-At", str, OpenApiParameter.HEADER, response=[304], required=True,
                     description="From when the device holds the list it kept."),
]

NOT_MODIFIED = OpenApiResponse(description="The list is unchanged: keep it and its key, now held until Offline-Expires-At.")


class UploadResult(serializers.Serializer):
    idempotency_key = serializers.CharField()
    result = serializers.CharField(help_text=(
        "redeemed, or the reason the server could not redeem it (a conflict). `throttled`: the member is "
        "locked out after too many unknown codes; the item was not judged, keep it and send it again after "
        "`retry_after` seconds. A device that held no snapshot of the store when it scanned hears "
        "`offline_cap` for every item it could not redeem."))
    redemption = RedemptionOut(required=False)
    voucher = VoucherOut(required=False)
    message = serializers.CharField(required=False, help_text="A conflict's title, in the request's language.")
    retry_after = serializers.IntegerField(required=False, help_text="With `throttled`: seconds to wait.")


class Uploaded(serializers.Serializer):
    results = UploadResult(many=True, help_text="One per item, in the order sent.")


class Conflict(serializers.Serializer):
    id = serializers.IntegerField()
    result = serializers.CharField()
    store = IdName()
    staff = StaffRef()
    device = serializers.CharField(help_text="The first 8 characters of the device's id.")
    code_masked = serializers.CharField()
    product = IdName(allow_null=True)
    uses = serializers.IntegerField()
    scanned_at = serializers.DateTimeField()
    uploaded_at = serializers.DateTimeField()
    settled_at = serializers.DateTimeField(allow_null=True)
    settled_by = StaffRef(allow_null=True)
    settle_note = serializers.CharField(allow_blank=True)


class Device(serializers.Serializer):
    device = serializers.CharField()
    store = IdName()
    staff = StaffRef()
    snapshot_issued_at = serializers.DateTimeField()
    snapshot_expires_at = serializers.DateTimeField()
    live = serializers.BooleanField(help_text="Its snapshot has not expired: it may still take redemptions offline.")
    last_upload_at = serializers.DateTimeField(allow_null=True)
    pending = serializers.IntegerField(help_text="What it said it still held when it last reached the server.")
    uploaded = serializers.IntegerField()
    uploaded_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    may_still_take = serializers.IntegerField()
    may_still_take_value = serializers.DecimalField(max_digits=14, decimal_places=2)


class Devices(serializers.Serializer):
    results = Device(many=True)
class OrderRow(serializers.Serializer):
    """An order: the vouchers of one channel and order number (核销回传)."""

    order_no = serializers.CharField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    vouchers = serializers.IntegerField(help_text="How many vouchers the order holds (a reissued one counts once).")
    uses_total = serializers.IntegerField()
    uses_used = serializers.IntegerField()
    status = serializers.ChoiceField(choices=ORDER_STATUSES)
    first_redeemed_at = serializers.DateTimeField(allow_null=True)
    last_redeemed_at = serializers.DateTimeField(allow_null=True)
    face_value_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    redeemed_value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="Of the standing redemptions.")


class StatementRow(serializers.Serializer):
    """对账单: one merchant-local day of one channel."""

    day = serializers.DateField()
    channel = serializers.ChoiceField(choices=Channel.choices)
    redemptions = serializers.IntegerField(help_text="Made that day, reversed since or not.")
    uses = serializers.IntegerField()
    value = serializers.DecimalField(max_digits=14, decimal_places=2)
    reversed = serializers.IntegerField(help_text="Of that day's redemptions, those reversed since.")
    reversed_value = serializers.DecimalField(max_digits=14, decimal_places=2)
    net_value = serializers.DecimalField(max_digits=14, decimal_places=2, help_text="value - reversed_value")


class HistoryVoucher(VoucherOut):
    channel = serializers.ChoiceField(choices=Channel.choices)


class HistoryEvent(serializers.Serializer):
    """One thing that happened to the voucher; the fields beside `at` and `type` depend on the type."""

    at = serializers.DateTimeField()
    type = serializers.ChoiceField(choices=["issued", "viewed", "checked", "refused", "redeemed", "reversed", "voided",
                                            "frozen", "unfrozen", "reissued", "revealed"])
    channel = serializers.ChoiceField(choices=Channel.choices, required=False, help_text="issued")
    order_no = serializers.CharField(required=False, help_text="issued")
    replaces_code_masked = serializers.CharField(required=False, allow_null=True, help_text="issued: a reissue of")
    last_at = serializers.DateTimeField(required=False, help_text="viewed: the last opening (`at` is the first)")
    count = serializers.IntegerField(required=False, help_text="viewed: how often the buyer page was opened")
    reason = serializers.CharField(required=False, allow_blank=True,
                                   help_text="refused: the refusal's code; reversed, voided: the reason given")
    kind = serializers.ChoiceField(choices=["check", "redeem"], required=False, help_text="refused")
    store = IdName(required=False, allow_null=True)
    staff = StaffRef(required=False, allow_null=True, help_text="Empty for the platform operator.")
    redemption = serializers.IntegerField(required=False, help_text="redeemed, reversed: the redemption's id")
    uses = serializers.IntegerField(required=False)
    new_code_masked = serializers.CharField(required=False, help_text="reissued")


class History(serializers.Serializer):
    voucher = HistoryVoucher()
    events = HistoryEvent(many=True)


class Revealed(serializers.Serializer):
    code = serializers.CharField()
    password = serializers.CharField(allow_blank=True, help_text="Empty when the voucher has none.")


class TokenScheme(OpenApiAuthenticationExtension):
    """`Authorization: Token <key>`: a device's token from POST /api/v1/auth/token/ (kept only hashed)."""

    target_class = "staff.auth.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")


class SessionScheme(OpenApiAuthenticationExtension):
    """The scanner's and the dashboard's session cookie (with CSRF)."""

    target_class = "staff.auth.SessionAuthentication"
    name = "cookieAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "apiKey", "in": "cookie", "name": "sessionid"}
