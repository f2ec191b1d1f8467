"""The README's production set-up, run as it says: DEBUG=false, two daphne processes and the webhook
worker behind nginx, which terminates TLS with a throwaway certificate, on PostgreSQL + Redis; then a
clerk and an owner in Chromium over https://, as on a phone, whose camera works only on a secure page.

The environment and the nginx site are read out of README.md; only what differs on this machine is
swapped in (the ports, the certificate's paths, the secret, the test database), so the recipe an
operator copies is the one that ran. Chromium resolves the README's host name to this machine."""

import datetime
import http.client
import json
import os
import re
import secrets
import shlex
import shutil
import socket
import ssl
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID
from django.conf import global_settings, settings
from tests.conftest import token_for

from tests.conftest import IN_CI, PASSWORD
from tests.conftest import chromium_path as need_chromium
from tests.processes import database_url, free_port

pytestmark = [pytest.mark.postgres, pytest.mark.redis, pytest.mark.browser, pytest.mark.django_db(transaction=True)]

ROOT = Path(__file__).resolve().parent.parent
HOST = "hexiao.example.com"  # the README's; Chromium is told it is this machine
FLAGS = [
    "--headless", "--no-sandbox", "--disable-gpu", "--no-first-run", "--disable-background-networking",
    "--disable-component-update", "--disable-sync", f"--host-resolver-rules=MAP {HOST} 127.0.0.1",
    # A camera that needs no one to press "allow": whether the page may ask is what is tested.
    "--use-fake-ui-for-media-stream", "--use-fake-device-for-media-stream",
]


def nginx_path():
    """nginx, as Debian installs it. Skips where there is none, but never lets CI pass by skipping."""
    path = shutil.which("nginx") or ("/usr/sbin/nginx" if os.access("/usr/sbin/nginx", os.X_OK) else None)
    if not path:
        message = "the production test needs nginx (apt-get install nginx)"
        if IN_CI:
            pytest.fail(message)
        pytest.skip(message)
    return path


def readme_block(language, containing):
    blocks = re.findall(rf"```{language}\n(.*?)```", (ROOT / "README.md").read_text(), re.DOTALL)
    found = [block for block in blocks if containing in block]
    assert len(found) == 1, f"README.md should have one ```{language} block with {containing!r}"
    return found[0]


def readme_environment():
    """The variables of the README's `export` line."""
    recipe = readme_block("sh", "export DEBUG=false").replace("\\\n", " ")
    line = next(line for line in recipe.splitlines() if line.startswith("export "))
    return dict(word.split("=", 1) for word in shlex.split(line)[1:])


def swap(text, changes):
    for old, new in changes.items():
        assert old in text, f"the README's nginx site no longer has {old!r}: update tests/test_production.py"
        text = text.replace(old, new)
    return text


def throwaway_certificate(folder):
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, HOST)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
        .serial_number(x509.random_serial_number()).not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.DNSName(HOST)]), critical=False)
        .sign(key, hashes.SHA256())
    )
    (folder / "fullchain.pem").write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    (folder / "privkey.pem").write_bytes(key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()))


