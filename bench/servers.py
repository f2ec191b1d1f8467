"""Start the app under daphne or uvicorn on loopback ports, wait for /healthz, always stop it."""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
HEALTH_TIMEOUT = 30


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def healthy(port):
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=2) as s:
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n")
            return s.recv(64).startswith(b"HTTP/1.1 200")
    except OSError:
        return False


def wait_healthy(ports, procs, log):
    deadline = time.monotonic() + HEALTH_TIMEOUT
    for port in ports:
        while not healthy(port):
            if any(p.poll() is not None for p in procs) or time.monotonic() > deadline:
                raise RuntimeError(f"server on port {port} did not become healthy; see {log}")
            time.sleep(0.2)


def daphne_commands(procs):
    """One daphne per core, each on its own port (daphne has no workers of its own)."""
    ports = [free_port() for _ in range(procs)]
    return ports, [[str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(p), "config.asgi:application"] for p in ports]


def uvicorn_commands(procs):
    port = free_port()
    command = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
               "--workers", str(procs), "config.asgi:application"]
    return [port], [command]


def stop(proc):
    # Each server runs in its own process group (uvicorn's workers included): signal the group by its id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def serving(kind, procs, env, log_path):
    """Yield the ports the app listens on; the processes are stopped however the block ends."""
    ports, commands = (daphne_commands if kind == "daphne" else uvicorn_commands)(procs)
    started = []
    with open(log_path, "ab") as log:
        try:
            for command in commands:
                started.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=log,
                                                stdin=subprocess.DEVNULL, start_new_session=True))
            wait_healthy(ports, started, log_path)
            yield ports
        finally:
            for proc in started:
                stop(proc)
