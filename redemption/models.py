import datetime as dt
import operator
import secrets

from django.db import models
from django.db.models import Case, F, Q, Value, When
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from redemption import codes
from staff.models import Merchant, Store


ALL_WEEKDAYS = 0b1111111


class Product(models.Model):
    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="products", verbose_name=_("merchant"))
    name = models.CharField(_("name"), max_length=100)
    face_value = models.DecimalField(_("face value"), max_digits=10, decimal_places=2)
    uses_per_voucher = models.PositiveIntegerField(_("uses per voucher"), default=1)
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    valid_days = models.PositiveIntegerField(
        _("valid days"), null=True, blank=True, help_text=_("Days of validity counted from the day of issue.")
    )
    stores = models.ManyToManyField(
        Store, blank=True, related_name="products", verbose_name=_("stores"),
        help_text=_("Leave empty to accept the product in every store."),
    )
    require_live_qr = models.BooleanField(_("require the buyer's live QR"), default=False)
    instructions = models.TextField(_("how to use"), blank=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)
    # Redemption rules (empty: no rule), in the merchant's time zone. hotpath.RULES enforces them.
    max_uses_per_day = models.PositiveIntegerField(
        _("most uses per day"), null=True, blank=True,
        help_text=_("How many uses one voucher may give in one day. Empty: no limit."),
    )
    min_minutes_between_uses = models.PositiveIntegerField(
        _("minutes between uses"), null=True, blank=True,
        help_text=_("How long after a use the same voucher may be used again. Empty: no wait."),
    )
    # Redeemable hours: on the weekdays of the mask (bit 0 = Monday), from `hours_from` until
    # `hours_until` (exclusive). No `hours_from`: any time.
    hours_weekdays = models.PositiveSmallIntegerField(_("weekdays"), default=ALL_WEEKDAYS, db_default=ALL_WEEKDAYS)
    hours_from = models.TimeField(_("redeemable from"), null=True, blank=True)
    hours_until = models.TimeField(_("redeemable until"), null=True, blank=True)

    class Meta:
        verbose_name = _("product")
        verbose_name_plural = _("products")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(condition=Q(uses_per_voucher__gte=1), name="product_uses_at_least_one"),
            models.CheckConstraint(condition=Q(face_value__gte=0), name="product_face_value_not_negative"),
            models.CheckConstraint(condition=Q(max_uses_per_day__gte=1) | Q(max_uses_per_day=None),
                                   name="product_daily_uses_at_least_one"),
            models.CheckConstraint(condition=Q(min_minutes_between_uses__gte=1) | Q(min_minutes_between_uses=None),
                                   name="product_minutes_between_at_least_one"),
            models.CheckConstraint(
                condition=Q(hours_from=None, hours_until=None)
                | Q(hours_from__isnull=False, hours_until__gt=F("hours_from"), hours_weekdays__gte=1,
                    hours_weekdays__lte=ALL_WEEKDAYS),
                name="product_hours_a_window_within_a_day",
            ),
        ]

    @property
    def redeemable_hours(self):
        """The contract's shape: {"weekdays": [1..7], "from": "HH:MM", "until": "HH:MM"}, or None."""
        if self.hours_from is None:
            return None
        return {
            "weekdays": [day for day in range(1, 8) if self.hours_weekdays & (1 << (day - 1))],
            "from": self.hours_from.strftime("%H:%M"),
            "until": self.hours_until.strftime("%H:%M"),
        }

    @property
    def has_rules(self):
        return bool(self.max_uses_per_day or self.min_minutes_between_uses or self.hours_from)

    def __str__(self):
        return self.name


