"""Third-party card codes: importing them from a supplier's file, and their passwords, which are
encrypted at rest and revealed only to the owner."""

import datetime as dt
import functools
import logging
import secrets

from django.db import IntegrityError, transaction
from django.db.models import Max
from django.utils import timezone
from django.utils.translation import gettext as _

from redemption import cipher, codes, hotpath
from redemption.models import Channel, Product, Voucher, VoucherLog, new_token
from redemption.reasons import Refusal
from redemption.services.issue import ImportRefused, read_sheet, validity_for
from redemption.services.vouchers import log_action
from staff.models import Membership

log = logging.getLogger(__name__)

IMPORT_COLUMNS = ("code", "password", "order_no", "valid_until")
IMPORT_MAX_ROWS = 200_000


def voucher_import(*, product: Product, raw: bytes) -> int:
    """Import third-party card codes (code, optional password, order number, expiry) for a product,
    from a CSV or the first sheet of an XLSX workbook.

    All rows or none: every bad row is reported with its line number, and nothing is written
    unless the whole file is good. Returns how many vouchers were created.
    """
    merchant = product.merchant
    reader = read_sheet(raw)
    header = [name.strip().lower() for name in next(reader, [])]
    unknown = [name for name in header if name not in IMPORT_COLUMNS]
    if "code" not in header or unknown or len(set(header)) != len(header):
        raise ImportRefused([{"line": 1, "message": _("The first row must name the columns: code, and optionally password, order_no, valid_until.")}])
    errors, rows, seen = [], [], {}
    now = timezone.now()
    # Rows without an order number form one order of their own, named so no two imports share it.
    batch = now.strftime("IMPORT-%Y%m%d%H%M%S-") + secrets.token_hex(3).upper()
    default_from, default_until = validity_for(product, now, merchant.tz)
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        if len(rows) >= IMPORT_MAX_ROWS:
            errors.append({"line": line, "message": _("At most %(n)s rows per file.") % {"n": IMPORT_MAX_ROWS}})
            break
        if len(values) != len(header):
            errors.append({"line": line, "message": _("This row has %(got)s columns; the header has %(want)s.") % {"got": len(values), "want": len(header)}})
            continue
        row = dict(zip(header, (v.strip() for v in values)))
        problem, voucher = _import_row(row, line, product, batch, default_from, default_until)
        if problem:
            errors.append({"line": line, "message": problem})
            continue
        if voucher["code"] in seen:
            errors.append({"line": line, "message": _("This code is also on line %(line)s.") % {"line": seen[voucher["code"]]}})
            continue
        seen[voucher["code"]] = line
        rows.append(voucher)
    if not rows and not errors:
        errors.append({"line": 2, "message": _("The file has no rows.")})
    codes_in_file = list(seen)
    for start in range(0, len(codes_in_file), 5000):
        taken = Voucher.objects.filter(merchant=merchant, code__in=codes_in_file[start : start + 5000])
        for code in taken.values_list("code", flat=True):
            errors.append({"line": seen[code], "message": _("This code has been imported or issued before.")})
    if errors:
        raise ImportRefused(sorted(errors, key=lambda e: e["line"]))
    for _attempt in range(3):
        _number_lines(merchant, rows)
        try:
            with transaction.atomic():
                hotpath.bulk_insert(Voucher, rows)
                hotpath.recount_orders(merchant.pk, {(row["channel"], row["order_no"]) for row in rows})
            return len(rows)
        except IntegrityError:
            # Another import or issue took the same order lines (or codes) at this very moment:
            # number the lines again after theirs; a code taken meanwhile fails again below.
            continue
    raise ImportRefused([{"line": 1, "message": _(
        "Some of these codes or order numbers were added by someone else at the same moment. Send the file again."
    )}])


def _number_lines(merchant, rows):
    """Each row's place within its order, after the vouchers the order already has (an order may
    arrive in several files, or have been issued through the API before)."""
    order_nos = sorted({row["order_no"] for row in rows})
    last = {}
    for start in range(0, len(order_nos), 5000):
        taken = (
            Voucher.objects.filter(merchant=merchant, channel=Channel.OTHER, order_no__in=order_nos[start : start + 5000])
            .values("order_no").annotate(last=Max("line")).values_list("order_no", "last")
        )
        last.update(taken)
    for row in rows:
        last[row["order_no"]] = row["line"] = last.get(row["order_no"], 0) + 1


def _import_row(row, line, product, batch, default_from, default_until):
    try:
        parsed = codes.parse(row["code"])
    except codes.InvalidCode:
        return _("The code is empty, too long or has control characters."), None
    if parsed.code is None:
        return _("The code is empty, too long or has control characters."), None
    valid_until = default_until
    if row.get("valid_until"):
        valid_until = _import_date(row["valid_until"], product.merchant.tz)
        if valid_until is None:
            return _("valid_until must be a date as YYYY-MM-DD."), None
    order_no = row.get("order_no") or batch
    if len(order_no) > 64 or len(row.get("password", "")) > 128:
        return _("The order number or the password is too long."), None
    ciphertext, key_id = cipher.encrypt(row.get("password", ""))
    return None, {
        "merchant_id": product.merchant_id, "product_id": product.pk, "code": parsed.code, "token": new_token(),
        "channel": Channel.OTHER, "order_no": order_no, "line": line, "buyer_phone": "",
        "uses_total": product.uses_per_voucher, "uses_left": product.uses_per_voucher,
        "valid_from": default_from, "valid_until": valid_until, "state": Voucher.State.ACTIVE,
        "password_ciphertext": ciphertext, "password_key": key_id, "void_reason": "", "created_at": timezone.now(),
    }


@functools.lru_cache(maxsize=4096)
def _import_date(value, tz):
    """A day (2026-12-31, or 2026/1/5 as Excel writes it: the end of that day) or an ISO 8601 time."""
    for pattern in ("%Y-%m-%d", "%Y/%m/%d"):
        try:
            day = dt.datetime.strptime(value, pattern).date()
        except ValueError:
            continue
        return dt.datetime.combine(day, dt.time.max, tzinfo=tz)
    try:
        moment = dt.datetime.fromisoformat(value)
    except ValueError:
        return None
    return moment if moment.tzinfo else moment.replace(tzinfo=tz)


@transaction.atomic
def voucher_reveal(*, member: Membership, voucher_id) -> tuple[Voucher, str]:
    """The whole code and the card password of a voucher, for its owner; every reveal is logged."""
    voucher = Voucher.objects.filter(merchant_id=member.merchant_id, pk=voucher_id).first()
    if voucher is None:
        raise Refusal("not_found")
    password = cipher.decrypt(voucher.password_ciphertext, voucher.password_key)
    log_action(member, voucher, VoucherLog.Action.REVEALED)
    log.info("voucher %s revealed by staff %s", voucher.pk, member.pk)
    return voucher, password


def passwords_reencrypt(*, batch=2000) -> int:
    """Encrypt again under the first key every card password kept under another; how many moved."""
    current = cipher.keys()[0].id
    moved = 0
    stale = Voucher.objects.exclude(password_key__in=["", current]).order_by("pk")
    while True:
        rows = list(stale.values_list("pk", "password_ciphertext", "password_key")[:batch])
        if not rows:
            return moved
        with transaction.atomic():
            for pk, ciphertext, key_id in rows:
                fresh, fresh_key = cipher.encrypt(cipher.decrypt(ciphertext, key_id))
                Voucher.objects.filter(pk=pk, password_key=key_id).update(password_ciphertext=fresh, password_key=fresh_key)
        moved += len(rows)

