"""Redeems while `manage.py prune` deletes a million rows (the target: redeem p99 during the prune
within 2x of a quiet run), on PostgreSQL + Redis with two daphne processes.

Seeds ROWS prunable rows, half refused attempts 200 days old and half finished events 40 days old
(generate_series), then drives redeem with CLIENTS clients: DURATION seconds quiet, then for as
long as the prune runs. Both are measured in one-second rounds, so they are measured alike.

Usage: .venv/bin/python bench/prune.py [ROWS] [CLIENTS] [DURATION]
A smoke run to check it works (its figures mean nothing): bench/prune.py 20000 4 3
"""

import asyncio
import os
import secrets
import subprocess
import sys
import tempfile
import time

import djangoenv
import loadgen
import servers

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_prune_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# Enough fresh codes for a few hundred redeems a second over a slow prune.
CODES = 100_000


def seed(rows):
    """The bench's merchant, clerks and codes (bench/seed.py), and `rows` rows for prune to delete."""
    import seed as bench_seed
    from django.db import connection

    seeded = bench_seed.seed(CODES, 0)
    merchant, store, clerk = seeded["merchant_id"], seeded["store_id"], seeded["clerk_ids"][0]
    started = time.perf_counter()
    with connection.cursor() as c:
        c.execute(f"""
            INSERT INTO redemption_attempt (merchant_id, staff_id, store_id, voucher_id, kind, input_masked, result, at)
            SELECT {merchant}, {clerk} + g % 32, {store}, NULL, 'redeem', '****0000', 'not_found',
                   now() - interval '200 days' - g * interval '1 second'
            FROM generate_series(1, {rows // 2}) g""")
        c.execute(f"""
            INSERT INTO redemption_event (merchant_id, store_id, type, data, at, fanned_out)
            SELECT {merchant}, {store}, 'attempt.refused', '{{"reason": "not_found"}}',
                   now() - interval '40 days' - g * interval '1 second', true
            FROM generate_series(1, {rows - rows // 2}) g""")
        c.execute("ANALYZE")
    print(f"seeded {rows:,} prunable rows in {time.perf_counter() - started:.0f} s")
    return seeded


async def rounds(ports, tokens, clients, endpoint, keep_going):
    """One-second load rounds while keep_going() says so; the latencies of all of them."""
    result = loadgen.Result()
    while keep_going():
        one = await loadgen.run_level(ports, tokens, clients, endpoint, 0, 1)
        result.latencies += one.latencies
        result.errors.update(one.errors)
        result.seconds += one.seconds
        if one.out_of_codes:
            raise SystemExit("out of codes: raise CODES")
    return result


def describe(label, result):
    p50, p99 = result.percentile(50) * 1000, result.percentile(99) * 1000
    print(f"{label:<14} {len(result.latencies):>7,} redeems  {result.rate:7.0f} req/s  "
          f"p50 {p50:6.1f} ms  p99 {p99:6.1f} ms  errors {sum(result.errors.values())}")
    for message, n in result.errors.most_common(3):
        print(f"    {n} x {message}")
    return p99


def main():
    rows = int(sys.argv[1]) if len(sys.argv) > 1 else 1_000_000
    clients = int(sys.argv[2]) if len(sys.argv) > 2 else 8
    duration = int(sys.argv[3]) if len(sys.argv) > 3 else 20
    djangoenv.throwaway_database(URL)
    seeded = seed(rows)
    env = {**os.environ, "DATABASE_URL": URL, "REDIS_URL": REDIS, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING"}
    log = os.path.join(tempfile.mkdtemp(prefix="prune-bench-"), "daphne.log")
    endpoint = loadgen.redeem(seeded["codes"])
    tokens = seeded["tokens"][:clients]
    with servers.serving("daphne", 2, env, log) as ports:
        asyncio.run(rounds(ports, tokens, clients, endpoint, until(time.perf_counter() + 2)))  # warm-up
        quiet = asyncio.run(rounds(ports, tokens, clients, endpoint, until(time.perf_counter() + duration)))
        began = time.perf_counter()
        prune = subprocess.Popen([sys.executable, str(djangoenv.ROOT / "manage.py"), "prune"], env=env,
                                 stdout=subprocess.PIPE, text=True)
        during = asyncio.run(rounds(ports, tokens, clients, endpoint, lambda: prune.poll() is None))
        output, _ = prune.communicate()
    print(output.strip())
    print(f"prune took {time.perf_counter() - began:.1f} s; {clients} clients on 2 daphne processes")
    ratio = describe("during prune", during) / describe("quiet", quiet)
    print(f"p99 during / quiet: {ratio:.2f} (target ≤ 2.00: {'met' if ratio <= 2 else 'MISSED'})")
    if prune.returncode:
        raise SystemExit(f"prune failed with exit status {prune.returncode}")


def until(deadline):
    return lambda: time.perf_counter() < deadline


if __name__ == "__main__":
    main()