def next_redeemable(voucher, now, tz, uses=1):
    """The earliest moment from `now` on at which the product's redemption rules would let
    `voucher` give `uses` uses: past the wait after its last use, into the next day once today's
    uses are given, then into the next redeemable hours. Each step only moves later, and none
    undoes an earlier one, so one pass finds it."""
    product = voucher.product
    at = now
    if product.min_minutes_between_uses and voucher.last_used_at:
        at = max(at, voucher.last_used_at + dt.timedelta(minutes=product.min_minutes_between_uses))
    if product.max_uses_per_day:
        day = at.astimezone(tz).date()
        used = voucher.day_uses if voucher.day_uses_on == day else 0
        if used + uses > product.max_uses_per_day:
            at = max(at, dt.datetime.combine(day + dt.timedelta(days=1), dt.time.min, tzinfo=tz))
    if product.hours_from is not None:
        local = at.astimezone(tz)
        for ahead in range(8):
            day = local.date() + dt.timedelta(days=ahead)
            if not product.hours_weekdays & (1 << (day.isoweekday() - 1)):
                continue
            opens = dt.datetime.combine(day, product.hours_from, tzinfo=tz)
            if ahead == 0 and opens <= local < dt.datetime.combine(day, product.hours_until, tzinfo=tz):
                break
            if opens > local:
                at = opens
                break
    return at


class Channel(models.TextChoices):
    MANUAL = "manual", _("Manual")
    API = "api", _("API")
    PDD = "pdd", _("Pinduoduo")
    TAOBAO = "taobao", _("Taobao")
    YOUZAN = "youzan", _("Youzan")
    DOUYIN = "douyin", _("Douyin")
    MEITUAN = "meituan", _("Meituan")
    OTHER = "other", _("Other")


class VoucherStatus(models.TextChoices):
    """What the buyer and the staff are told about a voucher."""

    ACTIVE = "active", _("Active")
    REDEEMED = "redeemed", _("Redeemed")
    EXPIRED = "expired", _("Expired")
    VOIDED = "voided", _("Voided")
    FROZEN = "frozen", _("Frozen")


NOW = object()  # stands for the moment the rule is applied at

# The voucher-status rule, the one place it is written: the first row that matches gives the
# status, and a voucher no row matches is active. Voucher.status() applies it in Python;
# status_annotation() and status_filter() turn the same rows into SQL.
STATUS_RULE = (
    (VoucherStatus.VOIDED, "state", "exact", "voided"),
    (VoucherStatus.FROZEN, "state", "exact", "frozen"),
    (VoucherStatus.REDEEMED, "uses_left", "lte", 0),
    (VoucherStatus.EXPIRED, "valid_until", "lt", NOW),
)
_COMPARE = {"exact": operator.eq, "lte": operator.le, "lt": operator.lt}


def _rule_q(field, lookup, value, now):
    return Q(**{f"{field}__{lookup}": now if value is NOW else value})


def _rule_holds(voucher, field, lookup, value, now):
    # As in SQL, an empty column (no end of validity) matches nothing.
    actual = getattr(voucher, field)
    return actual is not None and _COMPARE[lookup](actual, now if value is NOW else value)


def status_annotation(now):
    """The status as a SQL expression: `.annotate(status=status_annotation(now))`."""
    whens = [When(_rule_q(field, lookup, value, now), then=Value(status.value)) for status, field, lookup, value in STATUS_RULE]
    return Case(*whens, default=Value(VoucherStatus.ACTIVE.value), output_field=models.CharField())


def status_filter(status, now):
    """A Q for the vouchers whose status is `status`: its row matches and no earlier one does."""
    condition = Q()
    for rule_status, field, lookup, value in STATUS_RULE:
        q = _rule_q(field, lookup, value, now)
        if rule_status == status:
            return condition & q
        condition &= ~q
    return condition


def new_token():
    return secrets.token_urlsafe(18)


