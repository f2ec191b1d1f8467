"""The JSON shapes of people and shops, as plain functions (see redemption.present for the rest)."""


def store_ref(store):
    return {"id": store.id, "name": store.name}


def staff_ref(member):
    """A staff member as other records name them: who redeemed, who reversed."""
    return {"id": member.id, "display_name": member.display_name}


def member_data(member):
    """A staff member as the owner manages them (the staff API)."""
    return {
        "id": member.id,
        "username": member.user.username,
        "display_name": member.display_name,
        "role": member.role,
        "stores": sorted(s.id for s in member.stores.all()),
        "is_active": member.user.is_active,
    }


def store_data(store):
    return {
        "id": store.id, "name": store.name, "address": store.address,
        "offline_enabled": store.offline_enabled,
        "offline_max_redemptions": store.offline_max_redemptions,
        "offline_max_value": str(store.offline_max_value),
        "offline_snapshot_hours": store.offline_snapshot_hours,
    }


def device_data(device, tz, current_id=None):
    return {
        "id": device.id,
        "current": device.id == current_id,
        "staff": staff_ref(device.member),
        "how": device.how,
        "name": device.name,
        "created_at": device.created_at.astimezone(tz).isoformat(),
        "last_seen_at": device.last_seen_at.astimezone(tz).isoformat(),
    }
