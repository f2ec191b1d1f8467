"""The merchant's goods in the admin: products, vouchers (search by order number or code tail;
void, freeze, unfreeze), redemptions and attempts (read-only). Scoped as staff.admin scopes every
merchant's data; voucher codes stay masked everywhere."""

from django import forms
from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from redemption import codes, services
from redemption.reasons import Refusal
from redemption.models import ALL_WEEKDAYS, Attempt, Product, Redemption, Voucher, VoucherStatus
from staff.admin import MerchantScopedAdmin, ReadOnlyScopedAdmin, SameMerchantForm, report_changes
from staff.admin_site import owner_membership
from staff.models import Membership, Role


WEEKDAYS = [(1, _("Monday")), (2, _("Tuesday")), (3, _("Wednesday")), (4, _("Thursday")), (5, _("Friday")),
            (6, _("Saturday")), (7, _("Sunday"))]


class ProductForm(SameMerchantForm):
    """The redeemable weekdays as seven boxes to tick, kept as the product's bit mask."""

    weekdays = forms.TypedMultipleChoiceField(
        label=_("weekdays"), choices=WEEKDAYS, coerce=int, required=False, widget=forms.CheckboxSelectMultiple,
        help_text=_("The days the hours below apply to. The voucher cannot be used on the others."),
    )

    class Meta:
        model = Product
        exclude = ["hours_weekdays"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        mask = self.instance.hours_weekdays if self.instance.pk else ALL_WEEKDAYS
        self.initial.setdefault("weekdays", [day for day, _name in WEEKDAYS if mask & (1 << (day - 1))])

    def clean(self):
        data = super().clean()
        start, end = data.get("hours_from"), data.get("hours_until")
        if (start is None) != (end is None):
            raise forms.ValidationError(_("Give both the time the hours start and the time they end, or neither."))
        if start is not None and end <= start:
            self.add_error("hours_until", _("The hours must end after they start, on the same day."))
        if start is not None and not data.get("weekdays"):
            self.add_error("weekdays", _("Tick at least one day."))
        return data

    def save(self, commit=True):
        self.instance.hours_weekdays = sum(1 << (day - 1) for day in self.cleaned_data.get("weekdays") or range(1, 8))
        return super().save(commit)


@admin.register(Product)
class ProductAdmin(MerchantScopedAdmin):
    form = ProductForm
    list_display = ["name", "face_value", "uses_per_voucher", "validity", "rules"]
    search_fields = ["name"]
    filter_horizontal = ["stores"]
    fieldsets = [
        (None, {"fields": ["name", "face_value", "uses_per_voucher", "stores", "require_live_qr", "instructions"]}),
        (_("Validity"), {"fields": ["valid_from", "valid_until", "valid_days"]}),
        (_("Redemption rules"), {
            "fields": ["max_uses_per_day", "min_minutes_between_uses", "weekdays", "hours_from", "hours_until"],
            "description": _("Leave empty for no rule. Times are the shop's local time; the end time is not included."),
        }),
    ]

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if request.user.is_superuser:  # the platform operator also picks the merchant
            fieldsets = [(None, {"fields": ["merchant", *fieldsets[0][1]["fields"]]}), *fieldsets[1:]]
        return fieldsets

    @admin.display(description=_("rules"))
    def rules(self, product):
        parts = []
        if product.max_uses_per_day:
            parts.append(ngettext("%(n)d a day", "%(n)d a day", product.max_uses_per_day) % {"n": product.max_uses_per_day})
        if product.min_minutes_between_uses:
            parts.append(gettext("%(n)d min apart") % {"n": product.min_minutes_between_uses})
        hours = product.redeemable_hours
        if hours:
            days = "".join(str(d) for d in hours["weekdays"]) if len(hours["weekdays"]) < 7 else ""
            parts.append(f"{hours['from']}–{hours['until']}" + (f" ({gettext('days')} {days})" if days else ""))
        return ", ".join(parts) or "—"

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
        return VoucherStatus(voucher.status()).label

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
            except Refusal:
                skipped += 1
        report_changes(self, request, done, skipped)


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