class Voucher(models.Model):
    class State(models.TextChoices):
        ACTIVE = "active", _("Active")
        VOIDED = "voided", _("Voided")
        FROZEN = "frozen", _("Frozen")

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="vouchers", verbose_name=_("merchant"))
    product = models.ForeignKey(Product, models.PROTECT, related_name="vouchers", verbose_name=_("product"))
    code = models.CharField(_("code"), max_length=128)
    # The buyer page's address: unguessable, and not the code, so the page can be shared safely.
    token = models.CharField(max_length=32, unique=True, default=new_token, editable=False)
    channel = models.CharField(_("channel"), max_length=16, choices=Channel.choices, default=Channel.MANUAL)
    order_no = models.CharField(_("order number"), max_length=64)
    line = models.PositiveIntegerField(default=1, help_text="position of the voucher within its order")
    buyer_phone = models.CharField(_("buyer phone"), max_length=32, blank=True)
    uses_total = models.PositiveIntegerField(_("uses"))
    uses_left = models.IntegerField(_("uses left"))
    valid_from = models.DateTimeField(_("valid from"), null=True, blank=True)
    valid_until = models.DateTimeField(_("valid until"), null=True, blank=True)
    state = models.CharField(_("state"), max_length=8, choices=State.choices, default=State.ACTIVE)
    voided_at = models.DateTimeField(_("voided at"), null=True, blank=True)
    expiry_reminded_at = models.DateTimeField(null=True, blank=True, editable=False)
    # Third-party card codes come with a password (卡密) that the buyer needs beside the code. Kept
    # encrypted (redemption.cipher) with the id of its key; only services.voucher_reveal reads it.
    password_ciphertext = models.TextField(blank=True, default="", db_default="", editable=False)
    password_key = models.CharField(max_length=16, blank=True, default="", db_default="", editable=False)
    void_reason = models.CharField(_("reason for voiding"), max_length=200, blank=True)
    replaces = models.OneToOneField(
        "self", models.PROTECT, null=True, blank=True, related_name="replaced_by", verbose_name=_("reissued for")
    )
    created_at = models.DateTimeField(_("issued"), default=timezone.now)
    # The time of its earliest standing redemption (None while it has none), kept by the redeem's own
    # UPDATE and by reversals, so product stats read this table alone.
    first_used_at = models.DateTimeField(_("first used"), null=True, blank=True, editable=False)
    # What the redemption rules read, kept on the row the redeem locks (so they hold under
    # concurrency as uses do): the standing uses of the merchant-local day `day_uses_on`, and the
    # time of the last standing use. Kept by the redeem's UPDATE and by reversals.
    day_uses = models.PositiveIntegerField(default=0, db_default=0, editable=False)
    day_uses_on = models.DateField(null=True, blank=True, editable=False)
    last_used_at = models.DateTimeField(_("last used"), null=True, blank=True, editable=False)
    # When the buyer page was first and last opened, and how often: evidence against "never got the code".
    first_viewed_at = models.DateTimeField(_("first opened"), null=True, blank=True, editable=False)
    last_viewed_at = models.DateTimeField(_("last opened"), null=True, blank=True, editable=False)
    view_count = models.PositiveIntegerField(_("times opened"), default=0, db_default=0, editable=False)
    # The slow digest of the code that an offline snapshot names it by (redemption.services.offline), as
    # "<iterations>$<hex>": derived once, when a snapshot or the webhook worker first needs it.
    offline_digest = models.CharField(max_length=80, null=True, editable=False)

    class Meta:
        verbose_name = _("voucher")
        verbose_name_plural = _("vouchers")
        ordering = ["-id"]
        constraints = [
            models.UniqueConstraint(fields=["merchant", "code"], name="voucher_code_unique_per_merchant"),
            models.UniqueConstraint(
                fields=["merchant", "channel", "order_no", "line"], name="voucher_order_line_unique"
            ),
            models.CheckConstraint(condition=Q(uses_left__gte=0), name="voucher_uses_left_not_negative"),
            models.CheckConstraint(condition=Q(uses_left__lte=F("uses_total")), name="voucher_uses_left_within_total"),
        ]
        indexes = [
            models.Index(fields=["merchant", "order_no"]),
            # Product stats read the vouchers issued in a range of days.
            models.Index(fields=["merchant", "created_at"], name="voucher_issued"),
            # An owner finding a buyer's vouchers by the phone number they give.
            models.Index(fields=["merchant", "buyer_phone"], name="voucher_buyer_phone"),
        ]

    def __str__(self):
        return codes.mask(self.code)

    def status(self, now=None):
        """What the buyer and the staff are told (VoucherStatus), by STATUS_RULE."""
        now = now or timezone.now()
        for status, field, lookup, value in STATUS_RULE:
            if _rule_holds(self, field, lookup, value, now):
                return status.value
        return VoucherStatus.ACTIVE.value


