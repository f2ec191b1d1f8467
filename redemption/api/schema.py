"""Serializers that describe the answers in the OpenAPI schema. The answers themselves are built
by redemption.present, which is faster on the redeem path; tests check the two agree."""

from rest_framework import serializers

from redemption.reasons import REASONS


class IdName(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class StaffRef(serializers.Serializer):
    id = serializers.IntegerField()
    display_name = serializers.CharField()


class VoucherOut(serializers.Serializer):
    id = serializers.IntegerField()
    code_masked = serializers.CharField()
    product = IdName()
    uses_total = serializers.IntegerField()
    uses_left = serializers.IntegerField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    status = serializers.ChoiceField(choices=["active", "redeemed", "expired", "voided", "frozen"])
    order_no_masked = serializers.CharField()
    buyer_phone_masked = serializers.CharField()


class RedemptionOut(serializers.Serializer):
    id = serializers.IntegerField()
    at = serializers.DateTimeField()
    uses = serializers.IntegerField()
    store = IdName()
    staff = StaffRef()
    code_masked = serializers.CharField()
    reversed = serializers.BooleanField()
    reversed_at = serializers.DateTimeField(allow_null=True)
    product = IdName(required=False)


class Outcome(serializers.Serializer):
    ok = serializers.BooleanField()
    result = serializers.CharField(help_text="redeemed, redeemable or reversed; on refusal the reason code")
    message = serializers.CharField(help_text="a sentence for the clerk, in the request's language")
    store = IdName(required=False)
    redemption = RedemptionOut(required=False)
    voucher = VoucherOut()


class Refused(serializers.Serializer):
    ok = serializers.BooleanField(default=False)
    result = serializers.CharField(help_text="the reason: " + ", ".join(REASONS))
    message = serializers.CharField(help_text="a sentence for the clerk, in the request's language")


class Mine(serializers.Serializer):
    date = serializers.DateField()
    count = serializers.IntegerField()
    uses = serializers.IntegerField()
    results = RedemptionOut(many=True)


class IssuedVoucher(serializers.Serializer):
    id = serializers.IntegerField()
    code = serializers.CharField()
    code_display = serializers.CharField()
    voucher_url = serializers.URLField()
    qr_url = serializers.URLField()
    valid_from = serializers.DateTimeField(allow_null=True)
    valid_until = serializers.DateTimeField(allow_null=True)
    uses_left = serializers.IntegerField()
    status = serializers.CharField()


class Issued(serializers.Serializer):
    ok = serializers.BooleanField()
    vouchers = IssuedVoucher(many=True)


REFUSALS = {status: Refused for status in sorted({reason.status for reason in REASONS.values()})}


class StaffStats(serializers.Serializer):
    staff = StaffRef(required=False)
    store = IdName(required=False)
    redemptions = serializers.IntegerField()
    uses = serializers.IntegerField()
    face_value_total = serializers.DecimalField(max_digits=14, decimal_places=2)
    refused_attempts = serializers.IntegerField()
    reversed = serializers.IntegerField()
    first_at = serializers.DateTimeField(allow_null=True)
    last_at = serializers.DateTimeField(allow_null=True)


class ProductStats(serializers.Serializer):
    product = IdName()
    issued = serializers.IntegerField()
    redeemed = serializers.IntegerField()
    redemption_rate = serializers.FloatField()
    voided = serializers.IntegerField()
    expired_unused = serializers.IntegerField()
    median_hours_to_redeem = serializers.FloatField(allow_null=True)


class Imported(serializers.Serializer):
    ok = serializers.BooleanField()
    count = serializers.IntegerField()
