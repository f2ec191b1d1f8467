"""First load on a weak phone network (issue 18): the scanner from an empty cache and again from its
service worker, and the owner's dashboard from an empty cache, in Chromium throttled by the DevTools
protocol to 400 kbit/s each way and 400 ms round trip. One command, one printed table:

    .venv/bin/python bench/first_load.py [--wait-quiet SECONDS] [--no-save]

See bench/README.md, "First load on a weak network", for what is measured and how.
"""

import argparse
import json
import os
import secrets
import shlex
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path

BENCH = Path(__file__).resolve().parent
sys.path.insert(0, str(BENCH.parent))

from bench import report, servers

CHROMIUM = "/usr/bin/chromium"
PASSWORD = "bench-first-load"
QUIET_LOAD = 0.5
SLOW_NETWORK = {"offline": False, "latency": 400, "downloadThroughput": 400 * 1000 / 8,
                "uploadThroughput": 400 * 1000 / 8}
PHONE = {"viewport": {"width": 390, "height": 844}, "device_scale_factor": 3, "is_mobile": True,
         "has_touch": True, "locale": "zh-CN"}
FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
         "--disable-component-update", "--disable-sync"]
TARGETS = {"scanner, empty cache": 3.0, "scanner, from the service worker": 0.5, "dashboard, empty cache": 4.0}
PAGE_TIMEOUT_MS = 30_000

# Runs in every document before its own scripts: notes (ms since navigation start) the first frame
# at which the page's own condition holds. A poll from Python would add its own round trips.
WATCH = """
(() => {
  const ready = %s;
  const look = () => {
    if (window.__usable === undefined && ready()) { window.__usable = performance.now(); return; }
    if (window.__usable === undefined) requestAnimationFrame(look);
  };
  requestAnimationFrame(look);
  const poll = setInterval(() => { look(); if (window.__usable !== undefined) clearInterval(poll); }, 10);
})();
"""
# The code field is shown (the page hides it while booting), enabled, and app.js has wired it.
SCANNER_READY = """() => {
  const input = document.getElementById("code");
  return !!input && !input.disabled && !document.body.classList.contains("booting")
    && input.checkVisibility({ visibilityProperty: true, opacityProperty: true });
}"""
# The live indicator says 实时 (connected) and the overview's numbers are drawn.
DASHBOARD_READY = """() => {
  const conn = document.getElementById("conn"), tile = document.getElementById("t-redemptions");
  return !!conn && conn.classList.contains("conn-live") && !!tile && /\\d/.test(tile.textContent)
    && !document.body.classList.contains("booting");
}"""


def say(text):
    print(text, flush=True)


def seed(database_url, secret):
    """Migrate, collect the static files as production does, and make a shop: an owner, a store, a
    clerk, a product and a few redemptions. Returns the clerk's and the owner's session cookies."""
    os.environ.update(DATABASE_URL=database_url, DEBUG="false", SECRET_KEY=secret, ALLOWED_HOSTS="*")
    from bench import djangoenv

    djangoenv.setup()
    from decimal import Decimal

    from django.core.management import call_command
    from django.test import Client

    from redemption import services
    from redemption.models import Product
    from staff.models import Store
    from staff.services import merchant_create, staff_create

    call_command("migrate", verbosity=0)
    call_command("collectstatic", "--noinput", verbosity=0)
    owner = merchant_create(name="面包坊", owner_username="bench-owner", owner_password=PASSWORD)
    store = Store.objects.create(merchant=owner.merchant, name="东门店")
    clerk = staff_create(merchant=owner.merchant, username="bench-clerk", password=PASSWORD, display_name="小王",
                         stores=[store])
    product = Product.objects.create(merchant=owner.merchant, name="奶油蛋糕券", face_value=Decimal("68.00"))
    vouchers, _ = services.voucher_issue(product=product, order_no="BENCH-1", quantity=8)
    for voucher in vouchers[:5]:
        services.voucher_redeem(member=clerk, raw_code=voucher.code, store_id=store.id)
    cookies = {}
    for name, member in (("clerk", clerk), ("owner", owner)):
        client = Client()
        client.force_login(member.user)
        cookies[name] = client.cookies["sessionid"].value
    return cookies


