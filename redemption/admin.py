"""The admin site: the platform operator (superuser) sees every merchant; a merchant's owner sees
only their own. Managers and clerks never get in. Voucher codes stay masked everywhere."""

from django import forms
from django.contrib import admin, messages
from django.db.models import Q, QuerySet
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from redemption import codes, services
from redemption.admin_site import owner_membership
from redemption.models import Attempt, Merchant, Product, Redemption, Store, Voucher
from staff.models import Membership, Role


def owner_merchant_id(request):
    """The merchant an owner is confined to; None for the operator and for everybody else."""
    if request.user.is_superuser:
        return None
    member = owner_membership(request.user)
    return member.merchant_id if member else None


class SameMerchantForm(forms.ModelForm):
    """Refuses links across merchants: the operator's choices span every merchant's stores and products."""

    def clean(self):
        cleaned = super().clean()
        merchant = cleaned.get("merchant")
        merchant_id = merchant.pk if merchant else self.instance.merchant_id
        if merchant_id is not None:
            for name, value in list(cleaned.items()):
                if any(getattr(item, "merchant_id", merchant_id) != merchant_id for item in _as_list(value)):
                    self.add_error(name, _("This belongs to another merchant."))
        return cleaned


def _as_list(value):
    return list(value) if isinstance(value, QuerySet) else [value]


class MerchantScopedAdmin(admin.ModelAdmin):
    """An owner acts within their merchant only; the operator acts on every merchant."""

    form = SameMerchantForm

    def may(self, request, obj=None):
        user = request.user
        if not user.is_active:
            return False
        if user.is_superuser:
            return True
        merchant_id = owner_merchant_id(request)
        return merchant_id is not None and (obj is None or obj.merchant_id == merchant_id)

    def has_module_permission(self, request):
        return self.may(request)

    def has_view_permission(self, request, obj=None):
        return self.may(request, obj)

    def has_add_permission(self, request):
        return self.may(request)

    def has_change_permission(self, request, obj=None):
        return self.may(request, obj)

    def has_delete_permission(self, request, obj=None):
        return self.may(request, obj)

    def get_queryset(self, request):
        qs = super().get_queryset(request)
        if request.user.is_superuser:
            return qs
        merchant_id = owner_merchant_id(request)
        # Also what makes a foreign id in the URL answer exactly as an unknown one.
        return qs.filter(merchant_id=merchant_id) if merchant_id else qs.none()

    def get_fields(self, request, obj=None):
        fields = self.form_fields(request, obj)
        return fields if request.user.is_superuser else [f for f in fields if f != "merchant"]

    def form_fields(self, request, obj=None):
        """The fields to show, merchant included: owners never see it, it is set on save."""
        return super().get_fields(request, obj)

    def get_list_display(self, request):
        columns = super().get_list_display(request)
        return [*columns, "merchant"] if request.user.is_superuser else columns

    def get_list_filter(self, request):
        filters = super().get_list_filter(request)
        return ["merchant", *filters] if request.user.is_superuser else filters

    def save_model(self, request, obj, form, change):
        if not request.user.is_superuser:
            obj.merchant_id = owner_merchant_id(request)
        super().save_model(request, obj, form, change)

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        self._limit_choices(db_field, request, kwargs)
        return super().formfield_for_manytomany(db_field, request, **kwargs)

    def _limit_choices(self, db_field, request, kwargs):
        model = db_field.related_model
        merchant_id = owner_merchant_id(request)
        if merchant_id is not None and any(f.name == "merchant" for f in model._meta.fields):
            kwargs["queryset"] = model._default_manager.filter(merchant_id=merchant_id)


