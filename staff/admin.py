"""The admin site's merchant scoping, and the people and shops in it.

The platform operator (superuser) sees every merchant; a merchant's owner sees only their own;
managers and clerks never get in. Every model admin of a merchant's data builds on
MerchantScopedAdmin, so a foreign object's URL answers exactly as an unknown one. An owner adds
managers and clerks, sets their stores and role, and deactivates them; owners' own role and login
are the operator's to change."""

from django import forms
from django.contrib import admin, messages
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import SetPasswordMixin, UsernameField
from django.core.exceptions import ValidationError
from django.db.models import QuerySet
from knox.models import AuthToken
from rest_framework.authtoken.models import TokenProxy
from django.utils.translation import gettext, gettext_lazy as _

from staff import services
from staff.admin_site import owner_membership
from staff.models import Membership, Merchant, Role, Store


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


def report_changes(model_admin, request, done, skipped):
    text = gettext("%(done)d changed, %(skipped)d left as they were.") % {"done": done, "skipped": skipped}
    model_admin.message_user(request, text, messages.SUCCESS if done else messages.WARNING)


@admin.register(Merchant)
class MerchantAdmin(admin.ModelAdmin):
    """The operator's alone: ModelAdmin's model permissions leave owners out."""

    list_display = ["name", "time_zone", "created_at"]
    search_fields = ["name"]


@admin.register(Store)
class StoreAdmin(MerchantScopedAdmin):
    list_display = ["name", "address", "offline_enabled"]
    search_fields = ["name", "address"]
    fields = [
        "merchant", "name", "address",
        "offline_enabled", "offline_max_redemptions", "offline_max_value", "offline_snapshot_hours",
    ]

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if change and set(form.changed_data) & set(services.OFFLINE_RULE_FIELDS):
            services.store_offline_rule_changed(store=obj)


class StaffCreationForm(SetPasswordMixin, SameMerchantForm):
    username = UsernameField(label=_("username"), max_length=150)
    password1, password2 = SetPasswordMixin.create_password_fields()

    class Meta:
        model = Membership
        fields = ["merchant", "username", "password1", "password2", "display_name", "role", "stores"]

    def clean_username(self):
        username = self.cleaned_data["username"]
        if get_user_model().objects.filter(username__iexact=username).exists():
            raise ValidationError(_("A user with that username already exists."))
        return username

    def clean(self):
        cleaned = super().clean()
        self.validate_passwords()
        self.validate_password_for_user(get_user_model()(username=cleaned.get("username", "")))
        return cleaned


class StaffChangeForm(SameMerchantForm):
    new_password = forms.CharField(
        label=_("New password"), required=False, strip=False,
        widget=forms.PasswordInput(attrs={"autocomplete": "new-password"}),
        help_text=_("Leave empty to keep the current password."),
    )

    class Meta:
        model = Membership
        fields = ["merchant", "display_name", "role", "stores", "new_password"]

    def clean_new_password(self):
        password = self.cleaned_data["new_password"]
        if password:
            password_validation.validate_password(password, self.instance.user)
        return password


class OwnerMembershipForm(SameMerchantForm):
    class Meta:
        model = Membership
        fields = ["merchant", "display_name"]


@admin.register(Membership)
class StaffAdmin(MerchantScopedAdmin):
    list_display = ["display_name", "username", "role", "store_names", "active"]
    list_filter = ["role", "user__is_active"]
    list_select_related = ["user"]
    search_fields = ["display_name", "user__username"]
    filter_horizontal = ["stores"]
    actions = ["deactivate", "reactivate"]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("stores")

    def has_delete_permission(self, request, obj=None):
        # Redemptions and the attempt log point at the member: deactivate instead.
        return False

    def locked(self, request, obj):
        """An owner's role and login: an owner cannot demote or shut out themself or a co-owner."""
        return obj is not None and obj.is_owner and not request.user.is_superuser

    def get_form(self, request, obj=None, change=False, **kwargs):
        if obj is None:
            kwargs["form"] = StaffCreationForm
        else:
            kwargs["form"] = OwnerMembershipForm if self.locked(request, obj) else StaffChangeForm
        return super().get_form(request, obj, change, **kwargs)

    def form_fields(self, request, obj=None):
        if obj is None:
            return StaffCreationForm.Meta.fields
        if self.locked(request, obj):
            return ["merchant", "username", "display_name", "role", "active"]
        return ["merchant", "username", "display_name", "role", "stores", "active", "new_password"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return []
        return ["merchant", "username", "active", *(["role"] if self.locked(request, obj) else [])]

    def formfield_for_choice_field(self, db_field, request, **kwargs):
        if db_field.name == "role" and not request.user.is_superuser:
            kwargs["choices"] = [(role.value, role.label) for role in (Role.MANAGER, Role.CLERK)]
        return super().formfield_for_choice_field(db_field, request, **kwargs)

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        if not change:
            obj.user = get_user_model().objects.create_user(data["username"], password=data["password1"])
        super().save_model(request, obj, form, change)
        if change and data.get("new_password"):
            services.staff_update(member=obj, password=data["new_password"])

    @admin.display(description=_("username"), ordering="user__username")
    def username(self, member):
        return member.user.username

    @admin.display(description=_("stores"))
    def store_names(self, member):
        if member.is_owner:
            return gettext("all stores")
        return ", ".join(store.name for store in member.stores.all())

    @admin.display(description=_("Active"), boolean=True, ordering="user__is_active")
    def active(self, member):
        return member.user.is_active

    @admin.action(description=_("Deactivate the selected staff (they can no longer log in)"), permissions=["change"])
    def deactivate(self, request, queryset):
        self.set_active(request, queryset, False)

    @admin.action(description=_("Reactivate the selected staff"), permissions=["change"])
    def reactivate(self, request, queryset):
        self.set_active(request, queryset, True)

    def set_active(self, request, queryset, active):
        members = queryset.exclude(user=request.user)
        if not request.user.is_superuser:
            members = members.exclude(role=Role.OWNER)
        done = services.staff_set_active(members=members, active=active)
        report_changes(self, request, done, len(queryset) - done)


# API tokens are devices now, signed out from the dashboard or the API; knox keeps only their
# hashes, and the old token table is empty after the upgrade: neither is anything to edit here.
for _model in (TokenProxy, AuthToken):
    if admin.site.is_registered(_model):
        admin.site.unregister(_model)
