"""The database limit: pgbench running the bare SQL of one redeem (redeem.pgbench) on the bench database."""

import os
import re
import subprocess
from pathlib import Path
from urllib.parse import unquote, urlparse

SCRIPT = Path(__file__).resolve().parent / "redeem.pgbench"
PGBENCH = "/usr/bin/pgbench"


def pg_env(url):
    parts = urlparse(url)
    env = dict(os.environ, PGHOST=parts.hostname or "127.0.0.1", PGPORT=str(parts.port or 5432),
               PGUSER=unquote(parts.username or "postgres"), PGDATABASE=unquote(parts.path.lstrip("/")))
    if parts.password:
        env["PGPASSWORD"] = unquote(parts.password)
    return env


def run(url, seed, clients, seconds, region):
    """tps of `clients` pgbench clients for `seconds`; each level walks its own `region` of the
    pgbench vouchers, split evenly between the clients, so no voucher is redeemed twice."""
    first, size = region
    variables = {
        "n": 0, "base": first, "stride": size // clients, "merchant": seed["merchant_id"],
        "store": seed["store_id"], "staff0": seed["clerk_ids"][0], "clerks": len(seed["clerk_ids"]),
    }
    command = [PGBENCH, "-n", "-f", str(SCRIPT), "-c", str(clients), "-j", "2", "-T", str(seconds)]
    for name, value in variables.items():
        command += ["-D", f"{name}={value}"]
    done = subprocess.run(command, env=pg_env(url), capture_output=True, text=True, timeout=seconds + 60)
    tps = re.search(r"^tps = ([\d.]+)", done.stdout, re.M)
    if done.returncode or not tps:
        raise RuntimeError(f"pgbench failed:\n{done.stdout}\n{done.stderr}")
    return float(tps.group(1))


def fresh_check(url):
    """(redemptions on pgbench vouchers, pgbench vouchers used up): equal when no voucher was hit twice."""
    sql = """SELECT (SELECT count(*) FROM redemption_redemption r JOIN redemption_voucher v ON v.id = r.voucher_id
                     WHERE v.code LIKE 'PGB%'),
                    (SELECT count(*) FROM redemption_voucher WHERE code LIKE 'PGB%' AND uses_left = 0)"""
    out = subprocess.run(["psql", "-Atc", sql], env=pg_env(url), capture_output=True, text=True, check=True)
    redemptions, used = out.stdout.strip().split("|")
    return int(redemptions), int(used)
