"""Benchmark of POST /api/v1/redeem/ on PostgreSQL against the framework's floor (bench/floor.py:
bare Django, no middleware, no apps, no database), the product's stack (GET /api/v1/ping/) and the
database limit (pgbench). See bench/README.md.

    .venv/bin/python bench/run.py [--duration 10] [--warmup 2] [--levels 1,8,32]
                                  [--servers daphne,uvicorn,granian] [--wait-quiet SECONDS]
"""

import argparse
import asyncio
import datetime as dt
import importlib.metadata
import json
import os
import platform
import secrets
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlparse, urlunparse

import dblimit
import loadgen
import report
import servers

BENCH = Path(__file__).resolve().parent
ROOT = BENCH.parent
PYTHON = str(ROOT / ".venv" / "bin" / "python")
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/redemption_bench"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/0"
# Fresh codes are seeded for this many redeems per second at most; a faster app runs out and says so.
REDEEM_RATE_CEILING = 1000
# pgbench vouchers per level: room for this many transactions per second without reusing one.
PGBENCH_TPS_CEILING = 2000
# A run that starts with a higher 1-minute load average is marked NOISY and not quoted.
QUIET_LOAD = 0.5


def arguments():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per level (default 10)")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before each level (default 2)")
    parser.add_argument("--levels", default="1,8,32", help="concurrent clients, comma-separated (at most 32)")
    parser.add_argument("--procs", type=int, default=os.cpu_count() or 2, help="server processes (default: one per core)")
    parser.add_argument("--profile-redeems", type=int, default=500, help="in-process redeems to time and profile")
    parser.add_argument("--servers", default="daphne",
                        help="comma-separated, of daphne, uvicorn, granian (default daphne): each one after "
                             "daphne also serves the floor and redeem, with --procs workers")
    parser.add_argument("--order-size", type=int, default=None, metavar="N",
                        help="put the redeemed vouchers in orders of N (a bulk order) instead of one to three")
    parser.add_argument("--wait-quiet", type=int, default=0, metavar="SECONDS",
                        help=f"wait up to this long for the 1-minute load average to fall below {QUIET_LOAD}")
    args = parser.parse_args()
    args.levels = sorted({int(n) for n in args.levels.split(",")})
    if not 1 <= args.levels[0] <= args.levels[-1] <= 32:
        parser.error("levels must be between 1 and 32: there are 32 clerks")
    names = [name.strip() for name in args.servers.split(",") if name.strip()]
    unknown = set(names) - set(servers.KINDS)
    if unknown:
        parser.error(f"unknown server(s) {', '.join(sorted(unknown))}: choose from {', '.join(servers.KINDS)}")
    # daphne is always measured (the targets are taken on it); the others are compared with it.
    args.others = [name for name in dict.fromkeys(names) if name != "daphne"]
    return args


def app_env(database_url):
    """The production-like settings the app reads from the environment."""
    env = dict(
        os.environ,
        DEBUG="false",
        SECRET_KEY=secrets.token_urlsafe(50),
        ALLOWED_HOSTS="127.0.0.1",
        DATABASE_URL=database_url,
        REDIS_URL=os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL),
    )
    # A settings module of one's own can be tried by setting DJANGO_SETTINGS_MODULE (and PYTHONPATH).
    env.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    return env


