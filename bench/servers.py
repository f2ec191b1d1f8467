"""Start an ASGI application under daphne, uvicorn or granian on loopback ports, wait for /healthz,
always stop it.

daphne comes from the venv. uvicorn[standard] and granian are installed with pip into a cached
directory under /tmp that is put on PYTHONPATH for that server only: the venv and the requirements
stay as they are.
"""

import contextlib
import os
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = ROOT / ".venv" / "bin"
PYTHON = str(VENV_BIN / "python")
HEALTH_TIMEOUT = 30

APP = "config.asgi:application"
# bench/floor.py, found from the project root as a module of the namespace package `bench`.
FLOOR = "bench.floor:application"

KINDS = ("daphne", "uvicorn", "granian")
# What pip installs for a server that is not in the venv, and the distribution that tells its version.
EXTERNAL = {"uvicorn": ("uvicorn[standard]", "uvicorn"), "granian": ("granian", "granian")}


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


def daphne_commands(procs, app):
    """One daphne per core, each on its own port (daphne has no workers of its own), with its
    access log off as in the README's production recipe (the app logs each request itself)."""
    ports = [free_port() for _ in range(procs)]
    return ports, [[str(VENV_BIN / "daphne"), "-b", "127.0.0.1", "-p", str(p), "--access-log", "/dev/null", app]
                   for p in ports]


def uvicorn_commands(procs, app):
    port = free_port()
    return [port], [[PYTHON, "-m", "uvicorn", "--host", "127.0.0.1", "--port", str(port),
                     "--workers", str(procs), app]]


def granian_commands(procs, app):
    port = free_port()
    return [port], [[PYTHON, "-m", "granian", "--interface", "asgi", "--workers", str(procs),
                     "--host", "127.0.0.1", "--port", str(port), app]]


COMMANDS = {"daphne": daphne_commands, "uvicorn": uvicorn_commands, "granian": granian_commands}


def describe(kind, procs, app="APP"):
    """The command line, for the report (PORT in place of the port)."""
    ports, commands = COMMANDS[kind](procs, app)
    text = " ".join(commands[0]).replace(str(ports[0]), "PORT")
    text = text.replace(str(VENV_BIN) + "/", "").replace(PYTHON, "python")
    if kind == "daphne":
        return f"{text} (one process per port, {procs} ports)"
    return f"{text} (one port)"


def tool_dir(kind):
    return Path(tempfile.gettempdir()) / f"bench-{kind}-py{sys.version_info[0]}{sys.version_info[1]}"


def install(kind, say=print):
    """The server's package in its cached directory (once; later runs reuse it)."""
    if kind not in EXTERNAL:
        return
    requirement, distribution = EXTERNAL[kind]
    target = tool_dir(kind)
    if not list(target.glob(f"{distribution}-*.dist-info")):
        say(f"installing {requirement} into {target}")
        subprocess.run([PYTHON, "-m", "pip", "install", "-q", "--target", str(target), requirement], check=True)


def with_tool(env, kind):
    """`env` with the server's cached directory first on PYTHONPATH (install first)."""
    if kind not in EXTERNAL:
        return env
    return dict(env, PYTHONPATH=os.pathsep.join(filter(None, [str(tool_dir(kind)), env.get("PYTHONPATH")])))


def version(kind):
    distribution = EXTERNAL.get(kind, (None, kind))[1]
    out = subprocess.run([PYTHON, "-c", f"import importlib.metadata as m; print(m.version({distribution!r}))"],
                         env=with_tool(dict(os.environ), kind), capture_output=True, text=True)
    return out.stdout.strip() or "?"


def stop(proc):
    # Each server runs in its own process group (uvicorn's and granian's workers included): signal the
    # group by its id.
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        with contextlib.suppress(ProcessLookupError):
            os.killpg(proc.pid, signal.SIGKILL)
        proc.wait()


@contextlib.contextmanager
def serving(kind, procs, env, log_path, app=APP):
    """Yield the ports `app` listens on; the processes are stopped however the block ends."""
    ports, commands = COMMANDS[kind](procs, app)
    env = with_tool(env, kind)
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
