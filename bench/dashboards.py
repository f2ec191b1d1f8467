"""What open dashboards cost the redeem: redeem req/s at 8 clients with no dashboard open and with
DASHBOARDS (200) owner and manager dashboards open, over two daphne processes on PostgreSQL + Redis;
the database transactions per second the open dashboards cost while nothing happens; and, under
the load, each push's latency from the event being written (inside the redemption's transaction,
so commit is included) to the dashboard having it, and whether every dashboard got every event of
its scope. Targets: ratio ≥ 0.90, p99 ≤ 50 ms, nothing missing.

Usage: .venv/bin/python bench/dashboards.py [--dashboards 200] [--clients 8] [--duration 10]
"""

import argparse
import asyncio
import base64
import collections
import json
import multiprocessing
import os
import secrets
import statistics
import tempfile
import time

import djangoenv
import loadgen
import servers
from live_push import masked, read_frame

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_dashboards_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
STORES, CLERKS = 4, 8  # one merchant: its owner, a manager per store, the clerks spread over the stores
CODES_PER_SECOND = 1000  # fresh codes seeded per measured or warm-up second, at most


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dashboards", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds each way")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--idle", type=int, default=6, help="seconds the idle database cost is counted over")
    return parser.parse_args()


def seed(codes_needed):
    """A merchant with stores; the watchers (the owner, a manager per store) and the clerks, with tokens."""
    from decimal import Decimal

    from seed import count_orders, issue_codes

    from redemption.models import Product
    from staff.devices import token_for
    from staff.models import Role, Store
    from staff.services import merchant_create, staff_create

    owner = merchant_create(name="Dashboards", owner_username="owner", owner_password="bench-only-9")
    merchant = owner.merchant
    watchers = [{"token": token_for(owner.user), "stores": None}]
    stores = [Store.objects.create(merchant=merchant, name=f"S{s}") for s in range(STORES)]
    for s, store in enumerate(stores):
        manager = staff_create(merchant=merchant, username=f"mgr-{s}", display_name="Mgr",
                               password="bench-only-9", role=Role.MANAGER, stores=[store])
        watchers.append({"token": token_for(manager.user), "stores": [store.pk]})
    clerks = [token_for(staff_create(merchant=merchant, username=f"clerk-{c}", display_name="Clerk",
                                     password="bench-only-9", stores=[stores[c % STORES]]).user)
              for c in range(CLERKS)]
    product = Product.objects.create(merchant=merchant, name="Meal", face_value=Decimal(10))
    codes = issue_codes(product, codes_needed)
    count_orders()
    return watchers, clerks, codes


async def dashboard(port, token, out, ready, last):
    """One dashboard: every event it receives, as (event id, store id, received, written)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    writer.write(
        f"GET /ws/dashboard/?batch=1&token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://127.0.0.1\r\n\r\n".encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status[:80]
    # The pong comes once the server has finished connecting the socket (its first catch-up too).
    writer.write(masked(0x1, b'{"type":"ping"}'))
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == 1 and b'"pong"' in payload:
            ready.release()
        elif opcode == 1:
            last[0] = time.time()
            out.append((last[0], payload))
        elif opcode == 9:  # ping: answer, or the server drops the dashboard
            writer.write(masked(0xA, payload))
        elif opcode == 8:
            return


async def dashboards_open(ports, watchers, count, events, started, stop):
    """Open `count` dashboards, spread over the watchers and the ports; keep them until `stop`."""
    from datetime import datetime

    ready = asyncio.Semaphore(0)
    received, last = [[] for _ in range(count)], [0.0]
    tasks = [asyncio.create_task(dashboard(ports[i % len(ports)], watchers[i % len(watchers)]["token"],
                                           received[i], ready, last)) for i in range(count)]
    for _ in range(count):
        await asyncio.wait_for(ready.acquire(), 60)
    await asyncio.sleep(1)  # every consumer has joined its groups
    started.set()
    while not stop.is_set() or time.time() - last[0] < 3:  # then until three quiet seconds
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    # Parsed after the run, so that this process spends as little as it can while the load runs.
    for i, frames in enumerate(received):
        for at, payload in frames:
            for event in json.loads(payload):  # a batch, as the dashboard page asks for them
                written = datetime.fromisoformat(event["at"]).timestamp()
                events.append((i, event["id"], event["type"], (at - written) * 1000))


def dashboards_process(ports, watchers, count, events, started, stop):
    asyncio.run(dashboards_open(ports, watchers, count, events, started, stop))


def xact_commits():
    import psycopg

    with psycopg.connect(URL, autocommit=True) as conn:
        return conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = current_database()").fetchone()[0]


def idle_cost(seconds):
    """Transactions per second on the database while nothing is redeemed. A backend that has gone
    idle reports its counts up to 10 s late (PostgreSQL 15): the sockets' connecting is let settle
    first, or it would be counted as the open dashboards' cost."""
    time.sleep(11)
    before = xact_commits()
    time.sleep(seconds)
    return (xact_commits() - before - 1) / seconds  # less the reading's own transaction


