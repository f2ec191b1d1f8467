"""The results as one Markdown document: printed, and kept (newest first) in bench/RESULTS.md."""

import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RUN_MARK = "<!-- bench run -->"
KEEP_RUNS = 8  # one of each bench, and a few earlier runs to compare
TARGET_RATIO = 0.5  # redeem req/s at least half of the floor's, at each of TARGET_LEVELS clients
TARGET_LEVELS = (8, 32)
TARGET_P99_FACTOR = 2  # redeem p99 at most twice the floor's, at P99_LEVEL clients
P99_LEVEL = 32
NOISY = "NOISY — not quoted"


def ms(seconds):
    return f"{seconds * 1000:.1f}" if not math.isnan(seconds) else "-"


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def errors(*results):
    return sum(sum(result.errors.values()) for result in results)


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(r):
    header = ["clients", "redeem req/s", "p50 ms", "p99 ms", "floor req/s", "p50 ms", "p99 ms", "ping req/s",
              "p99 ms", "pgbench tps", "redeem/floor", "redeem/ping", "redeem/pgbench", "errors", "load-gen CPU"]
    rows = []
    for c in r["levels"]:
        red, flo, pin, tps = r["redeem"][c], r["floor"][c], r["ping"][c], r["pgbench"][c]
        cpu = sum(x.cpu_seconds for x in (red, flo, pin)) / sum(x.seconds for x in (red, flo, pin))
        rows.append([c, f"{red.rate:.0f}", ms(red.percentile(50)), ms(red.percentile(99)),
                     f"{flo.rate:.0f}", ms(flo.percentile(50)), ms(flo.percentile(99)),
                     f"{pin.rate:.0f}", ms(pin.percentile(99)), f"{tps:.0f}",
                     ratio(red.rate, flo.rate), ratio(red.rate, pin.rate), ratio(red.rate, tps),
                     errors(red, flo, pin), f"{cpu:.0%}"])
    return table(header, rows)


def all_results(r):
    """(name, level, Result) of every HTTP load in the run."""
    phases = [(name, r[name]) for name in ("redeem", "floor", "ping")]
    for kind, loads in (r.get("others") or {}).items():
        phases += [(f"{kind} {name}", loads[name]) for name in ("redeem", "floor")]
    return [(name, c, result) for name, by_level in phases for c, result in by_level.items()]


def targets(r):
    """The targets, each met, MISSED or not measured (a level left out of --levels)."""
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    lines = []
    for c in TARGET_LEVELS:
        if c not in r["levels"]:
            lines.append(f"- redeem ≥ {TARGET_RATIO} × floor at {c} clients: not measured")
            continue
        red, flo = r["redeem"][c], r["floor"][c]
        got = red.rate / flo.rate if flo.rate else 0.0
        lines.append(f"- redeem ≥ {TARGET_RATIO} × floor at {c} clients: {red.rate:.0f} / {flo.rate:.0f} req/s = "
                     f"{got:.2f} — {verdict(got >= TARGET_RATIO)}")
    if P99_LEVEL in r["levels"]:
        red, flo = r["redeem"][P99_LEVEL].percentile(99), r["floor"][P99_LEVEL].percentile(99)
        ok = not math.isnan(red) and red <= TARGET_P99_FACTOR * flo
        lines.append(f"- redeem p99 ≤ {TARGET_P99_FACTOR} × floor p99 at {P99_LEVEL} clients: {ms(red)} ms against "
                     f"{TARGET_P99_FACTOR} × {ms(flo)} = {ms(TARGET_P99_FACTOR * flo)} ms — {verdict(ok)}")
    else:
        lines.append(f"- redeem p99 ≤ {TARGET_P99_FACTOR} × floor p99 at {P99_LEVEL} clients: not measured")
    count = errors(*(result for _, _, result in all_results(r)))
    lines.append(f"- 0 errors: {count} — {verdict(count == 0)}")
    return "Targets (PRODUCT.md, on daphne):\n\n" + "\n".join(lines)