class Redemption(models.Model):
    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="redemptions")
    voucher = models.ForeignKey(Voucher, models.PROTECT, related_name="redemptions", verbose_name=_("voucher"))
    store = models.ForeignKey(Store, models.PROTECT, related_name="redemptions", verbose_name=_("store"))
    staff = models.ForeignKey("staff.Membership", models.PROTECT, related_name="redemptions", verbose_name=_("staff"))
    uses = models.PositiveIntegerField(_("uses"), default=1)
    # What these uses were worth when redeemed (face value / uses per voucher x uses), kept exact to
    # six places so three thirds of 100.00 still add up to 100.00: reports sum this column alone, and
    # a later price change does not rewrite what was earned.
    value = models.DecimalField(_("value"), max_digits=16, decimal_places=6, default=0, db_default=0)
    at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    idempotency_key = models.CharField(max_length=64, null=True, blank=True)
    reversed_at = models.DateTimeField(_("reversed at"), null=True, blank=True)
    reversed_by = models.ForeignKey(
        "staff.Membership", models.PROTECT, null=True, blank=True, related_name="+", verbose_name=_("reversed by")
    )
    reverse_reason = models.CharField(_("reason for reversal"), max_length=200, blank=True)
    # A whole order redeemed in one tap: the other redemptions point at the first (which carries
    # the request's idempotency key).
    batch = models.ForeignKey("self", models.CASCADE, null=True, blank=True, related_name="+", editable=False)
    # Taken by a device while the shop was offline: when it was scanned there, and which device;
    # `at` is when the server recorded it.
    offline = models.BooleanField(_("offline"), default=False, db_default=False)
    scanned_at = models.DateTimeField(_("scanned at"), null=True, blank=True)
    device = models.CharField(_("device"), max_length=64, blank=True, default="", db_default="")

    class Meta:
        verbose_name = _("redemption")
        verbose_name_plural = _("redemptions")
        ordering = ["-at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["staff", "idempotency_key"],
                condition=Q(idempotency_key__isnull=False),
                name="redemption_idempotency_key_unique_per_staff",
            ),
            models.CheckConstraint(condition=Q(uses__gte=1), name="redemption_uses_at_least_one"),
        ]
        indexes = [
            models.Index(fields=["merchant", "at"]),
            models.Index(fields=["staff", "at"]),
            models.Index(fields=["voucher", "at"]),
        ]

    def __str__(self):
        return f"{codes.mask(self.voucher.code)} × {self.uses}"

    @property
    def reversed(self):
        return self.reversed_at is not None


class DailyTotal(models.Model):
    """One merchant-local day of one staff member at one store, for one sales channel: what the
    staff, store and daily figures add up instead of every redemption.

    Written in the redemption's own transaction (an upsert beside the redemption's INSERT, in both
    redeem paths) and adjusted by reversals on the row of the day the redemption was made: a day's
    figures change only by later reversals. `redemptions`, `uses` and `value` count every
    redemption made that day, reversed or not, and the `reversed_` columns those of them reversed
    since; `first_at` and `last_at` are of the ones still standing (None when none is).
    """

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    store = models.ForeignKey(Store, models.CASCADE, related_name="+")
    staff = models.ForeignKey("staff.Membership", models.CASCADE, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    redemptions = models.PositiveIntegerField(default=0)
    uses = models.PositiveIntegerField(default=0)
    value = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    reversed = models.PositiveIntegerField(default=0)
    reversed_uses = models.PositiveIntegerField(default=0)
    reversed_value = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    first_at = models.DateTimeField(null=True)
    last_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            # The upsert's conflict target; ranges of days of one merchant are read along it too.
            models.UniqueConstraint(fields=["merchant", "day", "store", "staff", "channel"], name="daily_total_key"),
        ]


