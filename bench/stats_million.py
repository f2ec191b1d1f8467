"""Times the stats endpoints over 1,000,000 redemptions (the target: ≤ 200 ms each), on a throwaway
PostgreSQL database filled with generate_series.

Usage: .venv/bin/python bench/stats_million.py [REDEMPTIONS]
"""

import datetime as dt
import importlib
import os
import statistics
import sys
import time
from decimal import Decimal

import djangoenv

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_stats_bench")


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    owner = seed(total)
    time_endpoints(owner)


def seed(total):
    """A merchant with 5 stores, 40 clerks, 8 products, total / 5 vouchers and `total` redemptions,
    an attempt for each and one refused attempt for every 20; the daily totals and first uses
    filled by the migration that introduced them. Returns the owner."""
    djangoenv.throwaway_database(URL)
    from django.apps import apps
    from django.db import connection

    from redemption.models import Product
    from staff.models import Store
    from staff.services import merchant_create, staff_create

    owner = merchant_create(name="Stats", owner_username="stats-owner", owner_password="stats-bench-pw")
    merchant = owner.merchant
    stores = [Store.objects.create(merchant=merchant, name=f"Store {i}") for i in range(5)]
    staff = [staff_create(merchant=merchant, username=f"clerk{i}", password="x-long-pw", display_name=f"Clerk {i}",
                          stores=[stores[i % 5]]) for i in range(40)]
    products = [Product.objects.create(merchant=merchant, name=f"P{i}", face_value=Decimal("100"), uses_per_voucher=5)
                for i in range(8)]
    vouchers = total // 5
    started = time.perf_counter()
    with connection.cursor() as c:
        # Vouchers issued over the last 90 days, five uses each, every use redeemed within 30 days of issue.
        c.execute(f"""
            INSERT INTO redemption_voucher (merchant_id, product_id, code, token, channel, order_no, line, buyer_phone,
                uses_total, uses_left, valid_from, valid_until, state, void_reason, created_at)
            SELECT {merchant.pk}, {products[0].pk} + g % 8, lpad(g::text, 16, '0'), md5(g::text), 'pdd', 'O' || g, 1, '',
                   5, 0, NULL, NULL, CASE WHEN g % 50 = 0 THEN 'voided' ELSE 'active' END, '',
                   now() - (g % 90) * interval '1 day'
            FROM generate_series(1, {vouchers}) g""")
        c.execute(f"""
            INSERT INTO redemption_redemption (merchant_id, voucher_id, store_id, staff_id, uses, value, at,
                idempotency_key, reversed_at, reverse_reason)
            SELECT v.merchant_id, v.id, {stores[0].pk} + (v.id + k) % 5, {staff[0].pk} + (v.id + k) % 40, 1, 20,
                   v.created_at + (k * 3 + v.id % 5) * interval '1 day', NULL,
                   CASE WHEN (v.id + k) % 97 = 0 THEN now() END, ''
            FROM redemption_voucher v CROSS JOIN generate_series(0, 4) k WHERE v.merchant_id = {merchant.pk}""")
        # Every redeem writes an attempt beside its redemption.
        c.execute("""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT merchant_id, staff_id, store_id, voucher_id, 'redeem', '****0000', 'redeemed', at
            FROM redemption_redemption""")
        c.execute(f"""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT {merchant.pk}, {staff[0].pk} + g % 40, {stores[0].pk} + g % 5, NULL, 'redeem', '****0000', 'not_found',
                   now() - (g % 90) * interval '1 day'
            FROM generate_series(1, {total // 20}) g""")
    filled = importlib.import_module("redemption.migrations.0008_daily_totals_and_first_use")
    with connection.schema_editor() as editor:
        filled.fill(apps, editor)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    print(f"seeded {vouchers:,} vouchers and {vouchers * 5:,} redemptions in {time.perf_counter() - started:.0f} s")
    return owner


def time_endpoints(owner):
    from django.test import Client
    from django.utils import timezone
    from staff.devices import token_for

    client = Client(HTTP_AUTHORIZATION=f"Token {token_for(owner.user)}")
    today = timezone.localdate()
    ranges = {"30 days": (today - dt.timedelta(days=29), today),
              "120 days (all)": (today - dt.timedelta(days=119), today)}
    for path in ("/api/v1/stats/staff/", "/api/v1/stats/stores/", "/api/v1/stats/products/"):
        for label, (start, end) in ranges.items():
            times = []
            for _ in range(5):
                began = time.perf_counter()
                response = client.get(path, {"from": start.isoformat(), "to": end.isoformat()})
                times.append((time.perf_counter() - began) * 1000)
                assert response.status_code == 200, response.content[:200]
            print(f"{path:<26} {label:<15} median {statistics.median(times):7.1f} ms  (max {max(times):.1f})")


if __name__ == "__main__":
    main()
