"""Where one redeem's time goes, in-process through Django's test client (no server, no network
between client and app): the SQL of one redeem, time per redeem and per ping, and a cProfile listing.

Usage: profile_redeem.py SEED.json REDEEMS PROFILE.txt   (prints a JSON summary on stdout)
"""

import cProfile
import io
import json
import pstats
import sys
import time

import djangoenv

djangoenv.setup()

from django.db import connection  # noqa: E402
from django.test import Client  # noqa: E402
from django.test.utils import CaptureQueriesContext  # noqa: E402

from redemption import services  # noqa: E402
from redemption.models import Product  # noqa: E402

WARM = 20  # the first requests load URLconfs, translations and connections
APP_CODE = f"{djangoenv.ROOT}/(redemption|staff|config)/"


def fresh_codes(count):
    product = Product.objects.get(name="Bench Meal")
    codes = []
    while len(codes) < count:
        quantity = min(services.MAX_QUANTITY, count - len(codes))
        vouchers, _ = services.voucher_issue(product=product, order_no=f"PROFILE-{time.time_ns()}", quantity=quantity)
        codes.extend(v.code for v in vouchers)
    return iter(codes)


def redeem(client, codes):
    code = next(codes)
    response = client.post("/api/v1/redeem/", {"code": code}, content_type="application/json", secure=True)
    if response.status_code != 200 or response.json()["result"] != "redeemed":
        raise SystemExit(f"in-process redeem failed: {response.status_code} {response.content[:200]!r}")


def ping(client):
    response = client.get("/api/v1/ping/", secure=True)
    if response.status_code != 200:
        raise SystemExit(f"in-process ping failed: {response.status_code}")


def timed(call, count):
    """Wall and CPU milliseconds per call; wall minus CPU is mostly waiting on PostgreSQL and Redis."""
    wall, cpu = time.perf_counter(), time.process_time()
    for _ in range(count):
        call()
    return {
        "wall_ms": (time.perf_counter() - wall) * 1000 / count,
        "cpu_ms": (time.process_time() - cpu) * 1000 / count,
    }


def captured_sql(client, codes):
    with CaptureQueriesContext(connection) as queries:
        redeem(client, codes)
    return [q["sql"] for q in queries.captured_queries]


def profiled(client, codes, count):
    profiler = cProfile.Profile()
    profiler.enable()
    for _ in range(count):
        redeem(client, codes)
    profiler.disable()
    listing = io.StringIO()
    stats = pstats.Stats(profiler, stream=listing)
    # By cumulative time the top is all test-client and middleware wrappers: list the app's own code.
    listing.write("Top 15 of the app's own functions by cumulative time:\n")
    stats.sort_stats("cumulative").print_stats(APP_CODE, 15)
    listing.write("Top 15 of all functions by own time:\n")
    stats.sort_stats("tottime").print_stats(15)
    return listing.getvalue()


def main():
    seed_path, count, out = sys.argv[1], int(sys.argv[2]), sys.argv[3]
    with open(seed_path) as f:
        token = json.load(f)["tokens"][0]
    client = Client(headers={"Authorization": f"Token {token}"})
    codes = fresh_codes(WARM + 1 + 2 * count)
    timed(lambda: redeem(client, codes), WARM)
    sql = captured_sql(client, codes)
    summary = {
        "statements": len(sql),
        "queries": sum(1 for s in sql if s not in ("BEGIN", "COMMIT")),
        "redeem": timed(lambda: redeem(client, codes), count),
        "ping": timed(lambda: ping(client), count),
        "redeems": count,
    }
    listing = profiled(client, codes, count)
    with open(out, "w") as f:
        f.write(f"In-process redeem profile ({count} redeems through django.test.Client, cProfile)\n\n")
        f.write(json.dumps(summary, indent=2) + "\n\nSQL of one redeem:\n\n")
        f.write("\n\n".join(sql) + "\n\n" + listing)
    print(json.dumps(summary))


if __name__ == "__main__":
    main()