def redeem_rate(ports, clerks, clients, codes, args):
    result = asyncio.run(loadgen.run_level(
        ports, clerks, clients, loadgen.redeem(codes), args.warmup, args.duration))
    errors = sum(result.errors.values())
    return result.rate, errors, result.out_of_codes


def missing(events, watchers, count, start_after):
    """Deliveries owed and not made: for each dashboard, the events of its scope it never got."""
    from redemption.models import Event

    rows = list(Event.objects.filter(id__gt=start_after).values_list("id", "store_id"))
    got = collections.defaultdict(set)
    for i, event_id, _, _ in events:
        got[i].add(event_id)
    owed = made = short = 0
    for i in range(count):
        w = watchers[i % len(watchers)]
        scope = {e for e, s in rows if w["stores"] is None or s in w["stores"]}
        owed += len(scope)
        made += len(scope & got[i])
        short += bool(scope - got[i])
    return owed, made, short


def percentile(ordered, p):
    return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


def main():
    args = arguments()
    load = os.getloadavg()
    djangoenv.throwaway_database(URL)
    watchers, clerks, codes = seed(CODES_PER_SECOND * 2 * (args.duration + args.warmup))
    codes = iter(codes)
    env = {**os.environ, "DATABASE_URL": URL, "REDIS_URL": REDIS, "DEBUG": "false",
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "LOG_LEVEL": "WARNING"}
    log = os.path.join(tempfile.mkdtemp(prefix="dashboards-bench-"), "daphne.log")
    from redemption.models import Event

    with servers.serving("daphne", 2, env, log) as ports:
        idle_none = idle_cost(args.idle)
        rate_none, errors_none, short = redeem_rate(ports, clerks, args.clients, codes, args)
        with multiprocessing.Manager() as manager:
            events, started, stop = manager.list(), manager.Event(), manager.Event()
            opener = multiprocessing.Process(target=dashboards_process,
                                             args=(ports, watchers, args.dashboards, events, started, stop))
            opener.start()
            if not started.wait(120):
                raise RuntimeError(f"the dashboards did not all open; see {log}")
            idle_open = idle_cost(args.idle)
            start_after = Event.objects.order_by("-id").values_list("id", flat=True).first() or 0
            rate_open, errors_open, short2 = redeem_rate(ports, clerks, args.clients, codes, args)
            time.sleep(5)  # what the pushes missed, the sweeps send
            stop.set()
            opener.join(60)
            events = list(events)
    report(args, load, ports, idle_none, idle_open, (rate_none, errors_none), (rate_open, errors_open),
           events, missing(events, watchers, args.dashboards, start_after), short or short2)


def report(args, load, ports, idle_none, idle_open, none, open_, events, owed_made, short):
    latencies = sorted(ms for _, _, kind, ms in events if kind == "redemption.created")
    owed, made, short_dashboards = owed_made
    print(f"{args.dashboards} dashboards (one merchant's owner and {STORES} store managers, in turn) on 2 daphne "
          f"processes, redeem at {args.clients} clients for {args.duration} s each way; load average at the "
          f"start {' '.join(f'{x:.2f}' for x in load)}, at the end {' '.join(f'{x:.2f}' for x in os.getloadavg())}")
    print(f"redeem: {none[0]:.1f} req/s with none, {open_[0]:.1f} req/s with {args.dashboards} open: "
          f"ratio {open_[0] / none[0]:.2f} (target ≥ 0.90); errors {none[1]} / {open_[1]}"
          + ("; RAN OUT OF CODES" if short else ""))
    print(f"database while idle: {idle_none:.1f} transactions/s with none, {idle_open:.1f} with "
          f"{args.dashboards} open: the dashboards cost {idle_open - idle_none:.1f}/s")
    if latencies:
        print(f"push, event written → dashboard has it, under the load: p50 {statistics.median(latencies):.1f} ms, "
              f"p99 {percentile(latencies, 99):.1f} ms, max {latencies[-1]:.1f} ms over {len(latencies)} "
              "deliveries (target p99 ≤ 50 ms)")
    print(f"feed: {made} of {owed} deliveries owed made ({owed - made} missing, on {short_dashboards} dashboards)")


if __name__ == "__main__":
    main()
