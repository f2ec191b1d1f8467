"""What open dashboards cost the redeem and how fast they are fed: redeem req/s at 8 clients with no
dashboard open and with DASHBOARDS (200) owner and manager dashboards open (none, open, open, none),
over two daphne processes on PostgreSQL + Redis; the database transactions per second the open
dashboards cost while nothing happens; each push's latency at a steady rate of redeems, from the
redemption's time (before its transaction) and from the clerk's answer (after its commit); and
whether every dashboard got every event of its scope. Targets: ratio ≥ 0.90, p99 ≤ 50 ms, nothing
missing. See bench/README.md.

Usage: .venv/bin/python bench/dashboards.py [--shape chain|crowd] [--dashboards 200] [--clients 8]
       [--duration 10] [--steady 100] [--write]
"""

import argparse
import asyncio
import collections
import json
import multiprocessing
import os
import secrets
import shlex
import statistics
import sys
import tempfile
import time
from datetime import UTC, datetime

import djangoenv
import report as report_file
import loadgen
import servers
from live_push import masked, open_dashboard, read_frame

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_dashboards_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")
# The two shapes of 200 dashboards, both of one merchant (see --shape):
#   chain: a chain of 50 stores; the owner on 4 devices and ~4 dashboards a store (its manager's);
#          a clerk per store, the redemptions spread over the stores as at lunch;
#   crowd: 4 stores; the owner and the 4 managers, 40 dashboards each: every event goes to 80
#          dashboards, the worst case of fan-out.
SHAPES = {"chain": (50, 4), "crowd": (4, None)}  # shape -> (stores, owner's dashboards; None: a 5th of all)
CLERKS_PER_STORE = {"chain": 1, "crowd": 2}
QUIET_LOAD = 0.5
CODES_PER_SECOND = 1000  # fresh codes seeded per measured or warm-up second, at most


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--dashboards", type=int, default=200)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds each way")
    parser.add_argument("--warmup", type=int, default=2)
    parser.add_argument("--idle", type=int, default=6, help="seconds the idle database cost is counted over")
    parser.add_argument("--write", action="store_true", help="add the run to bench/RESULTS.md")
    parser.add_argument("--shape", choices=sorted(SHAPES), default="chain",
                        help="who watches: a chain's owner and store managers, or a crowd on 4 stores (see SHAPES)")
    parser.add_argument("--steady", type=int, default=100,
                        help="redeems a second of the steady phase (a busy lunch hour across a chain's stores)")
    return parser.parse_args()


def seed(codes_needed, shape, count):
    """A merchant with stores; `count` watchers (owner's and managers' dashboards, by the shape) and the
    clerks, with tokens. Each watcher is a device of its own."""
    from decimal import Decimal

    from seed import count_orders, issue_codes

    from redemption.models import Product
    from staff.devices import token_for
    from staff.models import Role, Store
    from staff.services import merchant_create, staff_create

    store_count, owner_devices = SHAPES[shape]
    owner = merchant_create(name="Dashboards", owner_username="owner", owner_password="bench-only-9")
    merchant = owner.merchant
    stores = [Store.objects.create(merchant=merchant, name=f"S{s}") for s in range(store_count)]
    managers = [staff_create(merchant=merchant, username=f"mgr-{s}", display_name="Mgr", password="bench-only-9",
                             role=Role.MANAGER, stores=[store]) for s, store in enumerate(stores)]
    watchers = []
    for i in range(count):
        if (owner_devices is None and i % (store_count + 1) == 0) or (owner_devices is not None and i < owner_devices):
            watchers.append({"token": token_for(owner.user), "stores": None})
        else:
            s = (i if owner_devices is None else i - owner_devices) % store_count
            watchers.append({"token": token_for(managers[s].user), "stores": [stores[s].pk]})
    # Clerk c works in store c % stores: the first clients of the closed loop are in different stores.
    clerks = [token_for(staff_create(merchant=merchant, username=f"clerk-{c}", display_name="Clerk",
                                     password="bench-only-9", stores=[stores[c % store_count]]).user)
              for c in range(store_count * CLERKS_PER_STORE[shape])]
    product = Product.objects.create(merchant=merchant, name="Meal", face_value=Decimal(10))
    codes = issue_codes(product, codes_needed)
    count_orders()
    return watchers, clerks, codes


