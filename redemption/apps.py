from django.apps import AppConfig
from django.core import checks
from django.utils.translation import gettext_lazy as _


class RedemptionConfig(AppConfig):
    name = "redemption"
    verbose_name = _("Redemption")

    def ready(self):
        checks.register(check_field_encryption_key, checks.Tags.security, deploy=True)


def check_field_encryption_key(app_configs, **kwargs):
    """check --deploy: card passwords should not hang on SECRET_KEY (changing it would lose them)."""
    from redemption import cipher

    if not cipher.key_is_derived():
        return []
    return [checks.Warning(
        "Card passwords are encrypted with a key derived from SECRET_KEY.",
        hint="Set FIELD_ENCRYPTION_KEY (or FIELD_ENCRYPTION_KEY_FILE) to a key of 32 random bytes in URL-safe "
             "base64, then run manage.py reencrypt_passwords. Rows written under the derived key stay readable.",
        id="redemption.W001",
    )]
