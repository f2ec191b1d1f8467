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
    # (redemption.services.offline): made on first use, never changed, since the digests kept on the vouchers
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


class StoreOfflineRule(models.Model):
    """The owner's offline switch and caps of a store from `since` on. A snapshot carries the caps
    of the moment it was fetched; an item scanned after a later change is judged by that change
    too, so turning offline off or lowering the caps holds for phones that fetched earlier."""

    store = models.ForeignKey(Store, models.CASCADE, related_name="offline_rules")
    since = models.DateTimeField()
    enabled = models.BooleanField()
    max_redemptions = models.PositiveIntegerField()
    max_value = models.DecimalField(max_digits=10, decimal_places=2)

    class Meta:
        indexes = [models.Index(fields=["store", "since"])]


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


class Device(models.Model):
    """One sign-in of a member: a phone's session, an API token, a sign-in QR scanned. Each can be
    signed out alone; the member's other devices keep working."""

    class How(models.TextChoices):
        PASSWORD = "password", _("Password")
        TOKEN = "token", _("API token")
        QR = "qr", _("Sign-in QR")

    member = models.ForeignKey(Membership, models.CASCADE, related_name="devices", verbose_name=_("staff member"))
    how = models.CharField(_("signed in by"), max_length=8, choices=How.choices)
    name = models.CharField(_("device"), max_length=100, blank=True)
    # Exactly one of these: the API token's row (knox keeps only its hash), or the session's key.
    token = models.OneToOneField("knox.AuthToken", models.SET_NULL, null=True, blank=True, related_name="device")
    session_key = models.CharField(max_length=40, blank=True, db_index=True)
    created_at = models.DateTimeField(_("signed in"), default=timezone.now)
    # Written at most once a minute (DEVICE_SEEN_EVERY), not on every request.
    last_seen_at = models.DateTimeField(_("last seen"), default=timezone.now)
    signed_out_at = models.DateTimeField(_("signed out"), null=True, blank=True)

    class Meta:
        verbose_name = _("device")
        verbose_name_plural = _("devices")
        indexes = [models.Index(fields=["member", "signed_out_at"])]

    def __str__(self):
        return self.name or self.get_how_display()


class SigninLink(models.Model):
    """A sign-in QR: one use, for one member, for a few minutes; only the hash of its token is kept."""

    member = models.ForeignKey(Membership, models.CASCADE, related_name="signin_links")
    digest = models.CharField(max_length=64, unique=True)
    created_by = models.ForeignKey(Membership, models.SET_NULL, null=True, related_name="+")
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    used_at = models.DateTimeField(null=True, blank=True)
    voided_at = models.DateTimeField(null=True, blank=True)
