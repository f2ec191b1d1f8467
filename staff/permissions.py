"""Who may do what, in one place: each view names the roles it admits in `roles`."""

from django.core.exceptions import ObjectDoesNotExist
from rest_framework import permissions
from rest_framework.exceptions import PermissionDenied

from staff.models import Role

ALL_STAFF = frozenset(Role.values)
OWNER_MANAGER = frozenset({Role.OWNER, Role.MANAGER})
OWNER = frozenset({Role.OWNER})


def membership_of(user):
    if user is None or not user.is_authenticated or not user.is_active:
        return None
    try:
        return user.membership
    except ObjectDoesNotExist:
        return None


class Forbidden(PermissionDenied):
    default_code = "forbidden"


class RolePermission(permissions.BasePermission):
    """Admits a request when the caller's role is in the view's `roles`; anonymous callers get 401.

    A view without `roles` admits nobody, so forgetting to declare access fails closed.
    """

    def has_permission(self, request, view):
        roles = getattr(view, "roles", None)
        if request.user is None or not request.user.is_authenticated:
            return False  # DRF turns this into 401 with WWW-Authenticate
        member = membership_of(request.user)
        if member is None or not roles or member.role not in roles:
            raise Forbidden()
        request.member = member
        return True