def nginx_conf(folder, ports):
    """The README's site inside a main file that keeps nginx's pid, logs and buffers in `folder`."""
    site = swap(readme_block("nginx", "upstream"), {
        "127.0.0.1:8001": f"127.0.0.1:{ports['daphne'][0]}",
        "127.0.0.1:8002": f"127.0.0.1:{ports['daphne'][1]}",
        "listen 80;": f"listen 127.0.0.1:{ports['http']};",
        "listen 443 ssl": f"listen 127.0.0.1:{ports['https']} ssl",
        f"/etc/letsencrypt/live/{HOST}": str(folder),
    })
    temp = "\n".join(f"    {kind}_temp_path {folder}/{kind};" for kind in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"))
    # Run by root (as in CI), nginx would hand its workers to "nobody", who cannot read this folder.
    user = "user root;\n" if os.geteuid() == 0 else ""
    return (f"{user}pid {folder}/nginx.pid;\nerror_log {folder}/error.log;\nevents {{}}\n"
            f"http {{\n    access_log off;\n{temp}\n{site}}}\n")


def manage(env, *args):
    done = subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=env, capture_output=True, text=True, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout + done.stderr


def request(port, method, path, tls=True, body=None, headers=()):
    """A request straight to nginx, naming the site as a browser would: the answer (not followed)."""
    if tls:
        unverified = ssl.create_default_context()
        unverified.check_hostname, unverified.verify_mode = False, ssl.CERT_NONE
        conn = http.client.HTTPSConnection("127.0.0.1", port, timeout=30, context=unverified)
    else:
        conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    try:
        conn.request(method, path, body=body, headers={"Host": HOST, **dict(headers)})
        response = conn.getresponse()
        response.body = response.read()
        return response
    finally:
        conn.close()


def wait_for(up, what, folder):
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        try:
            if up():
                return
        except OSError:
            pass
        time.sleep(0.2)
    raise AssertionError(f"{what} did not come up:\n" + "\n".join(log.read_text()[-1500:] for log in sorted(folder.glob("*.log"))))


def listening(port):
    with socket.socket() as s:
        return s.connect_ex(("127.0.0.1", port)) == 0


def production_environment(ports):
    """The README's `export` line, with this machine's secret, database, Redis and https port."""
    env = {**os.environ, **readme_environment(), "LOG_LEVEL": "WARNING"}
    for name, value in {
        "SECRET_KEY": secrets.token_urlsafe(50), "DATABASE_URL": database_url(), "REDIS_URL": settings.REDIS_URL,
        "CSRF_TRUSTED_ORIGINS": f"https://{HOST}:{ports['https']}",  # the README's origin, on this port
    }.items():
        assert name in env, f"the README's environment no longer sets {name}"
        env[name] = value
    return env


def start(commands, env, folder):
    """Each command in the background, as the README's `&` lines, its output in a file in `folder`."""
    running = []
    for i, command in enumerate(commands):
        with open(folder / f"process-{i}.log", "w") as log:
            running.append(subprocess.Popen(command, cwd=ROOT, env=env, stdout=log, stderr=subprocess.STDOUT))
    return running


def stop(running):
    for proc in running:
        proc.terminate()
    for proc in running:
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:  # daphne lingers over open WebSockets
            proc.kill()
            proc.wait()


@pytest.fixture(scope="module")
def production(django_db_setup):
    """The README's recipe on the test database: collectstatic, two daphne, the webhook worker and
    nginx in front. Yields the environment, the https base URL, the ports and the processes."""
    nginx = nginx_path()
    need_chromium()
    ports = {"daphne": [free_port(), free_port()], "http": free_port(), "https": free_port()}
    folder = Path(tempfile.mkdtemp(prefix="hexiao-nginx-"))
    env = production_environment(ports)
    manage(env, "collectstatic", "--noinput", "-v0")
    throwaway_certificate(folder)
    (folder / "nginx.conf").write_text(nginx_conf(folder, ports))
    commands = [[sys.executable, "-m", "daphne", "-b", "127.0.0.1", "-p", str(port), "--access-log", "/dev/null",
                 "config.asgi:application"]
                for port in ports["daphne"]]
    commands.append([sys.executable, "manage.py", "deliver_webhooks"])
    commands.append([nginx, "-p", str(folder), "-c", str(folder / "nginx.conf"), "-e", str(folder / "error.log"),
                     "-g", "daemon off;"])
    running = start(commands, env, folder)
    try:
        wait_for(lambda: all(listening(port) for port in ports["daphne"]), "daphne", folder)
        wait_for(lambda: request(ports["https"], "GET", "/healthz").status == 200, "nginx", folder)
        yield {"env": env, "base": f"https://{HOST}:{ports['https']}", "ports": ports, "processes": running}
    finally:
        stop(running)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(autouse=True)
def passwords_the_servers_can_check(settings):
    """The tests' quick password hasher is the test process's own; the servers know Django's."""
    settings.PASSWORD_HASHERS = global_settings.PASSWORD_HASHERS


@pytest.fixture(scope="module")
def chromium(production):
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an event loop on this thread while it runs, and the tests' own ORM
    # calls (and their database's flush) happen beside it: they are plain sync calls all the same.
    with pytest.MonkeyPatch.context() as patch, sync_playwright() as p:
        patch.setenv("DJANGO_ALLOW_ASYNC_UNSAFE", "true")
        browser = p.chromium.launch(executable_path=need_chromium(), args=FLAGS, headless=True)
        yield browser
        browser.close()


@pytest.fixture
def open_page(chromium, production):
    """open_page(username, path): a fresh browser of its own, signed in at the page."""
    contexts = []

    def open_page(username, path, **options):
        context = chromium.new_context(ignore_https_errors=True, locale="zh-CN", **options)
        context.set_default_timeout(10_000)
        contexts.append(context)
        page = context.new_page()
        page.errors = []
        page.on("pageerror", lambda error: page.errors.append(error))
        page.goto(production["base"] + path)
        page.fill("#id_username", username)
        page.fill("#id_password", PASSWORD)
        page.click("button[type=submit]")
        page.wait_for_url(production["base"] + path)
        return page

    yield open_page
    for context in contexts:
        context.close()


def test_check_deploy_finds_nothing_the_readme_does_not_explain(production):
    found = set(re.findall(r"\(([a-z_]+\.[EW]\d+)\)", manage(production["env"], "check", "--deploy")))
    assert found <= {"redemption.W001"}  # the README: "warns (redemption.W001) until FIELD_ENCRYPTION_KEY is set"


def test_plain_http_is_sent_to_https(production):
    answer = request(production["ports"]["http"], "GET", "/staff/", tls=False)
    assert answer.status == 301
    assert answer.headers["Location"] == f"https://{HOST}/staff/"


def test_a_file_past_the_apps_limit_is_refused_by_the_app_in_words_not_by_nginx(production, olivia, meal):
    token = token_for(olivia)
    boundary = secrets.token_hex(8)
    body = (f'--{boundary}\r\nContent-Disposition: form-data; name="product"\r\n\r\n{meal.id}\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="channel"\r\n\r\npdd\r\n'
            f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="orders.csv"\r\n'
            "Content-Type: text/csv\r\n\r\n").encode() + b"x" * (21 * 1024 * 1024) + f"\r\n--{boundary}--\r\n".encode()
    answer = request(production["ports"]["https"], "POST", "/api/v1/vouchers/issue-file/", body=body, headers={
        "Authorization": f"Token {token}", "Content-Type": f"multipart/form-data; boundary={boundary}",
        "Accept-Language": "zh-hans",
    })
    assert answer.status == 400
    assert json.loads(answer.body)["errors"]["file"] == ["文件超过 20 MB。"]


def test_a_typed_code_redeemed_over_https_shows_in_the_owners_live_feed(production, open_page, olivia, carol, meal, issue):
    code = issue(meal).code
    dashboard = open_page("olivia", "/dashboard/", viewport={"width": 1280, "height": 800})
    dashboard.wait_for_selector("#conn.conn-live")  # the feed's WebSocket, through nginx over wss://

    scanner = open_page("carol", "/staff/", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    scanner.wait_for_selector("body:not(.booting)")
    scanner.fill("#code", code)
    scanner.press("#code", "Enter")
    scanner.click("#c-go")
    scanner.wait_for_selector("#result.ok:not([hidden])")
    assert scanner.inner_text("#r-title") == "核销成功"

    row = dashboard.wait_for_selector("#feed .ev.ok", timeout=5_000)
    assert "双人套餐券" in row.inner_text()
    assert scanner.errors == [] and dashboard.errors == []
    assert [proc.poll() for proc in production["processes"]] == [None] * 4  # the worker too is still up


def test_the_scanner_over_https_is_a_secure_page_whose_camera_opens(production, open_page, carol):
    scanner = open_page("carol", "/staff/", viewport={"width": 390, "height": 844}, is_mobile=True, has_touch=True)
    assert scanner.evaluate("window.isSecureContext && !!navigator.mediaDevices")
    scanner.click("#camera-btn")
    # "Fit the QR code inside the frame": the camera is streaming and the decoder is loaded.
    scanner.wait_for_function("document.getElementById('camera-msg').textContent === '将二维码放入框内'")
    assert scanner.evaluate("document.getElementById('video').srcObject.active")