async def dashboard(port, token, out, ready, last):
    """One dashboard: every event it receives, as (event id, store id, received, written)."""
    reader, writer = await open_dashboard(port, token)
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
    tasks = [asyncio.create_task(dashboard(ports[i % len(ports)], watchers[i]["token"],
                                           received[i], ready, last)) for i in range(count)]
    for _ in range(count):
        await asyncio.wait_for(ready.acquire(), 60)
    await asyncio.sleep(1)  # every consumer has joined its groups
    opened = time.time()
    started.set()
    while not stop.is_set() or time.time() - last[0] < 3:  # then until three quiet seconds
        await asyncio.sleep(0.2)
    for task in tasks:
        task.cancel()
    events.append(("cpu", time.process_time(), time.time() - opened))  # this reader's own cost
    # Parsed after the run, so that this process spends as little as it can while the load runs.
    for i, frames in enumerate(received):
        for at, payload in frames:
            for event in json.loads(payload):  # a batch, as the dashboard page asks for them
                written = datetime.fromisoformat(event["at"]).timestamp()
                redemption = event.get("redemption", {}).get("id")
                events.append((i, event["id"], event["type"], (at - written) * 1000, redemption, at))


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


async def steady_load(ports, clerks, codes, rate, seconds, answered):
    """Open loop: `rate` redeems a second for `seconds`, each clerk on a keep-alive connection of
    its own sending at its own even pace; each answer's redemption id and when it came."""
    pace = len(clerks) / rate

    async def clerk(i):
        reader, writer = await asyncio.open_connection(loadgen.HOST, ports[i % len(ports)])
        endpoint = loadgen.redeem(codes)
        due = time.perf_counter() + i * pace / len(clerks)
        end = due + seconds
        while due < end:
            await asyncio.sleep(max(0.0, due - time.perf_counter()))
            writer.write(endpoint.request(clerks[i]))
            status, body, _ = await loadgen.read_response(reader)
            answered.append((time.time(), body))
            due += pace
        writer.close()

    await asyncio.gather(*(clerk(i) for i in range(len(clerks))))


def missing(events, watchers, count, start_after, until):
    """Deliveries owed and not made: for each dashboard, the events of its scope it never got."""
    from redemption.models import Event

    rows = list(Event.objects.filter(id__gt=start_after, id__lte=until).values_list("id", "store_id"))
    got = collections.defaultdict(set)
    for i, event_id, *_ in events:
        got[i].add(event_id)
    owed = made = short = 0
    for i in range(count):
        w = watchers[i]
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
    watchers, clerks, codes = seed(CODES_PER_SECOND * 4 * (args.duration + args.warmup), args.shape, args.dashboards)
    codes = iter(codes)
    env = {**os.environ, "DATABASE_URL": URL, "REDIS_URL": REDIS, "DEBUG": "false",
           "SECRET_KEY": secrets.token_urlsafe(50), "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false",
           "LOG_LEVEL": "WARNING"}
    log = os.path.join(tempfile.mkdtemp(prefix="dashboards-bench-"), "daphne.log")
    with servers.serving("daphne", 2, env, log) as ports:
        # None, open, open, none: the machine's pace drifts from minute to minute (by 10 % and more
        # here), and a drift that is even over the run cancels out of the ratio.
        idle_none = idle_cost(args.idle)
        none = [redeem_rate(ports, clerks, args.clients, codes, args)]
        with multiprocessing.Manager() as manager:
            events, started, stop = manager.list(), manager.Event(), manager.Event()
            opener = multiprocessing.Process(target=dashboards_process,
                                             args=(ports, watchers, args.dashboards, events, started, stop))
            opener.start()
            if not started.wait(120):
                raise RuntimeError(f"the dashboards did not all open; see {log}")
            idle_open = idle_cost(args.idle)
            start_after = newest_event()
            opened = [redeem_rate(ports, clerks, args.clients, codes, args)]
            time.sleep(5)  # what the pushes missed, the sweeps send
            steady_after = newest_event()
            answered = []
            asyncio.run(steady_load(ports, clerks, codes, args.steady, args.duration, answered))
            time.sleep(3)
            steady_until = newest_event()
            opened.append(redeem_rate(ports, clerks, args.clients, codes, args))
            time.sleep(5)
            owed_until = newest_event()
            stop.set()
            opener.join(60)
            events = list(events)
            reader = next(e for e in events if e[0] == "cpu")
            events = [e for e in events if e[0] != "cpu"]
        time.sleep(3)  # the sockets are closed
        none.append(redeem_rate(ports, clerks, args.clients, codes, args))
    steady = steady_latencies([e for e in events if steady_after < e[1] <= steady_until], answered)
    text = report(args, clerks, load, ports, idle_none, idle_open, none, opened,
                  [e for e in events if not steady_after < e[1] <= steady_until],
                  missing(events, watchers, args.dashboards, start_after, owed_until), steady, reader)
    print(text)
    if args.write:
        report_file.save(text)


def newest_event():
    from redemption.models import Event

    return Event.objects.order_by("-id").values_list("id", flat=True).first() or 0


