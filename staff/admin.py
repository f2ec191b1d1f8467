"""Staff in the admin: an owner adds managers and clerks, sets their stores and role, and
deactivates them. Owners' own role and login are the platform operator's to change."""

from django import forms
from django.contrib import admin
from django.contrib.auth import get_user_model, password_validation
from django.contrib.auth.forms import SetPasswordMixin, UsernameField
from django.core.exceptions import ValidationError
from django.utils.translation import gettext, gettext_lazy as _

from redemption.admin import MerchantScopedAdmin, SameMerchantForm, report_changes
from staff.models import Membership, Role


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
        elif data.get("new_password"):
            obj.user.set_password(data["new_password"])
            obj.user.save(update_fields=["password"])
        super().save_model(request, obj, form, change)

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
        done = get_user_model().objects.filter(membership__in=members).update(is_active=active)
        report_changes(self, request, done, len(queryset) - done)
