"""Live push latency with many dashboards open (the target: p99 ≤ 50 ms with 200 dashboards,
across two server processes): from a redemption's event being written to every owner's
dashboard having it, on PostgreSQL + Redis with two daphne processes.

Usage: .venv/bin/python bench/live_push.py [DASHBOARDS] [REDEMPTIONS]
"""

import asyncio
import base64
import datetime as dt
import json
import os
import secrets
import statistics
import struct
import sys
import tempfile
import time

import djangoenv
import servers

URL = os.environ.get("BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/redemption_live_bench")
REDIS = os.environ.get("BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")


def seed(count):
    from decimal import Decimal

    from staff.devices import token_for

    from redemption import services
    from redemption.models import Product
    from staff.models import Store
    from staff.services import merchant_create, staff_create

    owner = merchant_create(name="Live", owner_username="live-owner", owner_password="live-bench-pw")
    store = Store.objects.create(merchant=owner.merchant, name="Store")
    clerk = staff_create(merchant=owner.merchant, username="live-clerk", password="live-bench-pw",
                         display_name="Clerk", stores=[store])
    product = Product.objects.create(merchant=owner.merchant, name="Meal", face_value=Decimal("10"))
    vouchers, _ = services.voucher_issue(product=product, order_no="LIVE", quantity=count)
    return (token_for(owner.user), token_for(clerk.user),
            [v.code for v in vouchers])


async def read_frame(reader):
    first, second = await reader.readexactly(2)
    length = second & 0x7F
    if length == 126:
        length = struct.unpack(">H", await reader.readexactly(2))[0]
    elif length == 127:
        length = struct.unpack(">Q", await reader.readexactly(8))[0]
    return first & 0x0F, await reader.readexactly(length)


def masked(opcode, payload):
    mask = secrets.token_bytes(4)
    body = bytes(b ^ mask[i % 4] for i, b in enumerate(payload))
    return bytes([0x80 | opcode, 0x80 | len(payload)]) + mask + body


async def open_dashboard(port, token):
    """A dashboard's WebSocket as the page opens it (?batch=1), the handshake done: (reader, writer)."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    key = base64.b64encode(secrets.token_bytes(16)).decode()
    writer.write(
        f"GET /ws/dashboard/?batch=1&token={token} HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
        f"Connection: Upgrade\r\nSec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\n"
        f"Origin: http://127.0.0.1\r\n\r\n".encode()
    )
    status = await reader.readuntil(b"\r\n\r\n")
    assert status.startswith(b"HTTP/1.1 101"), status[:80]
    return reader, writer


async def dashboard(port, token, arrivals, ready):
    reader, writer = await open_dashboard(port, token)
    ready.release()
    while True:
        opcode, payload = await read_frame(reader)
        if opcode == 1:
            received = time.time()
            for event in json.loads(payload):  # a batch, as the dashboard page asks for them
                if event["type"] == "redemption.created":
                    arrivals.append((event["redemption"]["id"], received, event["at"]))
        elif opcode == 9:  # ping: answer, or the server drops the dashboard
            writer.write(masked(0xA, payload))
        elif opcode == 8:
            return


async def redeem(port, token, code):
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    body = json.dumps({"code": code}).encode()
    writer.write(
        f"POST /api/v1/redeem/ HTTP/1.1\r\nHost: 127.0.0.1\r\nAuthorization: Token {token}\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\nConnection: close\r\n\r\n".encode() + body
    )
    answer = await reader.read()
    writer.close()
    assert b" 200 " in answer.split(b"\r\n", 1)[0], answer[:200]


async def measure(ports, owner_token, clerk_token, codes, dashboards):
    arrivals = []
    ready = asyncio.Semaphore(0)
    readers = [asyncio.create_task(dashboard(ports[i % len(ports)], owner_token, arrivals, ready))
               for i in range(dashboards)]
    for _ in range(dashboards):
        await asyncio.wait_for(ready.acquire(), 30)
    await asyncio.sleep(1)  # every consumer has joined its groups
    for i, code in enumerate(codes):
        await redeem(ports[i % len(ports)], clerk_token, code)
        await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    for task in readers:
        task.cancel()
    return arrivals


def main():
    dashboards = int(sys.argv[1]) if len(sys.argv) > 1 else 200
    count = int(sys.argv[2]) if len(sys.argv) > 2 else 50
    djangoenv.throwaway_database(URL)
    owner_token, clerk_token, codes = seed(count)
    env = {**os.environ, "DATABASE_URL": URL, "REDIS_URL": REDIS, "DEBUG": "false", "SECRET_KEY": secrets.token_urlsafe(50),
           "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "LOG_LEVEL": "WARNING"}
    log = os.path.join(tempfile.mkdtemp(prefix="live-bench-"), "daphne.log")
    with servers.serving("daphne", 2, env, log) as ports:
        arrivals = asyncio.run(measure(ports, owner_token, clerk_token, codes, dashboards))
    latencies = sorted((received - dt.datetime.fromisoformat(at).timestamp()) * 1000 for _, received, at in arrivals)
    expected = dashboards * count
    print(f"{dashboards} dashboards on 2 daphne processes, {count} redemptions: {len(latencies)} of {expected} deliveries")
    if latencies:
        p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
        print(f"event written → dashboard has it: p50 {statistics.median(latencies):.1f} ms, p99 {p99:.1f} ms, "
              f"max {latencies[-1]:.1f} ms (target p99 ≤ 50 ms)")


if __name__ == "__main__":
    main()