def servers_table(r):
    """daphne's figures from the main table beside the same loads on each other server."""
    header = ["server", "clients", "floor req/s", "p50 ms", "p99 ms", "redeem req/s", "p50 ms", "p99 ms",
              "redeem/floor", "redeem vs daphne", "errors"]
    loads = {"daphne": {"redeem": r["redeem"], "floor": r["floor"]}, **r["others"]}
    rows = []
    for kind, by in loads.items():
        for c in r["levels"]:
            red, flo = by["redeem"][c], by["floor"][c]
            rows.append([kind, c, f"{flo.rate:.0f}", ms(flo.percentile(50)), ms(flo.percentile(99)),
                         f"{red.rate:.0f}", ms(red.percentile(50)), ms(red.percentile(99)),
                         ratio(red.rate, flo.rate), ratio(red.rate, r["redeem"][c].rate), errors(red, flo)])
    return table(header, rows)


def error_lines(r):
    lines = []
    for name, c, result in all_results(r):
        for message, count in result.errors.most_common(5):
            lines.append(f"- {name} at {c} clients, {count}×: `{message}`")
        if result.out_of_codes:
            lines.append(f"- {name} at {c} clients ran out of fresh codes: its window was cut short")
    return lines


def profile_lines(p):
    red, pin = p["redeem"], p["ping"]
    return [
        f"- SQL of one redeem: {p['queries']} queries ({p['statements']} statements with BEGIN and COMMIT).",
        f"- In-process (django.test.Client, no server), mean of {p['redeems']}: redeem {red['wall_ms']:.1f} ms wall, "
        f"{red['cpu_ms']:.1f} ms CPU; ping {pin['wall_ms']:.2f} ms wall, {pin['cpu_ms']:.2f} ms CPU. "
        "Wall minus CPU is mostly waiting on PostgreSQL and Redis. cProfile listing: bench/profile.txt.",
    ]


def document(r):
    m = r["meta"]
    redemptions, used = r["fresh"]
    title = f"## Run of {m['date']}" + (f" — {NOISY}" if m["noisy"] else "")
    parts = [title]
    if m["noisy"]:
        parts.append(f"**{NOISY}**: the 1-minute load average was {m['load1']:.2f} at the start, above "
                     f"{m['quiet_load']}; other work shared the cores, so these figures are for comparison only.")
    parts += [
        f"Machine: {m['nproc']} cores, {m['cpu']}, load average at start {m['load']} (at the end {m['load_end']}). "
        f"Versions: {m['versions']}.",
        f"Command: `{m['command']}` — {m['servers']}; {m['duration']} s per level after {m['warmup']} s warm-up, "
        "closed-loop clients on keep-alive connections, each client its own clerk's token; redeem, floor and ping "
        "interleaved at each level.",
        f"Server: `{m['commands']['daphne']}`, APP = `config.asgi:application` for redeem and ping, "
        "`bench.floor:application` for the floor (bare Django: no middleware, no apps, no database; the same "
        "POST with a fresh code in its body).",
        main_table(r),
        targets(r),
        f"pgbench: {m['pgbench_note']} Freshness check: {redemptions} redemptions on {used} pgbench vouchers used up "
        f"({'every transaction hit a fresh voucher' if redemptions == used else 'SOME VOUCHERS WERE HIT TWICE'}).",
    ]
    if r.get("others"):
        commands = "\n".join(f"- {kind}: `{m['commands'][kind]}`" for kind in r["others"])
        parts += ["### The floor and redeem on other servers", commands, servers_table(r)]
    parts += ["### One redeem, in-process", "\n".join(profile_lines(r["profile"]))]
    errs = error_lines(r)
    parts += ["### Errors", "\n".join(errs) if errs else "None: every answer was 200 with the expected body."]
    return "\n\n".join(parts) + "\n"


def save(text):
    """Newest run first, the previous ones kept below it so noisy runs can be compared."""
    old = RESULTS.read_text().split(RUN_MARK)[1:] if RESULTS.exists() else []
    runs = [text] + [run.strip() + "\n" for run in old][: KEEP_RUNS - 1]
    head = "# Benchmark results\n\nWritten by `bench/run.py`, `bench/first_load.py`, `bench/offline_lists.py --write` and `bench/dashboards.py --write`; see bench/README.md for how to read them.\n\n"
    RESULTS.write_text(head + "".join(f"{RUN_MARK}\n{run}\n" for run in runs))
