"""The results as one Markdown document: printed, and kept (newest first) in bench/RESULTS.md."""

import math
from pathlib import Path

RESULTS = Path(__file__).resolve().parent / "RESULTS.md"
RUN_MARK = "<!-- bench run -->"
KEEP_RUNS = 5
TARGET_RATIO = 0.5  # redeem req/s at least half of ping req/s
TARGET_P99_MS = 50


def ms(seconds):
    return f"{seconds * 1000:.1f}" if not math.isnan(seconds) else "-"


def ratio(a, b):
    return f"{a / b:.2f}" if b else "-"


def table(header, rows):
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return "\n".join(lines)


def main_table(r):
    header = ["clients", "redeem req/s", "p50 ms", "p99 ms", "errors", "ping req/s", "p50 ms", "p99 ms",
              "pgbench tps", "redeem/ping", "redeem/pgbench", "load-gen CPU"]
    rows = []
    for c in r["levels"]:
        red, pin, tps = r["redeem"][c], r["ping"][c], r["pgbench"][c]
        cpu = (red.cpu_seconds + pin.cpu_seconds) / (red.seconds + pin.seconds)
        rows.append([c, f"{red.rate:.0f}", ms(red.percentile(50)), ms(red.percentile(99)),
                     sum(red.errors.values()) + sum(pin.errors.values()), f"{pin.rate:.0f}",
                     ms(pin.percentile(50)), ms(pin.percentile(99)), f"{tps:.0f}",
                     ratio(red.rate, pin.rate), ratio(red.rate, tps), f"{cpu:.0%}"])
    return table(header, rows)


def targets(r):
    top = max(r["levels"])
    red, pin = r["redeem"][top], r["ping"][top]
    got_ratio = red.rate / pin.rate if pin.rate else 0.0
    p99 = red.percentile(99) * 1000
    verdict = lambda ok: "met" if ok else "MISSED"  # noqa: E731
    return (f"Targets at {top} clients: redeem/ping = {got_ratio:.2f} (target ≥ {TARGET_RATIO}) "
            f"{verdict(got_ratio >= TARGET_RATIO)}; redeem p99 = {p99:.1f} ms (target ≤ {TARGET_P99_MS} ms) "
            f"{verdict(p99 <= TARGET_P99_MS)}.")


def uvicorn_table(r):
    header = ["clients", "daphne req/s", "p50 ms", "p99 ms", "uvicorn req/s", "p50 ms", "p99 ms", "errors",
              "uvicorn/daphne"]
    rows = []
    for c in r["levels"]:
        d, u = r["redeem"][c], r["uvicorn"][c]
        rows.append([c, f"{d.rate:.0f}", ms(d.percentile(50)), ms(d.percentile(99)), f"{u.rate:.0f}",
                     ms(u.percentile(50)), ms(u.percentile(99)), sum(u.errors.values()), ratio(u.rate, d.rate)])
    return table(header, rows)


def error_lines(r):
    lines = []
    for phase in ("redeem", "ping", "uvicorn"):
        for c, result in (r.get(phase) or {}).items():
            for message, count in result.errors.most_common(5):
                lines.append(f"- {phase} at {c} clients, {count}×: `{message}`")
            if result.out_of_codes:
                lines.append(f"- {phase} at {c} clients ran out of fresh codes: its window was cut short")
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
    parts = [
        f"## Run of {m['date']}",
        f"Machine: {m['nproc']} cores, {m['cpu']}, load average at start {m['load']}. "
        f"Versions: {m['versions']}.",
        f"Command: `{m['command']}` — {m['servers']}; {m['duration']} s per level after {m['warmup']} s warm-up, "
        "closed-loop clients on keep-alive connections, one clerk and a fresh code per redeem.",
        main_table(r),
        targets(r),
        f"pgbench: {m['pgbench_note']} Freshness check: {redemptions} redemptions on {used} pgbench vouchers used up "
        f"({'every transaction hit a fresh voucher' if redemptions == used else 'SOME VOUCHERS WERE HIT TWICE'}).",
    ]
    if r.get("uvicorn"):
        parts += ["### Same redeem load on uvicorn", f"`{m['uvicorn_command']}`", uvicorn_table(r)]
    parts += ["### One redeem, in-process", "\n".join(profile_lines(r["profile"]))]
    errors = error_lines(r)
    parts += ["### Errors", "\n".join(errors) if errors else "None: every answer was 200 with the expected body."]
    return "\n\n".join(parts) + "\n"


def save(text):
    """Newest run first, the previous ones kept below it so noisy runs can be compared."""
    old = RESULTS.read_text().split(RUN_MARK)[1:] if RESULTS.exists() else []
    runs = [text] + [run.strip() + "\n" for run in old][: KEEP_RUNS - 1]
    head = "# Benchmark results\n\nWritten by `bench/run.py`; see bench/README.md for how to read them.\n\n"
    RESULTS.write_text(head + "".join(f"{RUN_MARK}\n{run}\n" for run in runs))
