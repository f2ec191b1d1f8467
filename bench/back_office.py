"""Times the back office over 1,000,000 redemptions (the target: ≤ 200 ms each): the orders list
and its export, the daily statement, and one voucher's history, on a throwaway PostgreSQL database
filled with generate_series. Prints each endpoint's median and the query plans of the orders list.

Usage: .venv/bin/python bench/back_office.py [REDEMPTIONS]   (default 1,000,000; the machine quiet)
"""

import datetime as dt
import importlib
import os
import statistics
import sys
import time
from decimal import Decimal

import djangoenv

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/back_office_bench")
CHANNELS = ("pdd", "taobao", "youzan", "meituan")


def main():
    total = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    owner, busy = seed(total)
    time_endpoints(owner, busy)


def seed(total):
    """A merchant with 5 stores, 40 clerks, 8 products (5 uses each) and total / 5 vouchers in orders
    of one to three, across four platforms, issued over the last 90 days; `total` redemptions, one
    in 97 reversed; an attempt for each, a refusal for every 20, a check for every 10; a page view
    for every other voucher and an owner's act for every 50th. The daily totals and first uses come
    from the migration that introduced them. Returns the owner and the busiest voucher's id."""
    djangoenv.throwaway_database(URL)
    from django.apps import apps
    from django.db import connection

    from redemption.models import Product
    from staff.models import Store
    from staff.services import merchant_create, staff_create

    owner = merchant_create(name="Back office", owner_username="bo-owner", owner_password="bo-bench-pw")
    merchant = owner.merchant
    stores = [Store.objects.create(merchant=merchant, name=f"Store {i}") for i in range(5)]
    staff = [staff_create(merchant=merchant, username=f"clerk{i}", password="x-long-pw", display_name=f"Clerk {i}",
                          stores=[stores[i % 5]]) for i in range(40)]
    products = [Product.objects.create(merchant=merchant, name=f"P{i}", face_value=Decimal("100"), uses_per_voucher=5)
                for i in range(8)]
    vouchers = total // 5
    channels = "ARRAY[" + ", ".join(f"'{c}'" for c in CHANNELS) + "]"
    started = time.perf_counter()
    with connection.cursor() as c:
        # Orders of 1, 2 or 3 vouchers: voucher g belongs to order g / 3 when g / 3 is odd, else to its own.
        c.execute(f"""
            INSERT INTO redemption_voucher (merchant_id, product_id, code, token, channel, order_no, line, buyer_phone,
                uses_total, uses_left, valid_from, valid_until, state, void_reason, created_at,
                first_viewed_at, last_viewed_at, view_count)
            SELECT {merchant.pk}, {products[0].pk} + g % 8, lpad(g::text, 16, '0'), md5(g::text),
                   ({channels})[1 + (g / 3) % 4],
                   CASE WHEN (g / 3) % 2 = 1 THEN 'O' || (g / 3) ELSE 'S' || g END,
                   CASE WHEN (g / 3) % 2 = 1 THEN 1 + g % 3 ELSE 1 END, '',
                   5, 0, NULL, NULL, CASE WHEN g % 50 = 0 THEN 'voided' ELSE 'active' END, '',
                   now() - (g % 90) * interval '1 day',
                   CASE WHEN g % 2 = 0 THEN now() - (g % 90) * interval '1 day' + interval '1 hour' END,
                   CASE WHEN g % 2 = 0 THEN now() - (g % 90) * interval '1 day' + interval '3 hours' END,
                   CASE WHEN g % 2 = 0 THEN 1 + g % 7 ELSE 0 END
            FROM generate_series(1, {vouchers}) g""")
        c.execute(f"""
            INSERT INTO redemption_redemption (merchant_id, voucher_id, store_id, staff_id, uses, value, at,
                idempotency_key, reversed_at, reverse_reason)
            SELECT v.merchant_id, v.id, {stores[0].pk} + (v.id + k) % 5, {staff[0].pk} + (v.id + k) % 40, 1, 20,
                   v.created_at + (k * 3 + v.id % 5) * interval '1 day', NULL,
                   CASE WHEN (v.id + k) % 97 = 0 THEN now() END, ''
            FROM redemption_voucher v CROSS JOIN generate_series(0, 4) k WHERE v.merchant_id = {merchant.pk}""")
        c.execute("""
            UPDATE redemption_voucher v SET uses_left = r.reversed
            FROM (SELECT voucher_id, count(*) FILTER (WHERE reversed_at IS NOT NULL) AS reversed
                  FROM redemption_redemption GROUP BY voucher_id) r
            WHERE r.voucher_id = v.id AND r.reversed > 0""")
        c.execute("""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT merchant_id, staff_id, store_id, voucher_id, 'redeem', '****0000', 'redeemed', at
            FROM redemption_redemption""")
        c.execute("""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT merchant_id, staff_id, store_id, voucher_id, 'check', '****0000', 'redeemable', at - interval '1 minute'
            FROM redemption_redemption WHERE id % 10 = 0""")
        c.execute(f"""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT {merchant.pk}, {staff[0].pk} + g % 40, {stores[0].pk} + g % 5, NULL, 'redeem', '****0000', 'not_found',
                   now() - (g % 90) * interval '1 day'
            FROM generate_series(1, {total // 20}) g""")
        c.execute(f"""
            INSERT INTO redemption_voucherlog (merchant_id, voucher_id, staff_id, action, note, at)
            SELECT merchant_id, id, {owner.pk}, 'frozen', '', created_at + interval '2 hours'
            FROM redemption_voucher WHERE id % 50 = 1""")
        c.execute("SELECT voucher_id FROM redemption_redemption GROUP BY voucher_id ORDER BY count(*) DESC, voucher_id LIMIT 1")
        busy = c.fetchone()[0]
        # The busiest voucher also had a bad day at the counter: a hundred refusals.
        c.execute(f"""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT {merchant.pk}, {staff[0].pk}, {stores[0].pk}, {busy}, 'redeem', '****0000', 'already_redeemed',
                   now() - g * interval '1 minute'
            FROM generate_series(1, 100) g""")
    filled = importlib.import_module("redemption.migrations.0008_daily_totals_and_first_use")
    orders = importlib.import_module("redemption.migrations.0012_order_totals")
    with connection.schema_editor() as editor:
        filled.fill(apps, editor)
        orders.fill(apps, editor)
    with connection.cursor() as c:
        c.execute("ANALYZE")
    print(f"seeded {vouchers:,} vouchers and {vouchers * 5:,} redemptions in {time.perf_counter() - started:.0f} s")
    return owner, busy