def recreate_database(url):
    import psycopg

    parts = urlparse(url)
    name = parts.path.lstrip("/")
    admin = urlunparse(parts._replace(path="/postgres"))
    with psycopg.connect(admin, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')


def helper(env, *args):
    """Run a bench helper or manage.py; the helpers' own output is only shown when they fail."""
    done = subprocess.run([PYTHON, *args], cwd=ROOT, env=env, capture_output=True, text=True)
    if done.returncode:
        raise RuntimeError(f"{' '.join(args)} failed:\n{done.stdout}\n{done.stderr}")
    return done.stdout


def prepare(args, env, work):
    say("creating the database and migrating")
    recreate_database(env["DATABASE_URL"])
    helper(env, "manage.py", "migrate", "--noinput", "-v0")
    codes = REDEEM_RATE_CEILING * (args.duration + args.warmup) * len(args.levels) * (1 + len(args.others))
    region = PGBENCH_TPS_CEILING * args.duration
    say(f"seeding 32 clerks, {codes} vouchers for HTTP and {region * len(args.levels)} for pgbench")
    seed_path = work / "seed.json"
    helper(env, str(BENCH / "seed.py"), str(seed_path), str(codes), str(region * len(args.levels)),
           *([str(args.order_size)] if args.order_size else []))
    seed = json.loads(seed_path.read_text())
    # The in-process test client talks to host "testserver".
    profile_env = dict(env, ALLOWED_HOSTS="127.0.0.1,testserver")
    say(f"profiling {args.profile_redeems} redeems in-process")
    out = helper(profile_env, str(BENCH / "profile_redeem.py"), str(seed_path), str(args.profile_redeems),
                 str(BENCH / "profile.txt"))
    return seed, region, json.loads(out.strip().splitlines()[-1])


def drive(ports, tokens, clients, endpoint, args):
    return asyncio.run(loadgen.run_level(ports, tokens, clients, endpoint, args.warmup, args.duration))


def http_levels(args, env, work, seed, codes):
    """Redeem, the floor and ping, level by level, on daphne processes started the same way;
    interleaved so that noise from the shared machine falls on all three alike."""
    redeem, floor, ping = {}, {}, {}
    made_up = loadgen.made_up_codes(len(seed["codes"][0]))
    with (servers.serving("daphne", args.procs, env, work / "daphne.log") as ports,
          servers.serving("daphne", args.procs, env, work / "daphne-floor.log", servers.FLOOR) as floor_ports):
        for c in args.levels:
            say(f"daphne ×{args.procs}: redeem, floor and ping at {c} clients")
            redeem[c] = drive(ports, seed["tokens"], c, loadgen.redeem(codes), args)
            floor[c] = drive(floor_ports, seed["tokens"], c, loadgen.redeem(made_up), args)
            ping[c] = drive(ports, None, c, loadgen.ping(), args)
    return redeem, floor, ping


def pgbench_levels(args, env, seed, region):
    tps = {}
    for i, c in enumerate(args.levels):
        say(f"pgbench at {c} clients")
        tps[c] = dblimit.run(env["DATABASE_URL"], seed, c, args.duration, (i * region, region))
    return tps, dblimit.fresh_check(env["DATABASE_URL"])


def other_server_levels(kind, args, env, work, seed, codes):
    """The product's redeem and the floor on another server with --procs workers, interleaved."""
    servers.install(kind, say)
    redeem, floor = {}, {}
    made_up = loadgen.made_up_codes(len(seed["codes"][0]))
    with (servers.serving(kind, args.procs, env, work / f"{kind}.log") as ports,
          servers.serving(kind, args.procs, env, work / f"{kind}-floor.log", servers.FLOOR) as floor_ports):
        for c in args.levels:
            say(f"{kind}, {args.procs} workers: redeem and floor at {c} clients")
            redeem[c] = drive(ports, seed["tokens"], c, loadgen.redeem(codes), args)
            floor[c] = drive(floor_ports, seed["tokens"], c, loadgen.redeem(made_up), args)
    return {"redeem": redeem, "floor": floor}


def versions(args):
    names = ["Django", "djangorestframework", "channels", "channels-redis", "daphne", "Twisted", "psycopg"]
    found = {name: importlib.metadata.version(name) for name in names}
    for kind in args.others:
        found[kind] = servers.version(kind)
    server = subprocess.run(["psql", "-Atc", "show server_version"], env=dblimit.pg_env(os.environ.get(
        "BENCH_DATABASE_URL", DEFAULT_DATABASE_URL)), capture_output=True, text=True).stdout.strip()
    parts = [f"Python {platform.python_version()}", f"PostgreSQL {server}", f"Redis {redis_version()}"]
    return ", ".join(parts + [f"{k} {v}" for k, v in found.items()])


def redis_version():
    url = urlparse(os.environ.get("BENCH_REDIS_URL", DEFAULT_REDIS_URL))
    with socket.create_connection((url.hostname or "127.0.0.1", url.port or 6379), timeout=2) as s:
        s.sendall(b"INFO server\r\n")
        info = s.recv(4096).decode(errors="replace")
    return next((line.split(":", 1)[1].strip() for line in info.splitlines() if line.startswith("redis_version:")), "?")


def cpu_model():
    for line in Path("/proc/cpuinfo").read_text().splitlines():
        if line.startswith("model name"):
            return line.split(":", 1)[1].strip()
    return platform.processor() or "unknown"


def meta(args, quiet):
    return {
        "date": dt.datetime.now().astimezone().strftime("%Y-%m-%d %H:%M %Z"),
        "nproc": os.cpu_count(),
        "cpu": cpu_model(),
        **quiet,
        "quiet_load": QUIET_LOAD,
        "load_end": " ".join(f"{x:.2f}" for x in os.getloadavg()),
        "versions": versions(args),
        "command": shlex.join([".venv/bin/python", "bench/run.py", *sys.argv[1:]]),
        "servers": (f"{args.procs} daphne processes on {args.procs} ports for the app and as many for the floor, "
                    "clients split evenly between them"),
        "duration": args.duration,
        "warmup": args.warmup,
        "commands": {kind: servers.describe(kind, args.procs) for kind in ["daphne", *args.others]},
        "pgbench_note": (
            f"`{dblimit.PGBENCH} -n -f bench/redeem.pgbench -c N -j 2 -T {args.duration}`: the SQL of one "
            "redeem as the app sends it (auth lookup, store lookup, then in one transaction the voucher "
            "SELECT ... FOR UPDATE, the conditional UPDATE, the three INSERTs and the day and order totals' upserts), "
            "each transaction on a fresh voucher; no Python, no HTTP, no Redis."
        ),
    }


def say(message):
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def quiet_machine(wait):
    """The load average at the start of the run, after waiting up to `wait` seconds for the 1-minute
    figure to fall below QUIET_LOAD. Above it, the run is NOISY: printed and kept, but not quoted."""
    deadline = time.monotonic() + wait
    if wait and os.getloadavg()[0] > QUIET_LOAD:
        say(f"waiting up to {wait} s for the 1-minute load average ({os.getloadavg()[0]:.2f}) to fall below "
            f"{QUIET_LOAD}")
        while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
            time.sleep(min(5.0, max(0.0, deadline - time.monotonic())))
    loads = os.getloadavg()
    noisy = loads[0] > QUIET_LOAD
    if noisy:
        warn_noisy(loads[0])
    return {"load": " ".join(f"{x:.2f}" for x in loads), "load1": loads[0], "noisy": noisy}


def warn_noisy(load1):
    say(f"WARNING: 1-minute load average {load1:.2f} at the start is above {QUIET_LOAD}: this run is marked "
        "NOISY — not quoted (--wait-quiet SECONDS waits for a quiet machine)")


def main():
    args = arguments()
    # A SIGTERM must unwind through the `finally` that stops the servers.
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    env = app_env(os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    quiet = quiet_machine(args.wait_quiet)
    results = {"levels": args.levels}
    # Kept after the run: the server logs explain any error the clients saw.
    work = Path(tempfile.mkdtemp(prefix="bench-"))
    say(f"server logs in {work}")
    try:
        seed, region, results["profile"] = prepare(args, env, work)
        codes = iter(seed["codes"])
        results["redeem"], results["floor"], results["ping"] = http_levels(args, env, work, seed, codes)
        results["pgbench"], results["fresh"] = pgbench_levels(args, env, seed, region)
        results["others"] = {kind: other_server_levels(kind, args, env, work, seed, codes) for kind in args.others}
    except Exception:
        for log in work.glob("*.log"):
            say(f"last lines of {log}:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-30:]))
        raise
    results["meta"] = meta(args, quiet)
    text = report.document(results)
    print(text)
    report.save(text)
    say(f"written to {report.RESULTS.relative_to(ROOT)} and {(BENCH / 'profile.txt').relative_to(ROOT)}")
    if quiet["noisy"]:
        warn_noisy(quiet["load1"])


if __name__ == "__main__":
    main()