class VoucherLog(models.Model):
    """What an owner did to a voucher away from the counter (the counter's side is in Attempt and
    Redemption): void, freeze, unfreeze, reissue, reveal of the card password. Who, when, what."""

    class Action(models.TextChoices):
        VOIDED = "voided", _("Voided")
        FROZEN = "frozen", _("Frozen")
        UNFROZEN = "unfrozen", _("Unfrozen")
        REISSUED = "reissued", _("Reissued")
        REVEALED = "revealed", _("Code and password shown")

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+", db_index=False)
    voucher = models.ForeignKey(Voucher, models.CASCADE, related_name="log", db_index=False)
    # Empty when the platform operator acted through the admin site (no membership of this merchant).
    staff = models.ForeignKey("staff.Membership", models.SET_NULL, null=True, blank=True, related_name="+")
    action = models.CharField(max_length=12, choices=Action.choices)
    # The reason of a void; for a reissue, the new voucher's masked code. Never a whole code.
    note = models.CharField(max_length=200, blank=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        ordering = ["at", "id"]
        indexes = [models.Index(fields=["voucher", "at"], name="voucher_log_by_voucher")]


class OrderTotal(models.Model):
    """One order (the vouchers of one merchant sharing channel and order number) added up: what the
    orders list and its export read, instead of every voucher and redemption.

    A voucher replaced by a reissue counts only for the uses it gave. Redeems add their deltas in
    their own transaction, in both redeem paths (hotpath.ADD_TO_ORDER_TOTAL); everything else that
    changes an order (issue, import, void, reissue, reversal) counts it again from its vouchers and
    redemptions with the row locked (hotpath.recount_orders). Deltas commute and the recount reads
    after the lock, so neither loses the other's change.
    """

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+", db_index=False)
    channel = models.CharField(max_length=16, choices=Channel.choices)
    order_no = models.CharField(max_length=64)
    vouchers = models.IntegerField(default=0)
    uses_total = models.IntegerField(default=0)
    uses_used = models.IntegerField(default=0)
    voided = models.IntegerField(default=0)
    # Vouchers neither voided nor replaced that still have a use left.
    open = models.IntegerField(default=0)
    face_value_total = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    redeemed_value = models.DecimalField(max_digits=20, decimal_places=6, default=0)
    # Of its standing redemptions.
    first_at = models.DateTimeField(null=True)
    last_at = models.DateTimeField(null=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["merchant", "channel", "order_no"], name="order_total_key"),
        ]
        # The orders list reads them the most recently redeemed first, and by ranges of days of the
        # last redemption: index order_total_recent, made by migration 0012 (PostgreSQL's sorts
        # empty last_at last, which SQLite's CREATE INDEX cannot say).


# The results of an attempt that was not refused; every other result counts as a refused attempt.
PASSED = ("redeemed", "redeemable", "found")
# The one result prune never deletes: a redeem's attempt, beside its Redemption. Refusals, checks
# and lookups older than RETAIN_ATTEMPTS_DAYS go.
PRUNE_KEEPS = "redeemed"


