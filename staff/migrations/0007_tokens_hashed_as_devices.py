"""Every API token of the last release becomes a device with a knox token of the same value, kept
only as its hash; the tokens as they were sent are then deleted. No signed-in phone is signed out."""

import hashlib

from django.db import migrations
from django.utils import timezone

TOKEN_KEY_LENGTH = 15  # knox's CONSTANTS.TOKEN_KEY_LENGTH, as its own rows have it


def hash_in_place(apps, schema_editor):
    OldToken = apps.get_model("authtoken", "Token")
    AuthToken = apps.get_model("knox", "AuthToken")
    Device = apps.get_model("staff", "Device")
    Membership = apps.get_model("staff", "Membership")
    members = dict(Membership.objects.values_list("user_id", "pk"))
    now = timezone.now()
    for old in OldToken.objects.all().iterator():
        # knox's hash_token: SHA-512 of the token's characters.
        token = AuthToken.objects.create(
            digest=hashlib.sha512(old.key.encode()).hexdigest(), token_key=old.key[:TOKEN_KEY_LENGTH],
            user_id=old.user_id, expiry=None,
        )
        AuthToken.objects.filter(digest=token.digest).update(created=old.created)
        if old.user_id in members:
            Device.objects.create(member_id=members[old.user_id], how="token", name="", token_id=token.digest,
                                  created_at=old.created, last_seen_at=now)
    OldToken.objects.all().delete()


class Migration(migrations.Migration):

    dependencies = [
        ("staff", "0006_devices_and_signin_links"),
        ("authtoken", "0004_alter_tokenproxy_options"),
        ("knox", "0009_extend_authtoken_field"),
    ]

    operations = [migrations.RunPython(hash_in_place, migrations.RunPython.noop)]