class ReadOnlyScopedAdmin(MerchantScopedAdmin):
    """Records of what happened: nobody rewrites them here."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    """The operator's alone: ModelAdmin's model permissions leave owners out."""

    list_display = ["name", "time_zone", "created_at"]
    search_fields = ["name"]


@admin.register(Store)
class StoreAdmin(MerchantScopedAdmin):
    list_display = ["name", "address"]
    search_fields = ["name", "address"]
    fields = ["merchant", "name", "address"]


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    list_display = ["name", "face_value", "uses_per_voucher", "validity"]
    search_fields = ["name"]
    filter_horizontal = ["stores"]

    @admin.display(description=_("validity"))
    def validity(self, product):
        parts = []
        if product.valid_from:
            parts.append(gettext("from %(date)s") % {"date": _day(product.valid_from)})
        if product.valid_until:
            parts.append(gettext("until %(date)s") % {"date": _day(product.valid_until)})
        if product.valid_days:
            days = product.valid_days
            parts.append(ngettext("%(days)d day from issue", "%(days)d days from issue", days) % {"days": days})
        return ", ".join(parts) or gettext("no limit")


def _day(moment):
    return date_format(timezone.localtime(moment), "SHORT_DATE_FORMAT")


STATUS_LABELS = {
    "active": Voucher.State.ACTIVE.label,
    "redeemed": _("Redeemed"),
    "expired": _("Expired"),
    "voided": Voucher.State.VOIDED.label,
    "frozen": Voucher.State.FROZEN.label,
}


@admin.register(Voucher)
class VoucherAdmin(MerchantScopedAdmin):
    list_display = ["masked_code", "product", "masked_order", "status", "uses", "valid_until"]
    list_filter = ["state", ("product", admin.RelatedOnlyFieldListFilter), "channel"]
    list_select_related = ["product"]
    # The search itself is get_search_results; a search field makes the admin show the box.
    search_fields = ["order_no"]
    search_help_text = _("Order number, or the last 4 or more characters of the code.")
    actions = ["void", "freeze", "unfreeze"]
    fields = [
        "merchant", "masked_code", "product", "channel", "masked_order", "masked_phone", "status",
        "uses_left", "uses_total", "valid_from", "valid_until", "voided_at", "void_reason", "created_at",
    ]
    readonly_fields = [f for f in fields if f not in ("valid_from", "valid_until")]

    def has_add_permission(self, request):
        # Codes come from issuing (services.voucher_issue), which a bare form would bypass.
        return False

    def has_delete_permission(self, request, obj=None):
        # Voiding keeps the record a dispute needs; deleting would lose it.
        return False

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if not term:
            return queryset, False
        tail = term.replace(" ", "").upper()
        # A tail shorter than the masked one matches too many codes to mean anything.
        code_matches = Q(code__endswith=tail) if len(tail) >= 4 else Q(pk__in=[])
        return queryset.filter(Q(order_no=term) | code_matches), False

    @admin.display(description=_("code"))
    def masked_code(self, voucher):
        return codes.mask(voucher.code)

    @admin.display(description=_("order number"))
    def masked_order(self, voucher):
        return codes.mask_order(voucher.order_no)

    @admin.display(description=_("buyer phone"))
    def masked_phone(self, voucher):
        return codes.mask_phone(voucher.buyer_phone)

    @admin.display(description=_("state"))
    def status(self, voucher):
        return STATUS_LABELS[voucher.status()]

    @admin.display(description=_("uses left"))
    def uses(self, voucher):
        return f"{voucher.uses_left} / {voucher.uses_total}"

    @admin.action(description=_("Void the selected vouchers"), permissions=["change"])
    def void(self, request, queryset):
        self._each(request, queryset, lambda member, v: services.voucher_void(member=member, voucher_id=v.pk))

    @admin.action(description=_("Freeze the selected vouchers"), permissions=["change"])
    def freeze(self, request, queryset):
        self._each(request, queryset, lambda member, v: services.voucher_freeze(member=member, voucher_id=v.pk))

    @admin.action(description=_("Unfreeze the selected vouchers"), permissions=["change"])
    def unfreeze(self, request, queryset):
        self._each(
            request, queryset,
            lambda member, v: services.voucher_freeze(member=member, voucher_id=v.pk, frozen=False),
        )

    def _each(self, request, queryset, act):
        """Run the service on each voucher, so events and webhooks follow as from the API."""
        done = skipped = 0
        for voucher in queryset:
            try:
                act(acting_member(request, voucher), voucher)
                done += 1
            except services.Refusal:
                skipped += 1
        report_changes(self, request, done, skipped)


def report_changes(model_admin, request, done, skipped):
    text = gettext("%(done)d changed, %(skipped)d left as they were.") % {"done": done, "skipped": skipped}
    model_admin.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


def acting_member(request, voucher):
    """The services act for a member of the voucher's merchant. The operator has no membership:
    an unsaved stand-in scopes and emits as the merchant, and would fail loudly if a service ever
    stored who acted, rather than putting the operator's act on the owner's name."""
    return owner_membership(request.user) or Membership(merchant=voucher.merchant, role=Role.OWNER)


@admin.register(Redemption)
class RedemptionAdmin(ReadOnlyScopedAdmin):
    list_display = ["at", "store", "staff", "masked_code", "product", "uses", "reversed"]
    list_filter = [("store", admin.RelatedOnlyFieldListFilter), ("staff", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["store", "staff", "voucher__product"]
    date_hierarchy = "at"
    fields = ["merchant", "at", "store", "staff", "voucher", "product", "uses",
              "reversed_at", "reversed_by", "reverse_reason"]

    @admin.display(description=_("code"))
    def masked_code(self, redemption):
        return codes.mask(redemption.voucher.code)

    @admin.display(description=_("product"))
    def product(self, redemption):
        return redemption.voucher.product

    @admin.display(description=_("reversed"), boolean=True)
    def reversed(self, redemption):
        return redemption.reversed


@admin.register(Attempt)
class AttemptAdmin(ReadOnlyScopedAdmin):
    list_display = ["at", "staff", "store", "kind", "input_masked", "result"]
    list_filter = ["kind", "result", ("store", admin.RelatedOnlyFieldListFilter)]
    list_select_related = ["staff", "store"]
    date_hierarchy = "at"
    fields = ["merchant", "at", "staff", "store", "voucher", "kind", "input_masked", "result"]
