"""Issuing codes for platform orders: one order through the API or the dashboard, or a whole
order export at once."""

import datetime as dt
import itertools
import re
from dataclasses import dataclass

from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from redemption import codes, hotpath, sheets
from redemption.models import IssueBatch, Product, Voucher, new_token

MAX_QUANTITY = 1000


def validity_for(product, issued_at, tz):
    """A voucher's validity: the product's window, cut short by `valid_days` counted from the day of issue."""
    valid_until = product.valid_until
    if product.valid_days:
        last_day = issued_at.astimezone(tz).date() + dt.timedelta(days=product.valid_days - 1)
        end = dt.datetime.combine(last_day, dt.time.max, tzinfo=tz)
        valid_until = min(valid_until, end) if valid_until else end
    return product.valid_from, valid_until





def unused_code(merchant_id):
    while True:
        code = codes.generate()
        if not Voucher.objects.filter(merchant_id=merchant_id, code=code).exists():
            return code


def voucher_issue(*, product: Product, order_no, channel="manual", quantity=1, buyer_phone="") -> tuple[list, bool]:
    """Issue `quantity` vouchers for an order. Idempotent on (merchant, channel, order_no):
    a repeat returns the vouchers already issued and False."""
    merchant = product.merchant
    buyer_phone = codes.normal_phone(buyer_phone)
    existing = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line", "id"))
    if existing:
        return existing, False
    now = timezone.now()
    valid_from, valid_until = validity_for(product, now, merchant.tz)
    for _attempt in range(3):
        vouchers = [
            Voucher(
                merchant=merchant, product=product, code=codes.generate(), channel=channel, order_no=order_no,
                line=line, buyer_phone=buyer_phone, uses_total=product.uses_per_voucher,
                uses_left=product.uses_per_voucher, valid_from=valid_from, valid_until=valid_until, created_at=now,
            )
            for line in range(1, quantity + 1)
        ]
        try:
            with transaction.atomic():
                Voucher.objects.bulk_create(vouchers)
                hotpath.recount_orders(merchant.pk, [(channel, order_no)])
        except IntegrityError:
            # Either the same order was issued at the same moment (answer with its vouchers),
            # or, once in a blue moon, a random code collided (draw again).
            existing = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line", "id"))
            if existing:
                return existing, False
            continue
        if not vouchers[0].pk:  # backends that do not return ids from bulk inserts
            vouchers = list(Voucher.objects.filter(merchant=merchant, channel=channel, order_no=order_no).order_by("line"))
        for voucher in vouchers:
            voucher.product = product
        return vouchers, True
    raise RuntimeError("could not draw unique voucher codes")


class ImportRefused(Exception):
    """The file cannot be taken; `errors` names each bad line and why."""

    def __init__(self, errors):
        super().__init__("invalid file")
        self.errors = errors


def read_sheet(raw):
    """The uploaded table's rows (sheets.rows), or the refusal a merchant can act on."""
    try:
        reader = sheets.rows(raw)
        first = next(reader, [])
    except sheets.Unreadable:
        raise ImportRefused([{"line": 1, "message": _(
            "The file is neither a CSV (UTF-8 or GB18030) nor an Excel workbook (.xlsx).")}]) from None
    return _refusing(itertools.chain([first], reader))


def _refusing(reader):
    # A workbook damaged past its first row is found out only as it is read.
    try:
        yield from reader
    except sheets.Unreadable:
        raise ImportRefused([{"line": 1, "message": _("The Excel workbook is damaged. Save it again and retry.")}]) from None


# The headers platforms' order exports use, as the contract lists them.
ORDER_COLUMNS = ("订单号", "订单编号", "主订单编号", "order_no")
QUANTITY_COLUMNS = ("数量", "商品数量", "购买数量", "quantity")
PHONE_COLUMNS = ("手机号", "收货人手机", "收货人电话", "联系电话", "买家手机号", "buyer_phone")
FILE_MAX_VOUCHERS = 100_000
_QUANTITY = re.compile(r"\d{1,7}(\.0+)?")
_PHONE = re.compile(r"\+?\d{5,20}")


@dataclass
class FileOrder:
    line: int
    quantity: int
    phone: str


def vouchers_issue_file(*, member, product: Product, channel, raw: bytes) -> IssueBatch:
    """Issue codes for every order of a platform's order export, all or none.

    Columns are found by their header; rows with one order number are one order (quantities
    added). Idempotent per order like voucher_issue: an order issued before, by the API or an
    earlier file, gets nothing new, counts as repeated, and its vouchers are in the batch's
    delivery file. Every bad line is named at once (ImportRefused), and then nothing is issued.
    """
    orders = _read_orders(raw)
    for _attempt in range(3):
        try:
            with transaction.atomic():
                return _issue_orders(member, product, channel, orders)
        except IntegrityError:
            # The same order issued elsewhere at this very moment (or, once in a blue moon, a code
            # drawn twice): look again at which orders are new, and draw again.
            continue
    raise ImportRefused([{"line": 1, "message": _(
        "Some of these orders were issued by someone else at the same moment. Send the file again."
    )}])


