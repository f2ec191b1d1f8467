import zoneinfo

from django.conf import settings
from django.db import models
from django.utils import timezone
from django.utils.translation import gettext_lazy as _


class Merchant(models.Model):
    name = models.CharField(_("name"), max_length=100)
    time_zone = models.CharField(_("time zone"), max_length=64, default=settings.TIME_ZONE)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

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

    class Meta:
        verbose_name = _("store")
        verbose_name_plural = _("stores")
        ordering = ["id"]

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