def steady_latencies(events, answered):
    """For the steady phase's deliveries: milliseconds from the redemption's time (taken as its
    request begins, before its transaction: an upper bound of "from commit") and from the clerk
    having the answer (sent after the commit: a lower bound)."""
    from datetime import datetime

    answered_at = {}
    for at, body in answered:
        answer = json.loads(body)
        if answer.get("result") == "redeemed":
            answered_at[answer["redemption"]["id"]] = at
    upper, lower = [], []
    for _, event_id, kind, ms, redemption_id, received in events:
        if kind == "redemption.created":
            upper.append(ms)
            if redemption_id in answered_at:
                lower.append((received - answered_at[redemption_id]) * 1000)
    return sorted(upper), sorted(lower), len(answered_at)


SHAPE_WORDS = {
    "chain": "a chain of 50 stores, the owner's dashboard open on 4 devices and the rest shared out over the stores' "
             "managers (about 4 a store), a clerk in each store, the closed-loop clients in 8 of them",
    "crowd": "4 stores, the owner and the 4 store managers with 40 dashboards each, so every redemption goes to "
             "80 dashboards (the worst case of fan-out)",
}


def report(args, clerks, load, ports, idle_none, idle_open, none, opened, events, owed_made, steady, reader):
    latencies = sorted(ms for _, _, kind, ms, *_ in events if kind == "redemption.created")
    owed, made, short_dashboards = owed_made
    upper, lower, answered = steady
    noisy = load[0] > QUIET_LOAD
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    rate_none, rate_open = (sum(r for r, _, _ in runs) / len(runs) for runs in (none, opened))
    ratio = rate_open / rate_none
    errors = sum(e for _, e, _ in none + opened)
    short = any(s for _, _, s in none + opened)
    lines = [
        f"## Two hundred dashboards, {when}" + (f" — {report_file.NOISY}" if noisy else ""),
        "",
        f"Machine: {os.cpu_count()} cores, load average at the start {' '.join(f'{x:.2f}' for x in load)}, at the end "
        f"{' '.join(f'{x:.2f}' for x in os.getloadavg())}. {args.dashboards} dashboards, shape `{args.shape}`: "
        f"{SHAPE_WORDS[args.shape]}; each connects as the dashboard page does (`?batch=1`). 2 daphne processes, "
        "PostgreSQL + Redis.",
        "",
        f"Command: `{shlex.join(['.venv/bin/python', 'bench/dashboards.py', *sys.argv[1:]])}`",
        "",
        "| measure | figure | target | |",
        "|---|---|---|---|",
        f"| redeem at {args.clients} clients, {args.duration} s each: none open, {args.dashboards} open, "
        f"{args.dashboards} open, none | {none[0][0]:.1f}, {opened[0][0]:.1f}, {opened[1][0]:.1f}, {none[1][0]:.1f} "
        f"req/s: ratio {ratio:.2f} | ≥ 0.90 | {'met' if ratio >= 0.9 else 'MISSED'} |",
        f"| database transactions while idle, none → {args.dashboards} open | {idle_none:.1f} → {idle_open:.1f}/s | | |",
    ]
    if upper:
        p99 = percentile(upper, 99)
        lines.append(
            f"| push at a steady {args.steady} redeems/s, redemption's time → dashboard has it | p50 "
            f"{statistics.median(upper):.1f} ms, p99 {p99:.1f} ms, max {upper[-1]:.1f} ms ({len(upper)} deliveries) | "
            f"p99 ≤ 50 ms | {'met' if p99 <= 50 else 'MISSED'} |")
    if lower:
        lines.append(
            f"| the same, clerk has the answer → dashboard has it | p50 {statistics.median(lower):.1f} ms, p99 "
            f"{percentile(lower, 99):.1f} ms | | |")
    if latencies:
        lines.append(
            f"| push under the full redeem load, redemption's time → dashboard has it | p50 "
            f"{statistics.median(latencies):.1f} ms, p99 {percentile(latencies, 99):.1f} ms ({len(latencies)} "
            "deliveries) | | |")
    lines.append(f"| feed: deliveries owed, made | {owed} owed, {made} made, {owed - made} missing on "
                 f"{short_dashboards} dashboards | none missing | {'met' if owed == made else 'MISSED'} |")
    lines.append(f"| errors | {errors}" + (" — RAN OUT OF CODES" if short else "") + " | 0 | |")
    lines.append(f"| the dashboards' reader (this bench's, on the same cores) | {reader[1]:.1f} CPU-seconds over "
                 f"{reader[2]:.0f} s open: {100 * reader[1] / reader[2] / os.cpu_count():.1f} % of the machine | | |")
    lines += [
        "",
        "The redemption's time is taken as its request begins, before its transaction: from it to the dashboard "
        "is an upper bound of \"from commit\". The clerk's answer leaves after the commit: from it is a lower bound. "
        f"The steady phase: {args.steady} redeems a second, open loop, over {len(clerks)} clerks, "
        f"{answered} answered. The dashboards are one Python process on the same two cores as the servers, "
        "PostgreSQL, Redis and the load generator.",
    ]
    return "\n".join(lines) + "\n"


if __name__ == "__main__":
    main()
