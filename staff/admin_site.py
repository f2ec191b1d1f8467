"""The admin site itself: open to superusers and to merchant owners. It lives apart from the
ModelAdmin registrations so that building the default site never imports them half-way."""

from django.contrib import admin
from django.contrib.admin.forms import AdminAuthenticationForm
from django.contrib.auth.forms import AuthenticationForm
from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _


def owner_membership(user):
    """The user's membership when they own a merchant, else None."""
    member = getattr(user, "membership", None)
    return member if member is not None and member.is_owner else None


def may_use_admin(user):
    return user.is_active and (user.is_superuser or owner_membership(user) is not None)


class ScopedLoginForm(AdminAuthenticationForm):
    """Owners are not is_staff users: the admin's own login form would turn them away."""

    def confirm_login_allowed(self, user):
        AuthenticationForm.confirm_login_allowed(self, user)
        if not may_use_admin(user):
            raise ValidationError(
                self.error_messages["invalid_login"], code="invalid_login",
                params={"username": self.username_field.verbose_name},
            )


class UnknownUnlessVisible:
    """Mixed into every model admin of the site: objects a user may not view are not there at all,
    so their URLs (change, history, delete) answer exactly as an unknown id does, never 403."""

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        return queryset if self.has_view_or_change_permission(request) else queryset.none()


class ScopedAdminSite(admin.AdminSite):
    site_header = _("Redemption admin")
    site_title = _("Redemption admin")
    index_title = _("Merchant administration")
    site_url = "/staff/"
    login_form = ScopedLoginForm

    def has_permission(self, request):
        return may_use_admin(request.user)

    def register(self, model_or_iterable, admin_class=None, **options):
        admin_class = admin_class or admin.ModelAdmin
        hiding = type(admin_class.__name__, (UnknownUnlessVisible, admin_class), {"__module__": admin_class.__module__})
        super().register(model_or_iterable, hiding, **options)
