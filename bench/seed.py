"""Seed the bench database through the app's own services and write what the clients need as JSON.

Usage: seed.py OUT.json HTTP_VOUCHERS PGBENCH_VOUCHERS
"""

import importlib
import json
import sys
from decimal import Decimal

import djangoenv

djangoenv.setup()

from django.db import connection, transaction  # noqa: E402
from staff.devices import token_for  # noqa: E402

from redemption import codes  # noqa: E402
from redemption.models import Product, Voucher  # noqa: E402
from staff.models import Role, Store  # noqa: E402
from staff.services import merchant_create, staff_create  # noqa: E402

CLERKS = 32
PASSWORD = "bench-only-9"


def clerks(merchant, store):
    ids, tokens = [], []
    for n in range(1, CLERKS + 1):
        member = staff_create(
            merchant=merchant, username=f"bench-clerk-{n}", password=PASSWORD,
            display_name=f"Clerk {n}", role=Role.CLERK, stores=[store],
        )
        ids.append(member.pk)
        tokens.append(token_for(member.user))
    # redeem.pgbench picks clerk ids as the first one plus an offset.
    if ids != list(range(ids[0], ids[0] + CLERKS)):
        raise SystemExit(f"clerk ids are not consecutive: {ids}")
    return ids, tokens


def issue_codes(product, count, order_size=None):
    """Vouchers in orders of one to three, as buyers' orders come (bulk-inserted; their orders are
    counted in one go by count_orders). Orders of a thousand would put every client's redeem on one
    order's total row, which a counter never sees: see bench/README.md. With `order_size`, every
    order has that many (a bulk order: a company's 500 meal vouchers), handed out in order, so the
    clients redeem one order's vouchers at once."""
    issued, order = set(), 0
    vouchers = []
    while len(vouchers) < count:
        order += 1
        size = order_size or 1 + order % 3
        for line in range(1, min(size, count - len(vouchers)) + 1):
            code = codes.generate()
            while code in issued:
                code = codes.generate()
            issued.add(code)
            vouchers.append(Voucher(merchant_id=product.merchant_id, product=product, code=code,
                                    order_no=f"BENCH-{order:05d}", line=line, uses_total=1, uses_left=1))
    Voucher.objects.bulk_create(vouchers, batch_size=5000)
    return [v.code for v in vouchers]


def pgbench_pool(product, count):
    """Vouchers for pgbench, bulk-inserted: pgbench reaches them by code, which is derived from their
    number ('PGB' + 13 digits) so its script can compute it as the app receives it."""
    Voucher.objects.bulk_create(
        (
            Voucher(merchant_id=product.merchant_id, product=product, code=f"PGB{g:013d}", order_no=f"PGB{g:013d}",
                    line=1, uses_total=1, uses_left=1)
            for g in range(1, count + 1)
        ),
        batch_size=5000,
    )
    return count


@transaction.atomic
def seed(http_count, pg_count, order_size=None):
    owner = merchant_create(name="Bench Merchant", owner_username="bench-owner", owner_password=PASSWORD)
    merchant = owner.merchant
    store = Store.objects.create(merchant=merchant, name="Bench Store")
    product = Product.objects.create(merchant=merchant, name="Bench Meal", face_value=Decimal("10.00"), uses_per_voucher=1)
    clerk_ids, tokens = clerks(merchant, store)
    seeded = {
        "merchant_id": merchant.pk,
        "store_id": store.pk,
        "clerk_ids": clerk_ids,
        "tokens": tokens,
        "codes": issue_codes(product, http_count, order_size),
        "pgbench_vouchers": pgbench_pool(product, pg_count),
    }
    count_orders()
    return seeded


def count_orders():
    """Every order's total, as the migration that introduced them counts them."""
    orders = importlib.import_module("redemption.migrations.0012_order_totals")
    with connection.schema_editor() as editor:
        orders.fill(None, editor)


def main():
    out, http_count, pg_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    order_size = int(sys.argv[4]) if len(sys.argv) > 4 else None
    data = seed(http_count, pg_count, order_size)
    with open(out, "w") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
