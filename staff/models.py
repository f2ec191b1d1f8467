import zoneinfo
from decimal import Decimal

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # The salt of the slow digest that names each of the merchant's codes in an offline snapshot
    # (redemption.offline): made on first use, never changed, since the digests kept on the vouchers
    # were derived under it.
    offline_salt = models.CharField(max_length=32, blank=True, default="", db_default="", editable=False)

    class Meta:
        verbose_name = _("merchant")
        verbose_name_plural = _("merchants")

    def __str__(self):
        return self.name

    @property
    def tz(self):
        return zoneinfo.ZoneInfo(self.time_zone)


class Store(models.Model):
    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="stores", verbose_name=_("merchant"))
    name = models.CharField(_("name"), max_length=100)
    address = models.CharField(_("address"), max_length=200, blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Offline at the counter: off unless the owner turns it on. A device may then take at most
    # this many redemptions, and this much face value, offline before it syncs; what it decides
    # with lives `offline_snapshot_hours`. These caps are the whole risk the owner accepts.
    offline_enabled = models.BooleanField(_("offline redemption"), default=False, db_default=False)
    offline_max_redemptions = models.PositiveIntegerField(
        _("most redemptions offline"), default=50, db_default=50,
        help_text=_("Per device, before it must go online and upload."),
    )
    offline_max_value = models.DecimalField(
        _("most face value offline"), max_digits=10, decimal_places=2, default=Decimal("500.00"),
        db_default=Decimal("500.00"), help_text=_("Per device, before it must go online and upload."),
    )
    offline_snapshot_hours = models.PositiveIntegerField(
        _("snapshot lifetime (hours)"), default=12, db_default=12,
        help_text=_("How long a device may decide on its own with the vouchers it last fetched."),
    )

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=models.Q(offline_snapshot_hours__gte=1, offline_snapshot_hours__lte=168),
                                   name="store_offline_snapshot_within_a_week"),
            models.CheckConstraint(condition=models.Q(offline_max_value__gte=0), name="store_offline_value_not_negative"),
        ]

    def __str__(self):
        return self.name


class Role(models.TextChoices):
    OWNER = "owner", _("Owner")
    MANAGER = "manager", _("Manager")
    CLERK = "clerk", _("Clerk")


class Membership(models.Model):
    """A person's place in one merchant: their role and the stores they work in.

    The membership's id is the staff id the API and the reports speak of.
    """

    user = models.OneToOneField(settings.AUTH_USER_MODEL, models.CASCADE, related_name="membership")
    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="members", verbose_name=_("merchant"))
    role = models.CharField(_("role"), max_length=8, choices=Role.choices, default=Role.CLERK)
    display_name = models.CharField(_("display name"), max_length=50)
    stores = models.ManyToManyField(Store, blank=True, related_name="members", verbose_name=_("stores"))
    # Set when the member sends too many unknown or mistyped codes (a guessing lock-out).
    throttled_until = models.DateTimeField(null=True, blank=True, editable=False)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("staff member")
        verbose_name_plural = _("staff")
        ordering = ["id"]
        constraints = [models.UniqueConstraint(fields=["user", "merchant"], name="membership_unique_user_merchant")]

    def __str__(self):
        return self.display_name

    @property
    def is_owner(self):
        return self.role == Role.OWNER

    def store_ids(self):
        """The stores this member may work in: all of the merchant's for an owner."""
        if not hasattr(self, "_store_ids"):
            if self.is_owner:
                qs = self.merchant.stores.all()
            else:
                qs = self.stores.all()
            self._store_ids = set(qs.values_list("id", flat=True))
        return self._store_ids

    def throttled_for(self, now=None):
        """Seconds this member must still wait, or 0."""
        if self.throttled_until is None:
            return 0
        left = (self.throttled_until - (now or timezone.now())).total_seconds()
        return max(0, int(left + 0.999))
