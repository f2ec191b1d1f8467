"""Offline lists at scale (issue 18, item 2): a store with 20,000 valid vouchers.

Measures, on a throwaway PostgreSQL database (BENCH_DATABASE_URL, default .../redemption_bench_offline):
- the list's size on the wire, raw and gzipped, in the full shape (API clients) and the compact
  one (the scanner's), and the server's time to make each;
- a refresh with nothing changed: the 304's size, status line and headers included, and its time;
- in headless Chromium (Playwright, /usr/bin/chromium), on the scanner's own modules: the first
  scan after the list is loaded (the Map made, the slow digest derived, the name looked up), a
  later scan, and reading the compact list back from IndexedDB (once per page load).

The vouchers are bulk-inserted with their slow digests already on the row (as the worker leaves
them): 20,000 real derivations would take minutes and change no byte of the list, since the names
are HMACs of the digests either way. The few codes the browser scans have real digests.

Usage: .venv/bin/python bench/offline_lists.py [--vouchers 20000] [--write]
(--write adds the run to bench/RESULTS.md).
"""

import argparse
import datetime as dt
import functools
import http.server
import os
import secrets
import sys
import threading
import time
from decimal import Decimal
from pathlib import Path

import djangoenv
import report as report_file

TARGETS = {"first_list_gzip": 400 * 1024, "refresh_unchanged": 5 * 1024, "scan_ms": 50}
SCANNED = 5


def seed(count):
    from django.conf import settings
    from django.db import transaction

    from redemption import codes
    from redemption.services import offline
    from redemption.models import Product, Voucher
    from staff.models import Role, Store
    from staff.services import merchant_create, staff_create

    with transaction.atomic():
        owner = merchant_create(name="Bench Merchant", owner_username="bench-owner", owner_password="bench-only-9")
        store = Store.objects.create(merchant=owner.merchant, name="Bench Store", offline_enabled=True)
        clerk = staff_create(merchant=owner.merchant, username="bench-clerk", password="bench-only-9",
                             display_name="Clerk", role=Role.CLERK, stores=[store])
        products = [Product.objects.create(merchant=owner.merchant, name=name, face_value=Decimal(value), uses_per_voucher=uses)
                    for name, value, uses in (("双人套餐券", "98.00", 1), ("洗车 3 次卡", "90.00", 3), ("咖啡券", "25.00", 1))]
        salt = offline.merchant_salt(owner.merchant_id)
        iterations = settings.OFFLINE_KDF_ITERATIONS
        until = dt.datetime(2027, 6, 30, 15, 59, 59, tzinfo=dt.timezone.utc)
        scanned, vouchers = [], []
        for n in range(count):
            code = codes.generate()
            digest = offline.code_digest(salt, code, iterations) if n < SCANNED else secrets.token_hex(32)
            if n < SCANNED:
                scanned.append(code)
            product = products[n % len(products)]
            vouchers.append(Voucher(
                merchant_id=owner.merchant_id, product=product, code=code, order_no=f"BENCH-{n // 2:05d}", line=1 + n % 2,
                uses_total=product.uses_per_voucher, uses_left=product.uses_per_voucher,
                valid_until=until if n % 4 else None, offline_digest=f"{iterations}${digest}"))
        Voucher.objects.bulk_create(vouchers, batch_size=5000)
    return clerk, store, scanned


def wire_size(response, body):
    """Bytes on the wire: status line, headers (with the Date and Server a server adds) and body."""
    head = f"HTTP/1.1 {response.status_code} {response.reason_phrase}\r\n"
    headers = dict(response.items()) | {"Date": "Tue, 01 Dec 2026 04:00:00 GMT", "Server": "daphne"}
    head += "".join(f"{k}: {v}\r\n" for k, v in headers.items()) + "\r\n"
    return len(head.encode()) + len(body)


def timed(fetch, repeat=3):
    times, response = [], None
    for _ in range(repeat):
        start = time.perf_counter()
        response = fetch()
        times.append((time.perf_counter() - start) * 1000)
    return response, min(times)


def server_side(clerk, store):
    from rest_framework.test import APIClient

    client = APIClient()
    client.force_authenticate(clerk.user)
    url = "/api/v1/offline/snapshot/"
    figures = {}
    for shape in ("full", "compact"):
        query = {"store": store.pk, "device": "bench-phone", "shape": shape}
        plain, plain_ms = timed(lambda: client.get(url, query))
        zipped, zipped_ms = timed(lambda: client.get(url, query, HTTP_ACCEPT_ENCODING="gzip"))
        assert zipped["Content-Encoding"] == "gzip", "the list was not gzipped"
        figures[shape] = {"raw": len(plain.content), "gzip": len(zipped.content), "wire": wire_size(zipped, zipped.content),
                          "ms": zipped_ms, "plain_ms": plain_ms, "etag": zipped["ETag"]}
    compact = figures["compact"]
    query = {"store": store.pk, "device": "bench-phone", "shape": "compact"}
    refresh, refresh_ms = timed(lambda: client.get(url, query, HTTP_ACCEPT_ENCODING="gzip", HTTP_IF_NONE_MATCH=compact["etag"]))
    assert refresh.status_code == 304, refresh.status_code
    figures["refresh"] = {"wire": wire_size(refresh, refresh.content), "ms": refresh_ms}
    body = client.get(url, query).json()
    return figures, body


