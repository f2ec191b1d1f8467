"""Seed the bench database through the app's own services and write what the clients need as JSON.

Usage: seed.py OUT.json HTTP_VOUCHERS PGBENCH_VOUCHERS
"""

import json
import sys
from decimal import Decimal

import djangoenv

djangoenv.setup()

from django.db import transaction  # noqa: E402
from rest_framework.authtoken.models import Token  # noqa: E402

from redemption import services  # noqa: E402
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
        tokens.append(Token.objects.create(user=member.user).key)
    # redeem.pgbench picks clerk ids as the first one plus an offset.
    if ids != list(range(ids[0], ids[0] + CLERKS)):
        raise SystemExit(f"clerk ids are not consecutive: {ids}")
    return ids, tokens


def issue_codes(product, count):
    codes = []
    order = 0
    while len(codes) < count:
        order += 1
        quantity = min(services.MAX_QUANTITY, count - len(codes))
        vouchers, _ = services.voucher_issue(product=product, order_no=f"BENCH-{order:05d}", quantity=quantity)
        codes.extend(v.code for v in vouchers)
    return codes


def pgbench_pool(product, count):
    """Vouchers for pgbench, bulk-inserted: pgbench reaches them by code, which is derived from their
    number ('PGB' + 13 digits) so its script can compute it as the app receives it."""
    Voucher.objects.bulk_create(
        (
            Voucher(merchant_id=product.merchant_id, product=product, code=f"PGB{g:013d}", order_no="PGBENCH",
                    line=g, uses_total=1, uses_left=1)
            for g in range(1, count + 1)
        ),
        batch_size=5000,
    )
    return count


@transaction.atomic
def seed(http_count, pg_count):
    owner = merchant_create(name="Bench Merchant", owner_username="bench-owner", owner_password=PASSWORD)
    merchant = owner.merchant
    store = Store.objects.create(merchant=merchant, name="Bench Store")
    product = Product.objects.create(merchant=merchant, name="Bench Meal", face_value=Decimal("10.00"), uses_per_voucher=1)
    clerk_ids, tokens = clerks(merchant, store)
    return {
        "merchant_id": merchant.pk,
        "store_id": store.pk,
        "clerk_ids": clerk_ids,
        "tokens": tokens,
        "codes": issue_codes(product, http_count),
        "pgbench_vouchers": pgbench_pool(product, pg_count),
    }


def main():
    out, http_count, pg_count = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    data = seed(http_count, pg_count)
    with open(out, "w") as f:
        json.dump(data, f)


if __name__ == "__main__":
    main()
