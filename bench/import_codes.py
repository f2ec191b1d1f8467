"""Times importing 100,000 card codes from one CSV (the target: ≤ 10 s), on the database in
DATABASE_URL (default: a throwaway PostgreSQL database redemption_import_bench).

Usage: .venv/bin/python bench/import_codes.py [ROWS]
"""

import os
import sys
import time
from decimal import Decimal

import djangoenv

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_import_bench")


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 100_000
    djangoenv.throwaway_database(URL)

    from redemption import services
    from redemption.models import Product
    from staff.services import merchant_create

    owner = merchant_create(name="Import", owner_username="import-owner", owner_password="import-bench-pw")
    product = Product.objects.create(merchant=owner.merchant, name="Card", face_value=Decimal("30"))
    lines = ["code,password,order_no,valid_until"]
    lines += [f"CARD{n:012d},{n * 7919 % 1000000:06d},TB-{n},2030-12-31" for n in range(rows)]
    raw = ("\n".join(lines) + "\n").encode()
    started = time.perf_counter()
    count = services.voucher_import(product=product, raw=raw)
    seconds = time.perf_counter() - started
    print(f"imported {count} codes ({len(raw) / 1e6:.1f} MB CSV) in {seconds:.2f} s: {count / seconds:,.0f} codes/s (target: 100,000 in ≤ 10 s)")


if __name__ == "__main__":
    main()
