"""Writes about who works where. The API, the admin and the commands all come through here, so a
rule such as "a deactivated member's tokens stop at once" holds the same way everywhere."""

import secrets

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from staff import devices
from staff.models import Membership, Merchant, Role, Store, StoreOfflineRule


@transaction.atomic
def merchant_create(*, name, owner_username, owner_password, owner_display_name=None) -> Membership:
    """A merchant with its owner, who can then set up stores, staff and products."""
    merchant = Merchant.objects.create(name=name)
    user = get_user_model().objects.create_user(username=owner_username, password=owner_password)
    return Membership.objects.create(
        user=user, merchant=merchant, role=Role.OWNER, display_name=owner_display_name or owner_username
    )


def store_create(*, merchant, name, address="") -> Store:
    return Store.objects.create(merchant=merchant, name=name, address=address)


@transaction.atomic
def staff_create(*, merchant, display_name, username=None, password=None, role=Role.CLERK, stores=()) -> Membership:
    """A clerk or manager. Without a password they sign in by a sign-in QR only; without a username
    one is made up (they never type it)."""
    username = username or _unused_username(merchant)
    user = get_user_model().objects.create_user(username=username, password=password)
    member = Membership.objects.create(user=user, merchant=merchant, role=role, display_name=display_name)
    member.stores.set(stores)
    return member


@transaction.atomic
def staff_update(*, member: Membership, is_active=None, role=None, stores=None, password=None, display_name=None):
    """Change what is given; None leaves a thing as it is. Passwords are validated by the caller."""
    user = member.user
    if is_active is False:
        staff_deactivate(member=member)
    elif is_active:
        user.is_active = True
    if password is not None:
        user.set_password(password)
    user.save()
    for name, value in (("role", role), ("display_name", display_name)):
        if value is not None:
            setattr(member, name, value)
    member.save()
    if stores is not None:
        member.stores.set(stores)
    return member


def _unused_username(merchant):
    while True:
        username = f"m{merchant.pk}-{secrets.token_hex(3)}"
        if not get_user_model().objects.filter(username=username).exists():
            return username


def staff_deactivate(*, member: Membership):
    """The member can no longer log in. Every device of theirs is signed out at once: tokens and
    sessions answer 401 from the next request on (authentication refuses inactive users too)."""
    user = member.user
    user.is_active = False
    get_user_model().objects.filter(pk=user.pk).update(is_active=False)
    devices.member_signed_out(member=member)


def staff_set_active(*, members, active) -> int:
    """Deactivate or reactivate several members (the admin's bulk action); how many changed."""
    changed = 0
    for member in members.select_related("user"):
        if member.user.is_active == active:
            continue
        if active:
            staff_update(member=member, is_active=True)
        else:
            staff_deactivate(member=member)
        changed += 1
    return changed


OFFLINE_RULE_FIELDS = ("offline_enabled", "offline_max_redemptions", "offline_max_value")


@transaction.atomic
def store_update(*, store: Store, **changes) -> Store:
    """Change a store's name, address, or offline switch and caps; what is not named stays."""
    before = _offline_rule(store)
    for name, value in changes.items():
        setattr(store, name, value)
    if changes:
        store.save(update_fields=list(changes))
    if _offline_rule(store) != before:
        store_offline_rule_changed(store=store)
    return store


def store_offline_rule_changed(*, store: Store) -> StoreOfflineRule:
    """Note that the store's offline switch or caps changed now: what a phone scans from now on is
    held to them, whatever its snapshot said."""
    return StoreOfflineRule.objects.create(
        store=store, since=timezone.now(), enabled=store.offline_enabled,
        max_redemptions=store.offline_max_redemptions, max_value=store.offline_max_value,
    )


def _offline_rule(store):
    return tuple(getattr(store, name) for name in OFFLINE_RULE_FIELDS)
