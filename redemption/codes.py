"""Voucher codes: generation with a check digit, normalisation of what a clerk types or scans,
masking for staff screens, and the buyer's live QR payload."""

import hashlib
import hmac
import re
import secrets
import time
import unicodedata

from django.conf import settings

CODE_LENGTH = 16
MAX_LENGTH = 128

# Damm's quasigroup of order 10: one check digit that catches every single-digit error and
# every swap of two neighbouring digits, which Luhn does not (09 <-> 90).
_DAMM = (
    (0, 3, 1, 7, 5, 9, 8, 6, 4, 2),
    (7, 0, 9, 2, 1, 5, 4, 8, 6, 3),
    (4, 2, 0, 6, 8, 7, 1, 3, 5, 9),
    (1, 7, 5, 0, 9, 8, 3, 4, 2, 6),
    (6, 1, 2, 3, 0, 4, 5, 9, 7, 8),
    (3, 6, 7, 4, 2, 0, 9, 5, 8, 1),
    (5, 8, 6, 9, 7, 2, 0, 1, 3, 4),
    (8, 9, 4, 5, 3, 6, 2, 0, 1, 7),
    (9, 4, 3, 8, 6, 1, 7, 2, 0, 5),
    (2, 5, 8, 1, 4, 3, 6, 7, 9, 0),
)


def damm_digit(digits):
    interim = 0
    for d in digits:
        interim = _DAMM[interim][ord(d) - 48]
    return str(interim)


def damm_valid(digits):
    return damm_digit(digits) == "0"


def generate():
    """16 digits: 15 random (about 50 bits) and a Damm check digit."""
    body = f"{secrets.randbelow(10**15):015d}"
    return body + damm_digit(body)


def looks_generated(code):
    """16 digits: the shape of our own codes, so a failing check digit means a typo."""
    return len(code) == CODE_LENGTH and code.isascii() and code.isdigit()


def group(code):
    """1234 5678 9012 3456, for reading a code aloud or off a screen."""
    return " ".join(code[i : i + 4] for i in range(0, len(code), 4))


_ASCII_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_DROPPED = re.compile(r"[\s\-‐‑‒–—―−_]+")
_BUYER_URL = re.compile(r"/v/([A-Za-z0-9_-]{16,32})/?(?:[?#].*)?$")
LIVE_PREFIX = "LQ1."


class InvalidCode(ValueError):
    pass


class Parsed:
    """What a scan or a typed entry turned out to be: a code, a buyer-page token or a live QR."""

    __slots__ = ("code", "token", "voucher_id", "live_window", "live_ok", "masked")

    def __init__(self, code=None, token=None, live_window=None, live_ok=False, voucher_id=None):
        self.code = code
        self.token = token
        # A voucher an owner or manager found by its order or phone number (no code in hand).
        self.voucher_id = voucher_id
        self.live_window = live_window
        self.live_ok = live_ok
        self.masked = mask(code) if code else mask(token or "")

    @property
    def is_live(self):
        return self.live_window is not None


def parse(raw):
    """Turn what the clerk typed or scanned into a Parsed, or raise InvalidCode.

    Full-width digits and letters from a Chinese input method become ASCII (NFKC); spaces and
    dashes anywhere are dropped; letters are upper-cased. Trailing Enter/tab from hardware
    scanners is whitespace at the ends and goes too; a control character inside is refused.
    """
    if not isinstance(raw, str):
        raise InvalidCode("not text")
    if len(raw) > 4 * MAX_LENGTH:
        raise InvalidCode("too long")
    text = unicodedata.normalize("NFKC", raw).strip()
    if text.isascii():
        # The common case, and a hot one: ASCII has control characters but no format characters.
        if _ASCII_CONTROL.search(text):
            raise InvalidCode("control character")
    else:
        if any(unicodedata.category(ch) == "Cc" for ch in text):
            raise InvalidCode("control character")
        # Zero-width characters ride along when a code is copied out of a chat app.
        text = "".join(ch for ch in text if unicodedata.category(ch) != "Cf")
    if text.startswith(LIVE_PREFIX):
        return _parse_live(text)
    url = _BUYER_URL.search(text)
    if url and ("://" in text or text.startswith("/")):
        return Parsed(token=url.group(1))
    code = _DROPPED.sub("", text).upper()
    if not code or len(code) > MAX_LENGTH:
        raise InvalidCode("empty or too long")
    return Parsed(code=code)


def mask(code, keep=4):
    """Keep the last four characters (fewer for short codes, so a mask never gives most away)."""
    if not code:
        return ""
    keep = min(keep, len(code) // 2)
    return "****" + code[len(code) - keep :] if keep else "****"


def mask_phone(phone):
    digits = "".join(ch for ch in unicodedata.normalize("NFKC", phone) if ch.isdigit())
    # A mainland mobile with its country code (+86, 0086) masks as it is dialled at home: 139****0003.
    for prefix in ("0086", "86"):
        if digits.startswith(prefix) and len(digits) == len(prefix) + 11 and digits[len(prefix)] == "1":
            digits = digits[len(prefix):]
    if len(digits) >= 7:
        return digits[:3] + "****" + digits[-4:]
    return "****" if digits else ""


def normal_phone(phone):
    """A phone number as kept: as typed, without spaces and dashes (+86 138 0013 8000 -> +8613800138000)."""
    return _DROPPED.sub("", unicodedata.normalize("NFKC", phone))


def phone_forms(phone):
    """The forms a buyer's phone number may be kept in: with or without the +86 of mainland China."""
    phone = normal_phone(phone)
    national = phone.removeprefix("+86") if phone.startswith("+86") else phone
    return sorted({phone, national, "+86" + national})


def mask_order(order_no):
    if len(order_no) <= 4:
        return "****"
    return "****" + order_no[-4:]


# The buyer page shows LQ1.<token>.<window>.<signature> as a QR that changes every LIVE_QR_STEP
# seconds, so a screenshot passed around stops working.
def live_qr_payload(token, at=None):
    window = int((at or time.time()) // settings.LIVE_QR_STEP)
    return f"{LIVE_PREFIX}{token}.{window}.{_live_signature(token, window)}"


def _live_signature(token, window):
    message = f"{token}.{window}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()[:20]


def _parse_live(text):
    try:
        token, window, signature = text[len(LIVE_PREFIX) :].split(".")
        window = int(window)
    except ValueError:
        raise InvalidCode("malformed live QR") from None
    if not hmac.compare_digest(signature.lower(), _live_signature(token, window)):
        raise InvalidCode("forged live QR")
    now = int(time.time() // settings.LIVE_QR_STEP)
    # The window on screen and the one before it: scanning takes a moment.
    return Parsed(token=token, live_window=window, live_ok=now - 1 <= window <= now + 1)
