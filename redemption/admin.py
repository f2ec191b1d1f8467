"""The merchant's goods in the admin: products, vouchers (search by order number or code tail;
void, freeze, unfreeze), redemptions and attempts (read-only). Scoped as staff.admin scopes every
merchant's data; voucher codes stay masked everywhere."""

from django.contrib import admin
from django.db.models import Q
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.translation import gettext, gettext_lazy as _, ngettext

from redemption import codes, services
from redemption.reasons import Refusal
from redemption.models import Attempt, Product, Redemption, Voucher, VoucherStatus
from staff.admin import MerchantScopedAdmin, ReadOnlyScopedAdmin, report_changes
from staff.admin_site import owner_membership
from staff.models import Membership, Role


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