def timed(client, path, query=None, runs=5):
    times = []
    for _ in range(runs):
        began = time.perf_counter()
        response = client.get(path, query or {})
        body = b"".join(response.streaming_content) if response.streaming else response.content
        times.append((time.perf_counter() - began) * 1000)
        assert response.status_code == 200, body[:200]
    return statistics.median(times), max(times), len(body)


def time_endpoints(owner, busy):
    from django.test import Client
    from django.utils import timezone
    from staff.devices import token_for

    client = Client(HTTP_AUTHORIZATION=f"Token {token_for(owner.user)}")
    today = timezone.localdate()
    day = {"from": today.isoformat(), "to": today.isoformat()}
    month = {"from": (today - dt.timedelta(days=29)).isoformat(), "to": today.isoformat()}
    everything = {"from": (today - dt.timedelta(days=119)).isoformat(), "to": (today + dt.timedelta(days=30)).isoformat()}
    cases = [
        ("/api/v1/orders/", "all, first page", {}),
        ("/api/v1/orders/", "all, page 50", {"page": 50}),
        ("/api/v1/orders/", "today, pdd, redeemed", {**day, "channel": "pdd", "status": "redeemed"}),
        ("/api/v1/orders/", "30 days", month),
        ("/api/v1/orders/", "search an order", {"q": "O3"}),
        ("/api/v1/orders/export.csv", "today, pdd", {**day, "channel": "pdd"}),
        ("/api/v1/stats/daily/", "30 days", month),
        ("/api/v1/stats/daily/", "150 days (all)", everything),
        ("/api/v1/stats/daily.csv", "150 days (all)", everything),
        (f"/api/v1/vouchers/{busy}/history/", "the busiest voucher", {}),
    ]
    for path, label, query in cases:
        median, worst, size = timed(client, path, query)
        print(f"{path:<36} {label:<22} median {median:7.1f} ms  (max {worst:.1f}, {size:,} bytes)")
    explain(owner)


def explain(owner):
    """The plan of the orders list as the dashboard asks for it, for looking at indexes."""
    from django.db import connection

    from redemption import selectors

    with connection.execute_wrapper(_explaining):
        selectors.order_list(member=owner, day_from=dt.date.today(), day_to=dt.date.today(), channel="pdd", page=(0, 50))


def _explaining(execute, sql, params, many, context):
    if sql.lstrip().startswith("WITH"):
        execute("EXPLAIN (ANALYZE, BUFFERS) " + sql, params, many, context)
        print("\n".join(row[0] for row in context["cursor"].fetchall()))
    return execute(sql, params, many, context)


if __name__ == "__main__":
    main()
