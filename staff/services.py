from django.contrib.auth import get_user_model
from django.db import transaction

from redemption.models import Merchant
from staff.models import Membership, Role


@transaction.atomic
def merchant_create(*, name, owner_username, owner_password, owner_display_name=None) -> Membership:
    """A merchant with its owner, who can then set up stores, staff and products."""
    merchant = Merchant.objects.create(name=name)
    user = get_user_model().objects.create_user(username=owner_username, password=owner_password)
    return Membership.objects.create(
        user=user, merchant=merchant, role=Role.OWNER, display_name=owner_display_name or owner_username
    )


@transaction.atomic
def staff_create(*, merchant, username, password, display_name, role=Role.CLERK, stores=()) -> Membership:
    user = get_user_model().objects.create_user(username=username, password=password)
    member = Membership.objects.create(user=user, merchant=merchant, role=role, display_name=display_name)
    member.stores.set(stores)
    return member
