"""Times issuing codes for a platform's order export of 10,000 orders (the target: ≤ 10 s), through
the API as the owner's browser sends it (multipart upload, the whole request), then downloading
its delivery file, on the database in BENCH_DATABASE_URL (default: a throwaway PostgreSQL database
redemption_issue_bench). Orders hold one to three vouchers, as they come; one row in ten repeats
an order number (a second line of the same order), and one order in twenty was issued before
through the API.

Usage: .venv/bin/python bench/issue_file.py [ORDERS] [csv|xlsx]
"""

import io
import os
import sys
import time
from decimal import Decimal

import djangoenv

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_issue_bench")


def export(orders, fmt):
    rows = [["订单号", "商品名称", "数量", "收货人手机", "订单状态"]]
    for n in range(orders):
        rows.append([f"2512{n:014d}", "双人套餐", 1 + n % 3, f"138{n:08d}", "待发货"])
        if n % 10 == 0:
            rows.append([f"2512{n:014d}", "加购", 1, "", "待发货"])
    if fmt == "xlsx":
        from openpyxl import Workbook

        book = Workbook(write_only=True)
        sheet = book.create_sheet()
        for row in rows:
            sheet.append([str(v) if i == 0 else v for i, v in enumerate(row)])
        buffer = io.BytesIO()
        book.save(buffer)
        return buffer.getvalue()
    return "\n".join(",".join(str(v) for v in row) for row in rows).encode("gb18030")


def main():
    orders = int(sys.argv[1]) if len(sys.argv) > 1 else 10_000
    fmt = sys.argv[2] if len(sys.argv) > 2 else "csv"
    djangoenv.throwaway_database(URL)

    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.test import APIClient

    from redemption import services
    from redemption.models import Product, Voucher
    from staff.services import merchant_create

    owner = merchant_create(name="Issue", owner_username="issue-owner", owner_password="issue-bench-pw")
    product = Product.objects.create(merchant=owner.merchant, name="双人套餐", face_value=Decimal("98"))
    for n in range(0, orders, 20):
        services.voucher_issue(product=product, order_no=f"2512{n:014d}", channel="pdd")
    raw = export(orders, fmt)
    client = APIClient()
    client.force_authenticate(owner.user)
    started = time.perf_counter()
    response = client.post("/api/v1/vouchers/issue-file/", {
        "product": product.pk, "channel": "pdd", "file": SimpleUploadedFile(f"orders.{fmt}", raw)}, format="multipart")
    issued = time.perf_counter() - started
    assert response.status_code == 201, response.content[:500]
    body = response.json()
    started = time.perf_counter()
    delivery = client.get(body["delivery_url"])
    size = len(b"".join(delivery.streaming_content))
    downloaded = time.perf_counter() - started
    print(f"{fmt}: {orders:,} orders ({len(raw) / 1e6:.2f} MB): {body['orders']:,} orders "
          f"({body['repeated']:,} issued before), {body['vouchers']:,} vouchers in {issued:.2f} s (target ≤ 10 s); "
          f"delivery file of {Voucher.objects.count():,} rows, {size / 1e6:.2f} MB, in {downloaded:.2f} s; "
          f"load average at start {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    main()
