"""The merchant's goods in the admin: products, vouchers (search by order number or code tail;
void, freeze, unfreeze, reissue, export; each with its history), redemptions and attempts
(read-only, exportable). Scoped as staff.admin scopes every merchant's data; voucher codes stay
masked everywhere but in the one message that hands a reissued code to the owner."""

import csv
from decimal import Decimal
import io

from django import forms
from django.contrib import admin, messages
from django.db.models import Q
from django.http import HttpResponse
from django.urls import reverse
from django.utils import timezone
from django.utils.formats import date_format
from django.utils.html import format_html, format_html_join
from django.utils.safestring import mark_safe
from django.utils.translation import gettext, gettext_lazy as _, ngettext, pgettext

from redemption import codes, present, selectors, services
from redemption.reasons import Refusal
from redemption.models import ALL_WEEKDAYS, Attempt, Channel, Product, Redemption, Voucher, VoucherStatus
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
    actions = ["void", "freeze", "unfreeze", "reissue", "export"]
    fields = [
        "merchant", "masked_code", "product", "channel", "masked_order", "masked_phone", "status",
        "uses_left", "uses_total", "valid_from", "valid_until", "voided_at", "void_reason", "created_at", "history",
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

    @admin.action(description=_("Reissue the selected vouchers (补发)"), permissions=["change"])
    def reissue(self, request, queryset):
        """Each voucher voided and a fresh code issued for its order; the new codes are shown this once."""
        issued, skipped = [], 0
        for voucher in queryset:
            try:
                _old, new = services.voucher_reissue(member=acting_member(request, voucher), voucher_id=voucher.pk)
            except Refusal:
                skipped += 1
                continue
            issued.append((codes.mask(voucher.code), codes.group(new.code)))
        if issued:
            lines = format_html_join(mark_safe("<br>"), "{} → {}", issued)
            self.message_user(request, format_html(
                "{}<br>{}", gettext("New codes, shown only this once: give them to the buyers now."), lines),
                messages.SUCCESS)
        report_changes(self, request, len(issued), skipped)

    @admin.action(description=_("Export the selected vouchers (CSV)"), permissions=["view"])
    def export(self, request, queryset):
        channels = dict(Channel.choices)
        header = [pgettext("vouchers csv", "code"), pgettext("vouchers csv", "product"),
                  pgettext("vouchers csv", "channel"), pgettext("vouchers csv", "order number"),
                  pgettext("vouchers csv", "status"), pgettext("vouchers csv", "uses left"),
                  pgettext("vouchers csv", "uses"), pgettext("vouchers csv", "valid until"),
                  pgettext("vouchers csv", "issued")]
        rows = (
            [codes.mask(v.code), v.product.name, channels.get(v.channel, v.channel), v.order_no,
             VoucherStatus(v.status()).label, v.uses_left, v.uses_total, _local(v.valid_until), _local(v.created_at)]
            for v in queryset.select_related("product").order_by("id")
        )
        return csv_download(header, rows, "vouchers.csv")

    @admin.display(description=_("history"))
    def history(self, voucher):
        if voucher.pk is None:
            return ""
        data = selectors.voucher_history_data(voucher, voucher.merchant.tz)
        rows = format_html_join(
            "", "<tr><td>{}</td><td>{}</td><td>{}</td></tr>",
            ((present.local_text(e["at"]), present.EVENT_TITLES[e["type"]], present.event_details(e, mask_order=True)) for e in data["events"]),
        )
        link = reverse("dashboard-voucher-history", args=[voucher.pk])
        return format_html(
            '<p><a href="{}" target="_blank">{}</a></p><table><thead><tr><th>{}</th><th>{}</th><th>{}</th></tr>'
            "</thead><tbody>{}</tbody></table>",
            link, gettext("Printable history for a dispute"), gettext("Time"), gettext("Event"), gettext("Details"), rows,
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


def _local(moment):
    return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M:%S") if moment else ""


def csv_download(header, rows, filename):
    """A CSV for Excel as used in China (UTF-8 with a BOM)."""
    buffer = io.StringIO()
    buffer.write("\ufeff")
    writer = csv.writer(buffer)
    writer.writerow(header)
    writer.writerows(rows)
    response = HttpResponse(buffer.getvalue(), content_type="text/csv; charset=utf-8")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    return response


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
    actions = ["export"]

    @admin.action(description=_("Export the selected redemptions (CSV)"), permissions=["view"])
    def export(self, request, queryset):
        header = [pgettext("redemptions csv", "time"), pgettext("redemptions csv", "store"),
                  pgettext("redemptions csv", "staff"), pgettext("redemptions csv", "code"),
                  pgettext("redemptions csv", "order number"), pgettext("redemptions csv", "product"),
                  pgettext("redemptions csv", "uses"), pgettext("redemptions csv", "value"),
                  pgettext("redemptions csv", "reversed")]
        rows = (
            [_local(r.at), r.store.name, r.staff.display_name, codes.mask(r.voucher.code), r.voucher.order_no,
             r.voucher.product.name, r.uses, r.value.quantize(Decimal("0.01")), gettext("yes") if r.reversed_at else gettext("no")]
            for r in queryset.select_related("store", "staff", "voucher__product").order_by("at", "id")
        )
        return csv_download(header, rows, "redemptions.csv")

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