def serve_static():
    """The scanner's modules over HTTP (modules do not load from file://), on a free port."""
    root = Path(djangoenv.ROOT) / "static"
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(root))
    handler.log_message = lambda *args: None
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    (root / "bench-offline.html").write_text("<!doctype html><meta charset=utf-8><title>bench</title>")
    return server, root / "bench-offline.html"


DECIDE = """async ([snapshot, codes]) => {
  const { decide, prepare, scannedName } = await import("/staff/js/offline.js");
  const vault = await import("/staff/js/vault.js");
  const held = { taken: [], count: 0, value: 0 };
  const now = Date.parse(snapshot.issued_at);
  const time = (work) => { const start = performance.now(); const out = work(); return [performance.now() - start, out]; };
  const [index] = time(() => prepare(snapshot));
  const [first, one] = time(() => decide(snapshot, scannedName(codes[0], snapshot), held, now));
  const later = codes.slice(1).map((code) => time(() => decide(snapshot, scannedName(code, snapshot), held, now)));
  await vault.saveHeld({ storeId: 1, snapshot, held });
  const start = performance.now();
  const record = await vault.loadHeld(1);
  const load = performance.now() - start;
  return { first, later: later.map(([ms]) => ms), ok: [one, ...later.map(([, d]) => d)].map((d) => d.ok),
           entries: record.snapshot.vouchers.length, load, index };
}"""


def browser_side(body, codes):
    from playwright.sync_api import sync_playwright

    server, page_file = serve_static()
    try:
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=os.environ.get("CHROMIUM", "/usr/bin/chromium"))
            page = browser.new_page()
            page.goto(f"http://127.0.0.1:{server.server_port}/bench-offline.html")
            result = page.evaluate(DECIDE, [body, codes])
            browser.close()
    finally:
        server.shutdown()
        page_file.unlink()
    assert all(result["ok"]), f"a seeded code was not found offline: {result['ok']}"
    return result


def report(count, figures, chromium, load_start, load_end):
    kb = lambda n: f"{n / 1024:.1f} KB"  # noqa: E731
    full, compact, refresh = figures["full"], figures["compact"], figures["refresh"]
    later = sorted(chromium["later"])
    met = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines = [
        f"## Offline lists, {count} vouchers — {dt.datetime.now(dt.timezone.utc):%Y-%m-%d %H:%M} UTC",
        "",
        f"Load average at start {load_start}, at the end {load_end} (sizes are exact whatever the load; times are not"
        f"{' — NOISY, times not quoted' if float(load_start.split()[0]) > 0.5 else ''}).",
        "Command: `.venv/bin/python bench/offline_lists.py`",
        "",
        "| list | raw | gzip | on the wire (gzip, with headers) | server ms (best of 3) |",
        "|---|---|---|---|---|",
        f"| full (`GET /api/v1/offline/snapshot/`) | {kb(full['raw'])} | {kb(full['gzip'])} | {kb(full['wire'])} | {full['ms']:.0f} |",
        f"| compact (`?shape=compact`, the scanner's) | {kb(compact['raw'])} | {kb(compact['gzip'])} | {kb(compact['wire'])} | {compact['ms']:.0f} |",
        f"| refresh, nothing changed (`If-None-Match` → 304) | — | — | {refresh['wire']} B | {refresh['ms']:.0f} |",
        "",
        f"Chromium (headless, the scanner's offline.js and vault.js, {chromium['entries']} entries): a scan's decision"
        f" (PBKDF2 of the code + Map lookup + the rules): first {chromium['first']:.1f} ms, later {later[0]:.1f}–{later[-1]:.1f} ms."
        f" Once per list, not per scan: reading it from IndexedDB {chromium['load']:.0f} ms, making the Map"
        f" {chromium['index']:.1f} ms.",
        "",
        "Targets (issue 18, item 2):",
        "",
        f"- first list ≤ 400 KB on the wire: {kb(compact['wire'])} — {met(compact['wire'] <= TARGETS['first_list_gzip'])}",
        f"- refresh with nothing changed < 5 KB: {refresh['wire']} B — {met(refresh['wire'] < TARGETS['refresh_unchanged'])}",
        f"- a scan's decision ≤ 50 ms with {count} entries: first {chromium['first']:.1f} ms, later {later[-1]:.1f} ms"
        f" — {met(max(chromium['first'], later[-1]) <= TARGETS['scan_ms'])}",
        "",
    ]
    return "\n".join(lines)


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--vouchers", type=int, default=20000)
    parser.add_argument("--write", action="store_true", help="add the run to bench/RESULTS.md")
    args = parser.parse_args()
    load_start = " ".join(f"{x:.2f}" for x in os.getloadavg())
    djangoenv.throwaway_database(os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_bench_offline"))
    clerk, store, codes = seed(args.vouchers)
    figures, body = server_side(clerk, store)
    chromium = browser_side(body, codes)
    text = report(args.vouchers, figures, chromium, load_start, " ".join(f"{x:.2f}" for x in os.getloadavg()))
    print(text)
    if args.write:
        report_file.save(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
