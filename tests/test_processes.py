"""Two real server processes on PostgreSQL + Redis: exactly-once across them, and a redemption
made on one reaching a dashboard connected to the other."""

import base64
import concurrent.futures
import json
import os
import socket
import struct
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections import Counter
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection
from rest_framework.authtoken.models import Token

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.django_db(transaction=True)]
ROOT = Path(__file__).resolve().parent.parent


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def database_url():
    db = connection.settings_dict
    return f"postgres://{db['USER']}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db['NAME']}"


@pytest.fixture
def servers(db):
    """Two daphne processes on the test database, as production runs them (one per core)."""
    env = {**os.environ, "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL, "DEBUG": "false",
           "SECRET_KEY": "x" * 50, "ALLOWED_HOSTS": "127.0.0.1", "SECURE_SSL_REDIRECT": "false", "CONN_MAX_AGE": "0"}
    ports = [free_port(), free_port()]
    procs = [
        subprocess.Popen([sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(p), "config.asgi:application"],
                         cwd=ROOT, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        for p in ports
    ]
    try:
        for port in ports:
            wait_until_up(port)
        yield [f"http://127.0.0.1:{p}" for p in ports]
    finally:
        for proc in procs:
            proc.terminate()
        for proc in procs:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:  # daphne lingers over open WebSockets
                proc.kill()
                proc.wait()


def wait_until_up(port):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/healthz", timeout=2) as response:
                if response.status == 200:
                    return
        except (urllib.error.URLError, ConnectionError, OSError):
            time.sleep(0.2)
    raise AssertionError(f"server on port {port} did not come up")


def post(base, path, token, body):
    request = urllib.request.Request(
        base + path, data=json.dumps(body).encode(), method="POST",
        headers={"Content-Type": "application/json", "Authorization": f"Token {token}"},
    )
    try:
        with urllib.request.urlopen(request, timeout=30) as response:
            return response.status, json.load(response)
    except urllib.error.HTTPError as error:
        return error.code, json.load(error)


def test_fifty_redeems_of_one_code_across_two_processes_one_wins(servers, carol, mike, meal, issue, store_a):
    voucher = issue(meal)
    tokens = [Token.objects.create(user=m.user).key for m in (carol, mike)]
    body = {"code": voucher.code, "store": store_a.id}
    with concurrent.futures.ThreadPoolExecutor(50) as pool:
        futures = [pool.submit(post, servers[i % 2], "/api/v1/redeem/", tokens[i % 2], body) for i in range(50)]
        results = [f.result() for f in futures]
    assert Counter((status, answer["result"]) for status, answer in results) == {
        (200, "redeemed"): 1, (409, "already_redeemed"): 49,
    }
    voucher.refresh_from_db()
    assert voucher.uses_left == 0


class WebSocket:
    """Just enough of RFC 6455 to read a dashboard's text frames."""

    def __init__(self, base, path):
        host, port = base.removeprefix("http://").split(":")
        self.sock = socket.create_connection((host, int(port)), timeout=10)
        key = base64.b64encode(os.urandom(16)).decode()
        self.sock.sendall(
            f"GET {path} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
            f"Sec-WebSocket-Key: {key}\r\nSec-WebSocket-Version: 13\r\nOrigin: http://{host}\r\n\r\n".encode()
        )
        head = b""
        while b"\r\n\r\n" not in head:
            head += self.sock.recv(1)
        assert head.startswith(b"HTTP/1.1 101"), head

    def _read(self, n):
        data = b""
        while len(data) < n:
            chunk = self.sock.recv(n - len(data))
            if not chunk:
                raise ConnectionError("closed")
            data += chunk
        return data

    def receive_json(self):
        first, second = self._read(2)
        length = second & 0x7F
        if length == 126:
            length = struct.unpack(">H", self._read(2))[0]
        elif length == 127:
            length = struct.unpack(">Q", self._read(8))[0]
        payload = self._read(length)
        assert first & 0x0F == 1, f"expected a text frame, got opcode {first & 0x0F}"
        return json.loads(payload)

    def close(self):
        self.sock.close()


def test_a_redemption_on_one_process_reaches_a_dashboard_on_the_other(servers, olivia, carol, meal, issue):
    voucher = issue(meal)
    owner_token = Token.objects.create(user=olivia.user).key
    clerk_token = Token.objects.create(user=carol.user).key
    ws = WebSocket(servers[0], f"/ws/dashboard/?token={owner_token}")
    try:
        time.sleep(0.3)  # the consumer joins its groups right after the handshake
        status, answer = post(servers[1], "/api/v1/redeem/", clerk_token, {"code": voucher.code})
        assert status == 200
        event = ws.receive_json()
    finally:
        ws.close()
    assert event["type"] == "redemption.created"
    assert event["redemption"]["id"] == answer["redemption"]["id"]
