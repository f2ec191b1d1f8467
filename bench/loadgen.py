"""Closed-loop HTTP/1.1 load on raw asyncio streams: each client keeps one keep-alive connection and
sends its next request as soon as the answer to the last one is in.

Written here rather than taken from wrk: every redeem needs a code no other request uses and every
client its own clerk's token, and every answer is checked; this stays in the standard library.
"""

import asyncio
import collections
import itertools
import random
import time
from dataclasses import dataclass, field

HOST = "127.0.0.1"
# DEBUG=false turns on SECURE_SSL_REDIRECT; in production a TLS proxy in front says "this was https".
PROXY_HEADER = "X-Forwarded-Proto: https\r\n"


@dataclass
class Result:
    latencies: list = field(default_factory=list)  # seconds, of requests finished inside the window
    errors: collections.Counter = field(default_factory=collections.Counter)  # warm-up included
    seconds: float = 0.0
    cpu_seconds: float = 0.0  # this load generator's own CPU time over the window
    out_of_codes: bool = False

    @property
    def rate(self):
        return len(self.latencies) / self.seconds if self.seconds else 0.0

    def percentile(self, p):
        if not self.latencies:
            return float("nan")
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(p / 100 * len(ordered)))]


class Endpoint:
    """What to send and what a good answer looks like."""

    def __init__(self, method, path, expect, codes=None):
        self.method, self.path, self.expect, self.codes = method, path, expect, codes

    def request(self, token):
        headers = f"{self.method} {self.path} HTTP/1.1\r\nHost: {HOST}\r\n{PROXY_HEADER}"
        if token:
            headers += f"Authorization: Token {token}\r\n"
        if self.codes is None:
            return (headers + "\r\n").encode()
        body = b'{"code":"' + next(self.codes).encode() + b'"}'
        headers += f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
        return headers.encode() + body


def redeem(codes):
    return Endpoint("POST", "/api/v1/redeem/", b'"result":"redeemed"', iter(codes))


def made_up_codes(length=16):
    """Codes of the app's length, never the same twice, for the floor (which redeems nothing): its
    requests are byte for byte as long as the app's."""
    start = random.randrange(10 ** (length - 1))
    return (f"{n:0{length}d}" for n in itertools.count(start))


def ping():
    return Endpoint("GET", "/api/v1/ping/", b'"ok":true')


async def read_response(reader):
    head = await reader.readuntil(b"\r\n\r\n")
    status = int(head[9:12])
    length = None
    for line in head.split(b"\r\n")[1:]:
        name, _, value = line.partition(b":")
        if name.strip().lower() == b"content-length":
            length = int(value)
    if length is None:
        raise ValueError("answer without Content-Length")
    body = await reader.readexactly(length)
    return status, body, b"connection: close" in head.lower()


async def client(port, token, endpoint, window, result):
    start, end = window
    reader = writer = None
    while True:
        now = time.perf_counter()
        if now >= end:
            break
        try:
            request = endpoint.request(token)
        except StopIteration:
            result.out_of_codes = True
            break
        try:
            if writer is None:
                reader, writer = await asyncio.open_connection(HOST, port)
            writer.write(request)
            status, body, closing = await read_response(reader)
        except (OSError, asyncio.IncompleteReadError, ValueError) as error:
            result.errors[f"connection: {type(error).__name__}: {error}"[:160]] += 1
            writer = None
            continue
        finished = time.perf_counter()
        if status != 200 or endpoint.expect not in body:
            result.errors[f"{status} {body[:120].decode(errors='replace')}"] += 1
        elif now >= start and finished <= end:
            result.latencies.append(finished - now)
        if closing:
            writer.close()
            writer = None
    if writer is not None:
        writer.close()


async def run_level(ports, tokens, clients, endpoint, warmup, duration):
    """`clients` connections (client i on ports[i % len(ports)] as clerk i) for warm-up + duration;
    only the last `duration` seconds count."""
    result = Result()
    begin = time.perf_counter()
    window = (begin + warmup, begin + warmup + duration)
    cpu = [0.0]

    async def mark_cpu():
        await asyncio.sleep(warmup)
        cpu[0] = time.process_time()

    marker = asyncio.create_task(mark_cpu())
    await asyncio.gather(
        *(client(ports[i % len(ports)], tokens[i] if tokens else None, endpoint, window, result) for i in range(clients))
    )
    await marker
    result.cpu_seconds = time.process_time() - cpu[0]
    result.seconds = min(duration, time.perf_counter() - window[0])
    return result
