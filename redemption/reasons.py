"""Every refusal the product gives, in one table: its stable code (the contract's `result`), its
HTTP status, a short title for the clerk's screen and voice, and the sentence with its facts.

The services raise `Refusal("code", ...)`; the API's error handler, the OpenAPI schema and the
scanner page all read this table, so a new reason is one row here (and its Chinese in the
catalogue) and shows up everywhere.
"""

from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _


@dataclass(frozen=True)
class Reason:
    code: str
    status: int
    title: Promise
    message: Promise
    # How the scanner greets it: "used" (already redeemed: its own tone) or "refused".
    tone: str = "refused"


_TABLE = (
    Reason("invalid_code", 422, _("Invalid code"), _("This code is not valid. Check it and enter it again.")),
    Reason("not_found", 404, _("Code not found"), _("No voucher with this code.")),
    Reason("voided", 409, _("Voided"), _("This voucher has been voided (refunded).")),
    Reason("frozen", 409, _("Frozen"), _("This voucher is frozen. Ask the shop owner.")),
    Reason("not_yet_valid", 409, _("Not valid yet"),
           _("This voucher is not valid yet. It can be used from %(valid_from)s.")),
    Reason("expired", 409, _("Expired"), _("This voucher expired on %(valid_until)s.")),
    Reason("wrong_store", 409, _("Not for this store"), _("This voucher cannot be used in this store.")),
    Reason("already_redeemed", 409, _("Already redeemed"), _("Already redeemed."), tone="used"),
    Reason("outside_hours", 409, _("Outside usable hours"),
           _("This voucher can only be used at set hours. It can be used from %(next_at)s.")),
    Reason("too_soon", 409, _("Used too recently"),
           _("This voucher was used a short while ago. It can be used again from %(next_at)s.")),
    Reason("daily_limit", 409, _("Used up for today"),
           _("This voucher has given all its uses for today. It can be used again from %(next_at)s.")),
    Reason("insufficient_uses", 409, _("Not enough uses left"), _("Not enough uses left: %(uses_left)s left.")),
    Reason("live_qr_required", 409, _("Live QR needed"),
           _("This voucher needs the buyer's live QR code. Scan it from the buyer's phone.")),
    Reason("qr_expired", 409, _("QR code expired"),
           _("This QR code has expired. Ask the buyer to refresh it and scan again.")),
    Reason("offline_disabled", 403, _("Offline is off"),
           _("Offline redemption is turned off for this store. The owner can turn it on.")),
    Reason("offline_cap", 409, _("Over the offline limit"),
           _("Taken offline beyond what this device was allowed before it synced. Settle it with the buyer.")),
    Reason("already_reversed", 409, _("Already undone"), _("This redemption has already been reversed.")),
    Reason("throttled", 429, _("Too many attempts"), _("Too many wrong codes. Try again in %(retry_after)s seconds.")),
    Reason("forbidden", 403, _("Not allowed"), _("You are not allowed to do this.")),
    Reason("store_required", 400, _("Choose your store"), _("Choose the store you are working at.")),
    Reason("invalid_request", 400, _("Invalid request"), _("Some of what was sent is not valid.")),
    Reason("unauthorized", 401, _("Not logged in"), _("Log in first.")),
)

REASONS = {reason.code: reason for reason in _TABLE}

# A fuller sentence where the facts allow it: "Already redeemed: <when> at <store> by <whom>."
DETAILED = {"already_redeemed": _("Already redeemed: %(at)s at %(store)s by %(staff)s.")}

# Answers that count towards locking a member out: what guessing codes looks like.
GUESS_REASONS = frozenset({"invalid_code", "not_found"})


class Refusal(Exception):
    """A refusal with a stable machine code (the contract's `result`) and the facts behind it."""

    def __init__(self, reason, voucher=None, **facts):
        if reason not in REASONS:
            raise ValueError(f"unknown refusal reason {reason!r}: add it to redemption.reasons")
        super().__init__(reason)
        self.reason = reason
        self.voucher = voucher
        self.facts = facts

    @property
    def status(self):
        return REASONS[self.reason].status


def for_page():
    """The table as the scanner needs it, in the request's language: {code: {title, tone}}.

    The sentence itself comes with each answer, already filled in with its facts."""
    return {r.code: {"title": str(r.title), "tone": r.tone} for r in _TABLE}