class Traffic:
    """Every request of one page load as the DevTools protocol reports it: URL, status, bytes over the
    wire (encodedDataLength: headers and compressed body), and whether the service worker answered."""

    def __init__(self, cdp):
        self.requests = {}
        cdp.on("Network.requestWillBeSent", self.sent)
        cdp.on("Network.responseReceived", self.answered)
        cdp.on("Network.loadingFinished", self.finished)

    def from_worker(self, event):
        """The service worker's own fetches, relayed by its (non-flattened) session: marked `worker`."""
        message = json.loads(event["message"])
        handler = {"Network.requestWillBeSent": self.sent, "Network.responseReceived": self.answered,
                   "Network.loadingFinished": self.finished}.get(message.get("method"))
        if handler:
            handler(dict(message["params"], requestId="worker-" + message["params"]["requestId"]))

    def sent(self, event):
        if event["request"]["url"].startswith("data:"):
            return
        self.requests[event["requestId"]] = {"url": event["request"]["url"], "status": None, "bytes": 0,
                                             "sw": False, "done": False, "start": event["timestamp"],
                                             "worker": event["requestId"].startswith("worker-")}

    def answered(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            response = event["response"]
            entry.update(status=response["status"], sw=bool(response.get("fromServiceWorker")),
                         encoding=next((v for k, v in response.get("headers", {}).items()
                                        if k.lower() == "content-encoding"), ""))

    def finished(self, event):
        entry = self.requests.get(event["requestId"])
        if entry:
            entry.update(bytes=int(event["encodedDataLength"]), done=True, end=event["timestamp"])

    def reset(self):
        self.requests = {}

    def rows(self):
        return sorted(self.requests.values(), key=lambda r: r["start"])


def open_throttled(context, cache_disabled):
    page = context.new_page()
    cdp = context.new_cdp_session(page)
    traffic = Traffic(cdp)
    cdp.send("Network.enable")
    cdp.send("Network.setCacheDisabled", {"cacheDisabled": cache_disabled})
    cdp.send("Network.emulateNetworkConditions", SLOW_NETWORK)
    return page, cdp, traffic


def throttle_service_workers(browser_cdp):
    """The page's throttling does not reach the service worker's own fetches (it is a target of its
    own): attach to every service worker and throttle it alike. Returns how many were throttled."""
    targets = browser_cdp.send("Target.getTargets")["targetInfos"]
    workers = [t for t in targets if t["type"] == "service_worker"]
    for n, target in enumerate(workers):
        session = browser_cdp.send("Target.attachToTarget", {"targetId": target["targetId"], "flatten": False})
        for i, (method, params) in enumerate((("Network.enable", {}),
                                              ("Network.emulateNetworkConditions", SLOW_NETWORK))):
            message = json.dumps({"id": 1000 * (n + 1) + i, "method": method, "params": params})
            browser_cdp.send("Target.sendMessageToTarget", {"sessionId": session["sessionId"], "message": message})
    return len(workers)


def load(page, url, traffic, typed=True):
    """Navigate and wait for the page's own 'usable' mark; then type a digit into the code field and
    read it back (the scanner). Returns the ms from navigation start to usable."""
    traffic.reset()
    page.goto(url, wait_until="commit", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_function("() => window.__usable !== undefined", timeout=PAGE_TIMEOUT_MS)
    usable = page.evaluate("window.__usable")
    if typed:
        page.locator("#code").press_sequentially("7")
        value = page.locator("#code").input_value()
        if "7" not in value:
            raise RuntimeError(f"the code field did not take the typed digit (it holds {value!r})")
    page.wait_for_load_state("load", timeout=PAGE_TIMEOUT_MS)
    page.wait_for_timeout(300)  # late requests (the words catalogue, the socket) into the list
    return usable


def measure(base, cookies, say=say):
    from playwright.sync_api import sync_playwright

    results = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=FLAGS, headless=True)
        browser_cdp = browser.new_browser_cdp_session()

        context = browser.new_context(service_workers="allow", **PHONE)
        context.add_cookies([{"name": "sessionid", "value": cookies["clerk"], "url": base}])
        context.add_init_script(WATCH % SCANNER_READY)
        page, cdp, traffic = open_throttled(context, cache_disabled=True)
        ms = load(page, base + "/staff/", traffic)
        results["scanner, empty cache"] = (ms, traffic.rows())
        say(f"scanner, empty cache: usable at {ms:.0f} ms")

        # Next visit: the worker installed and controlling, the HTTP cache as it is after the first.
        page.wait_for_function("() => !!navigator.serviceWorker.controller", timeout=PAGE_TIMEOUT_MS)
        page.evaluate("navigator.serviceWorker.ready.then(() => true)")
        cdp.send("Network.setCacheDisabled", {"cacheDisabled": False})
        throttled = throttle_service_workers(browser_cdp)
        browser_cdp.on("Target.receivedMessageFromTarget", traffic.from_worker)
        ms = load(page, base + "/staff/", traffic)
        results["scanner, from the service worker"] = (ms, traffic.rows())
        say(f"scanner, from the service worker ({throttled} worker throttled): usable at {ms:.0f} ms")
        context.close()

        context = browser.new_context(service_workers="block", **PHONE)
        context.add_cookies([{"name": "sessionid", "value": cookies["owner"], "url": base}])
        context.add_init_script(WATCH % DASHBOARD_READY)
        page, cdp, traffic = open_throttled(context, cache_disabled=True)
        ms = load(page, base + "/dashboard/", traffic, typed=False)
        results["dashboard, empty cache"] = (ms, traffic.rows())
        say(f"dashboard, empty cache: usable at {ms:.0f} ms")
        context.close()
        browser.close()
    return results


def quiet_machine(wait):
    deadline = time.monotonic() + wait
    while os.getloadavg()[0] > QUIET_LOAD and time.monotonic() < deadline:
        time.sleep(5)
    return os.getloadavg()


def requests_table(base, rows):
    lines = ["| request | status | bytes | from | start–end ms |", "|---|---|---|---|---|"]
    first = rows[0]["start"] if rows else 0
    for r in rows:
        name = r["url"].removeprefix(base)
        source = "service worker" if r["sw"] else ("network" if r["done"] else "unfinished")
        source = "the worker's fetch, network" if r["worker"] else source
        encoding = f" ({r.get('encoding')})" if r.get("encoding") else ""
        span = f"{(r['start'] - first) * 1000:.0f}–" + (f"{(r['end'] - first) * 1000:.0f}" if r["done"] else "")
        lines.append(f"| `{name}` | {r['status'] or '–'} | {r['bytes']:,}{encoding} | {source} | {span} |")
    total = sum(r["bytes"] for r in rows if not r["sw"])
    lines.append(f"| **over the network** | | **{total:,}** | | |")
    return "\n".join(lines)


def document(base, results, loads, loads_end, command):
    noisy = loads[0] > QUIET_LOAD
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    head = f"## First load on a weak network, {when}" + (f" — {report.NOISY}" if noisy else "")
    parts = [head]
    if noisy:
        parts.append(f"**{report.NOISY}**: the 1-minute load average was {loads[0]:.2f} at the start, above "
                     f"{QUIET_LOAD}; other work shared the cores.")
    parts.append(
        f"Machine: {os.cpu_count()} cores, load average at start {' '.join(f'{x:.2f}' for x in loads)} "
        f"(at the end {' '.join(f'{x:.2f}' for x in loads_end)}). Chromium {CHROMIUM}, phone viewport 390×844, "
        f"DevTools throttling: 400 ms latency, 400 kbit/s down and up. One daphne, DEBUG=false, static files "
        f"collected and served by servestatic.\n\nCommand: `{command}`")
    rows = ["| load | usable after | target | over the network | |", "|---|---|---|---|---|"]
    for name, target in TARGETS.items():
        ms, traffic = results[name]
        sent = sum(r["bytes"] for r in traffic if not r["sw"])
        verdict = "met" if ms <= target * 1000 else "MISSED"
        rows.append(f"| {name} | {ms / 1000:.2f} s | {target} s | {sent:,} bytes | {verdict} |")
    parts.append("\n".join(rows))
    for name, (ms, traffic) in results.items():
        parts += [f"### {name}: requests", requests_table(base, traffic)]
    return "\n\n".join(parts) + "\n"


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wait-quiet", type=float, default=0, metavar="SECONDS",
                        help=f"wait up to this long for the 1-minute load average to fall below {QUIET_LOAD}")
    parser.add_argument("--no-save", action="store_true", help="print only; leave bench/RESULTS.md as it is")
    args = parser.parse_args()
    loads = quiet_machine(args.wait_quiet)
    say(f"load average at start: {' '.join(f'{x:.2f}' for x in loads)}")
    work = Path(tempfile.mkdtemp(prefix="bench-first-load-"))
    database_url = os.environ.get("BENCH_DATABASE_URL") or f"sqlite:///{work / 'db.sqlite3'}"
    secret = secrets.token_urlsafe(40)
    say(f"seeding {database_url.split('://')[0]} database, collecting static files (logs in {work})")
    cookies = seed(database_url, secret)
    env = dict(os.environ, DEBUG="false", SECRET_KEY=secret, ALLOWED_HOSTS="127.0.0.1", DATABASE_URL=database_url,
               SECURE_SSL_REDIRECT="false")
    env.pop("REDIS_URL", None)
    if os.environ.get("BENCH_REDIS_URL"):
        env["REDIS_URL"] = os.environ["BENCH_REDIS_URL"]
    with servers.serving("daphne", 1, env, work / "daphne.log") as (port,):
        base = f"http://127.0.0.1:{port}"
        results = measure(base, cookies)
    command = shlex.join([".venv/bin/python", "bench/first_load.py", *sys.argv[1:]])
    text = document(base, results, loads, os.getloadavg(), command)
    say("\n" + text)
    if not args.no_save:
        report.save(text)
        say(f"appended to {report.RESULTS.relative_to(BENCH.parent)}")


if __name__ == "__main__":
    main()