class Attempt(models.Model):
    """Every check and redeem, refused or not: the record behind "was it used already?" disputes."""

    class Kind(models.TextChoices):
        CHECK = "check", _("Check")
        REDEEM = "redeem", _("Redeem")
        LOOKUP = "lookup", _("Lookup")

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="attempts")
    staff = models.ForeignKey("staff.Membership", models.CASCADE, related_name="attempts")
    store = models.ForeignKey(Store, models.SET_NULL, null=True, blank=True, related_name="+")
    voucher = models.ForeignKey(Voucher, models.SET_NULL, null=True, blank=True, related_name="attempts")
    kind = models.CharField(max_length=8, choices=Kind.choices)
    input_masked = models.CharField(max_length=40)
    result = models.CharField(max_length=24)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name = _("attempt")
        verbose_name_plural = _("attempts")
        ordering = ["-at", "-id"]
        indexes = [
            models.Index(fields=["staff", "at"]),
            models.Index(fields=["merchant", "at"]),
            # Refusals are few among the attempts: stats count them through this index, and an
            # attempt that passed (every redeem writes one) adds nothing to it.
            models.Index(fields=["merchant", "at", "staff", "store"], name="attempt_refused",
                         condition=~Q(result__in=PASSED)),
            # What prune deletes, oldest first (redemption.retention): a redeem's own attempt, the
            # bulk of the table and kept, is not in it, so the counter's INSERT does not feed it.
            models.Index(fields=["at"], name="attempt_prunable", condition=~Q(result=PRUNE_KEEPS)),
        ]


class RefusalTotal(models.Model):
    """Refused attempts of one merchant-local day, staff member and store, counted by prune in the
    transaction that deletes them (redemption.retention). The stats add these to the refusals still
    in the Attempt table, so their figures stay the same once old attempts are gone, while the
    counter's paths write nothing more. Only prune writes here."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+", db_index=False)
    day = models.DateField()
    # As on the attempt: empty when it was refused before a store was chosen, or the store is gone.
    store = models.ForeignKey(Store, models.SET_NULL, null=True, related_name="+")
    staff = models.ForeignKey("staff.Membership", models.CASCADE, related_name="+")
    refused = models.PositiveIntegerField(default=0)

    class Meta:
        # No unique key: a store may be empty, and two rows of one key only add up.
        indexes = [models.Index(fields=["merchant", "day"], name="refusal_total_days")]


class IssueBatch(models.Model):
    """One order export turned into codes: which orders it named (in the file's order), so its
    delivery file (批量发货) lists their vouchers again whenever the owner downloads it."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+")
    product = models.ForeignKey(Product, models.PROTECT, related_name="+")
    channel = models.CharField(max_length=16, choices=Channel.choices)
    created_at = models.DateTimeField(default=timezone.now)
    created_by = models.ForeignKey("staff.Membership", models.SET_NULL, null=True, related_name="+")
    order_nos = models.JSONField(default=list)
    orders = models.PositiveIntegerField()
    vouchers = models.PositiveIntegerField()
    repeated = models.PositiveIntegerField()