def _read_orders(raw) -> dict[str, FileOrder]:
    reader = read_sheet(raw)
    header = [sheets.text(name).lstrip("\ufeff").strip().lower() for name in next(reader, [])]
    column = lambda names: next((header.index(n.lower()) for n in names if n.lower() in header), None)  # noqa: E731
    at_order, at_quantity, at_phone = column(ORDER_COLUMNS), column(QUANTITY_COLUMNS), column(PHONE_COLUMNS)
    if at_order is None:
        raise ImportRefused([{"line": 1, "message": _(
            "No order number column: the first row must name one of %(names)s."
        ) % {"names": "、".join(ORDER_COLUMNS)}}])
    orders, errors, total = {}, [], 0
    for line, values in enumerate(reader, start=2):
        if not any(v.strip() for v in values):
            continue
        cell = lambda at: sheets.text(values[at]) if at is not None and at < len(values) else ""  # noqa: E731
        problems, order_no = _order_no_problems(cell(at_order))
        quantity = _quantity(cell(at_quantity)) if at_quantity is not None else 1
        if quantity is None:
            problems.append(_("The quantity must be a whole number from 1 to %(most)s.") % {"most": MAX_QUANTITY})
        phone, phone_ok = _phone(cell(at_phone))
        if not phone_ok:
            problems.append(_("The phone number is not one."))
        if problems:
            errors.append({"line": line, "message": " ".join(str(p) for p in problems)})
            continue
        order = orders.setdefault(order_no, FileOrder(line=line, quantity=0, phone=phone))
        order.quantity += quantity
        order.phone = order.phone or phone
        total += quantity
        if order.quantity > MAX_QUANTITY:
            errors.append({"line": line, "message": _(
                "Order %(order)s adds up to more than %(most)s vouchers.") % {"order": order_no, "most": MAX_QUANTITY}})
        if total > FILE_MAX_VOUCHERS:
            errors.append({"line": line, "message": _("At most %(n)s vouchers per file.") % {"n": FILE_MAX_VOUCHERS}})
            break
    if not orders and not errors:
        errors.append({"line": 2, "message": _("The file has no orders.")})
    if errors:
        raise ImportRefused(errors)
    return orders


def _order_no_problems(order_no):
    if not order_no:
        return [_("The order number is empty.")], order_no
    if sheets.mangled(order_no):
        return [_(
            "The order number %(shown)s was turned into a number by Excel and its last digits are lost. "
            "Export the orders from the platform again and upload that file as it is, without opening and "
            "saving it in Excel (or set the order number column to Text first)."
        ) % {"shown": order_no}], order_no
    if len(order_no) > 64 or any(ch.isspace() or not ch.isprintable() for ch in order_no):
        return [_("The order number is too long or has spaces or control characters.")], order_no
    return [], order_no


def _quantity(text):
    if not _QUANTITY.fullmatch(text):
        return None
    quantity = int(text.split(".")[0])
    return quantity if 1 <= quantity <= MAX_QUANTITY else None


def _phone(text):
    """(the phone as kept, whether it is one). A number the platform masked (138****8000) is no
    number to keep: it is left out rather than refused."""
    if not text or "*" in text:
        return "", True
    phone = codes.normal_phone(text)
    return phone, bool(_PHONE.fullmatch(phone))


def _issue_orders(member, product, channel, orders):
    merchant = product.merchant
    order_nos = list(orders)
    repeated = set()
    for start in range(0, len(order_nos), 5000):
        chunk = order_nos[start : start + 5000]
        repeated.update(
            Voucher.objects.filter(merchant=merchant, channel=channel, order_no__in=chunk)
            .values_list("order_no", flat=True).distinct()
        )
    earlier = 0
    for start in range(0, len(order_nos), 5000):
        chunk = [order_no for order_no in order_nos[start : start + 5000] if order_no in repeated]
        earlier += (Voucher.objects.filter(merchant=merchant, channel=channel, order_no__in=chunk)
                    .exclude(state=Voucher.State.VOIDED).count())
    now = timezone.now()
    valid_from, valid_until = validity_for(product, now, merchant.tz)
    rows = [
        {"merchant_id": merchant.pk, "product_id": product.pk, "code": codes.generate(), "token": new_token(),
         "channel": channel, "order_no": order_no, "line": line, "buyer_phone": order.phone,
         "uses_total": product.uses_per_voucher, "uses_left": product.uses_per_voucher,
         "valid_from": valid_from, "valid_until": valid_until, "state": Voucher.State.ACTIVE,
         "password_ciphertext": "", "password_key": "", "void_reason": "", "created_at": now}
        for order_no, order in orders.items() if order_no not in repeated
        for line in range(1, order.quantity + 1)
    ]
    hotpath.bulk_insert(Voucher, rows)
    hotpath.recount_orders(merchant.pk, [(channel, order_no) for order_no in orders if order_no not in repeated])
    return IssueBatch.objects.create(
        merchant=merchant, product=product, channel=channel, created_by=member, created_at=now,
        order_nos=order_nos, orders=len(orders), vouchers=len(rows) + earlier, repeated=len(repeated),
    )


def batch_vouchers(batch: IssueBatch):
    """The vouchers a batch's delivery file lists, in the file's order: every voucher of its
    orders that still works (a voided one is left out; its reissue is in)."""
    place = {order_no: i for i, order_no in enumerate(batch.order_nos)}
    found = []
    for start in range(0, len(batch.order_nos), 5000):
        found += Voucher.objects.filter(
            merchant_id=batch.merchant_id, channel=batch.channel, order_no__in=batch.order_nos[start : start + 5000],
        ).exclude(state=Voucher.State.VOIDED)
    return sorted(found, key=lambda v: (place[v.order_no], v.line, v.pk))