class OfflineSnapshot(models.Model):
    """What a device of a store was given to decide alone while offline: when, for how long, and
    the caps it was held to then. An offline redemption counts only within a snapshot the device
    held when it scanned, and only up to that snapshot's caps: the risk is exactly the caps."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, models.CASCADE, related_name="+")
    staff = models.ForeignKey("staff.Membership", models.CASCADE, related_name="+")
    device = models.CharField(max_length=64, blank=True)
    issued_at = models.DateTimeField()
    expires_at = models.DateTimeField()
    max_redemptions = models.PositiveIntegerField()
    max_value = models.DecimalField(max_digits=10, decimal_places=2)
    vouchers = models.PositiveIntegerField(default=0)
    # What the device said it still held when it last asked or uploaded (its queue).
    pending = models.PositiveIntegerField(default=0)
    last_upload_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        indexes = [models.Index(fields=["store", "staff", "device", "issued_at"])]


class OfflineConflict(models.Model):
    """An offline redemption the server could not make when the device uploaded it: used
    meanwhile elsewhere, voided, beyond the caps… kept for the owner to settle."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="+")
    store = models.ForeignKey(Store, models.CASCADE, related_name="+", verbose_name=_("store"))
    staff = models.ForeignKey("staff.Membership", models.CASCADE, related_name="+", verbose_name=_("staff"))
    device = models.CharField(_("device"), max_length=64, blank=True)
    voucher = models.ForeignKey(Voucher, models.SET_NULL, null=True, blank=True, related_name="+", verbose_name=_("voucher"))
    idempotency_key = models.CharField(max_length=64)
    code_masked = models.CharField(_("code"), max_length=40)
    uses = models.PositiveIntegerField(_("uses"), default=1)
    result = models.CharField(_("reason"), max_length=24)
    scanned_at = models.DateTimeField(_("scanned at"))
    uploaded_at = models.DateTimeField(_("uploaded at"), default=timezone.now)
    settled_at = models.DateTimeField(_("settled at"), null=True, blank=True)
    settled_by = models.ForeignKey("staff.Membership", models.SET_NULL, null=True, blank=True, related_name="+",
                                   verbose_name=_("settled by"))
    settle_note = models.CharField(_("note"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("offline conflict")
        verbose_name_plural = _("offline conflicts")
        ordering = ["-uploaded_at", "-id"]
        constraints = [
            # An upload repeated answers as the first one did.
            models.UniqueConstraint(fields=["staff", "idempotency_key"], name="offline_conflict_once_per_key"),
        ]
        indexes = [models.Index(fields=["merchant", "settled_at", "uploaded_at"])]


class Event(models.Model):
    """What happened, in order: the live feed replays from here (?after=<id>), webhooks deliver from here."""

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="events")
    store = models.ForeignKey(Store, models.SET_NULL, null=True, blank=True, related_name="+")
    type = models.CharField(max_length=32)
    data = models.JSONField()
    at = models.DateTimeField(default=timezone.now)
    # Set by the webhook worker once it has written the deliveries this event owes. A flag rather
    # than an id cursor: ids are drawn before commit, so a cursor could skip a late-committing event.
    fanned_out = models.BooleanField(default=False)

    class Meta:
        ordering = ["id"]
        indexes = [
            models.Index(fields=["merchant", "id"]),
            models.Index(fields=["id"], name="event_not_fanned_out", condition=Q(fanned_out=False)),
        ]


def new_secret():
    return secrets.token_hex(32)


class Webhook(models.Model):
    """Where a merchant's platform or ERP hears of redemptions (核销回传)."""

    EVENTS = ("redemption.created", "redemption.reversed", "voucher.voided", "voucher.expiring", "offline.conflict")

    merchant = models.ForeignKey(Merchant, models.CASCADE, related_name="webhooks")
    url = models.URLField(_("URL"), max_length=500)
    events = models.JSONField(_("events"), default=list)
    secret = models.CharField(max_length=64, default=new_secret, editable=False)
    is_active = models.BooleanField(_("active"), default=True)
    created_at = models.DateTimeField(_("created"), auto_now_add=True)

    class Meta:
        verbose_name = _("webhook")
        verbose_name_plural = _("webhooks")
        ordering = ["id"]


class Delivery(models.Model):
    """One event owed to one webhook: kept until the receiver answers 2xx or a day of retries runs out."""

    webhook = models.ForeignKey(Webhook, models.CASCADE, related_name="deliveries")
    event = models.ForeignKey(Event, models.CASCADE, related_name="deliveries")
    attempts = models.PositiveIntegerField(default=0)
    next_at = models.DateTimeField(default=timezone.now)
    delivered_at = models.DateTimeField(null=True, blank=True)
    failed_at = models.DateTimeField(null=True, blank=True)
    last_status = models.PositiveIntegerField(null=True, blank=True)
    last_error = models.CharField(max_length=200, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [models.UniqueConstraint(fields=["webhook", "event"], name="delivery_once_per_webhook_event")]
        indexes = [
            models.Index(fields=["next_at"], name="delivery_due", condition=Q(delivered_at=None, failed_at=None)),
        ]
