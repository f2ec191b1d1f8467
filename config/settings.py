"""Settings, all from the environment.

With nothing set, the app runs for development: SQLite file, in-memory channel layer,
DEBUG on. In production set DEBUG=false, SECRET_KEY, ALLOWED_HOSTS, DATABASE_URL, REDIS_URL.
A value that cannot be understood stops the start with a message naming it.
"""

import base64
import os
import zoneinfo
from pathlib import Path
from urllib.parse import parse_qs, unquote, urlparse

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

BASE_DIR = Path(__file__).resolve().parent.parent


def env(name, default=""):
    """A string setting; NAME_FILE, when set, names a file holding the value (for secrets)."""
    path = os.environ.get(f"{name}_FILE")
    if path:
        return Path(path).read_text().strip()
    return os.environ.get(name, default)


def envbool(name, default):
    value = env(name, default).strip().lower()
    if value in ("1", "true", "yes", "on"):
        return True
    if value in ("0", "false", "no", "off"):
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}")


def envint(name, default):
    value = env(name, str(default)).strip()
    try:
        return int(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a whole number, not {value!r}") from None


def envfloat(name, default):
    value = env(name, str(default)).strip()
    try:
        return float(value)
    except ValueError:
        raise ImproperlyConfigured(f"{name} must be a number, not {value!r}") from None


def database_from_url(url):
    """sqlite:///relative/or//absolute/path, or postgres[ql]://user:pass@host:port/name."""
    parts = urlparse(url)
    if parts.scheme == "sqlite":
        path = unquote(parts.path[1:]) if parts.path.startswith("/") else parts.path
        if not path:
            raise ImproperlyConfigured(f"DATABASE_URL names no SQLite file: {url!r}")
        return {
            "ENGINE": "django.db.backends.sqlite3",
            "NAME": path if path == ":memory:" else str(BASE_DIR / path),
            # Writers wait for each other instead of failing at once with "database is locked".
            "OPTIONS": {"timeout": 20, "transaction_mode": "IMMEDIATE"},
        }
    if parts.scheme in ("postgres", "postgresql"):
        name = unquote(parts.path.lstrip("/"))
        if not name:
            raise ImproperlyConfigured(f"DATABASE_URL names no database: {url!r}")
        options = {key: values[-1] for key, values in parse_qs(parts.query).items()}
        # Under ASGI every request may run on a thread of its own, and each thread would keep a
        # connection of its own: a pool per process bounds them (DB_POOL_SIZE per process; with
        # N processes keep N x DB_POOL_SIZE below PostgreSQL's max_connections).
        pool_size = DB_POOL_SIZE
        if pool_size:
            options["pool"] = {"min_size": min(2, pool_size), "max_size": pool_size, "timeout": 10}
        return {
            "ENGINE": "django.db.backends.postgresql",
            "NAME": name,
            "USER": unquote(parts.username or ""),
            "PASSWORD": unquote(parts.password or ""),
            "HOST": parts.hostname or "",
            "PORT": str(parts.port or ""),
            "CONN_MAX_AGE": 0 if pool_size else envint("CONN_MAX_AGE", 60),
            "CONN_HEALTH_CHECKS": not pool_size,
            "OPTIONS": options,
        }
    raise ImproperlyConfigured(
        f"DATABASE_URL must start with sqlite:// or postgres://, not {parts.scheme or url!r}"
    )


DEBUG = envbool("DEBUG", "true")

SECRET_KEY = env("SECRET_KEY")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured("SECRET_KEY must be set when DEBUG is off")
    SECRET_KEY = "development-only-" + "x" * 50

# Card passwords of imported codes are encrypted with these (redemption.cipher): one or more keys,
# each 32 random bytes in URL-safe base64 (python -c "import base64, os; print(base64.urlsafe_b64encode(os.urandom(32)).decode())"),
# separated by commas. The first encrypts; every one decrypts, so a new key goes first and the old
# one stays behind it until `manage.py reencrypt_passwords` has moved every row. Unset: a key derived
# from SECRET_KEY (check --deploy warns), so existing set-ups keep starting.
FIELD_ENCRYPTION_KEYS = [k.strip() for k in env("FIELD_ENCRYPTION_KEY").split(",") if k.strip()]
for _key in FIELD_ENCRYPTION_KEYS:
    try:
        if len(base64.urlsafe_b64decode(_key.encode("ascii"))) != 32:
            raise ValueError
    except (ValueError, UnicodeEncodeError):
        raise ImproperlyConfigured(
            "FIELD_ENCRYPTION_KEY must be keys of 32 bytes in URL-safe base64, separated by commas"
        ) from None

ALLOWED_HOSTS = [h.strip() for h in env("ALLOWED_HOSTS", "*" if DEBUG else "").split(",") if h.strip()]
if not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when DEBUG is off, e.g. ALLOWED_HOSTS=hexiao.example.com")
CSRF_TRUSTED_ORIGINS = [o.strip() for o in env("CSRF_TRUSTED_ORIGINS").split(",") if o.strip()]

TIME_ZONE = env("TIME_ZONE", "Asia/Shanghai")
try:
    zoneinfo.ZoneInfo(TIME_ZONE)
except (zoneinfo.ZoneInfoNotFoundError, ValueError):
    raise ImproperlyConfigured(f"TIME_ZONE is not a known time zone: {TIME_ZONE!r}") from None
USE_TZ = True
USE_I18N = True
LANGUAGE_CODE = env("LANGUAGE_CODE", "zh-hans")
LANGUAGES = [("zh-hans", _("Simplified Chinese")), ("en", _("English"))]
if LANGUAGE_CODE not in dict(LANGUAGES):
    raise ImproperlyConfigured(f"LANGUAGE_CODE must be one of {', '.join(dict(LANGUAGES))}")
LOCALE_PATHS = [BASE_DIR / "locale"]

INSTALLED_APPS = [
    "daphne",
    "config.apps.AdminConfig",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "servestatic.runserver_nostatic",
    "django.contrib.staticfiles",
    "rest_framework",
    "rest_framework.authtoken",  # kept for its table's migrations: upgrades move its tokens into knox, hashed
    "knox",
    "drf_spectacular",
    "channels",
    "redemption",
    "staff",
]

# Under ASGI each of Django's own is loaded as its twin that runs in the event loop (config/middleware.py).
MIDDLEWARE = [
    "config.middleware.RequestLog",  # first, so it times and logs everything below it
    "django.middleware.security.SecurityMiddleware",
    "servestatic.middleware.ServeStaticMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.locale.LocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "config.urls"
ASGI_APPLICATION = "config.asgi.application"
WSGI_APPLICATION = None

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.template.context_processors.i18n",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# PostgreSQL connections per server process, in a pool (0: no pool, one connection per thread).
DB_POOL_SIZE = envint("DB_POOL_SIZE", 16)
# ... and the counter's fast path's own connections, which the event loop keeps busy: a few per
# process, or PostgreSQL's many runnable backends crowd the server's one loop off its core (on two
# cores, 32 clients redeemed a quarter slower with 16 than with 4).
DB_FAST_POOL_SIZE = envint("DB_FAST_POOL_SIZE", 4)
DATABASES = {"default": database_from_url(env("DATABASE_URL", "sqlite:///db.sqlite3"))}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

REDIS_URL = env("REDIS_URL")
if REDIS_URL:
    if urlparse(REDIS_URL).scheme not in ("redis", "rediss", "unix"):
        raise ImproperlyConfigured(f"REDIS_URL must start with redis://, not {REDIS_URL!r}")
    CHANNEL_LAYERS = {
        "default": {
            # Redis's publish and subscribe: a push is one PUBLISH, and each server process's one
            # subscriber (redemption.consumers.Relay) is handed it without asking. The lists of
            # RedisChannelLayer cost three round trips a message to read, and at hundreds of
            # redemptions a second the reader fell seconds behind. Nothing is kept for a process
            # that is not listening, and nothing needs it to be: the feed catches up from the event
            # table, and a signed-out device's sockets are found by the same sweep.
            "BACKEND": "channels_redis.pubsub.RedisPubSubChannelLayer",
            "CONFIG": {"hosts": [REDIS_URL]},
        }
    }
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": REDIS_URL}}
else:
    CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator", "OPTIONS": {"min_length": 8}},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
LOGIN_URL = "/staff/login/"
AUTHENTICATION_BACKENDS = ["staff.lockout.LockoutModelBackend"]
LOGIN_FAILURES = 10  # wrong passwords for one username ...
LOGIN_WINDOW = 15 * 60  # ... within this many seconds lock that username out for as long
LOGIN_ADDRESS_FAILURES = 20  # wrong passwords from one address within LOGIN_WINDOW lock the address out
# Behind a proxy, the request header holding the caller's address as Django's META names it, e.g.
# HTTP_X_REAL_IP with nginx's `proxy_set_header X-Real-IP $remote_addr;` (empty: REMOTE_ADDR).
CLIENT_ADDRESS_HEADER = env("CLIENT_ADDRESS_HEADER", "")

STATIC_URL = "/static/"
STATIC_ROOT = BASE_DIR / "staticfiles"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"
        if DEBUG
        else "config.storage.StaticStorage"
    },
}

# API tokens are knox's: one per sign-in, kept as a SHA-512 hash; a phone's token lasts until
# that device is signed out (or its member deactivated), as a session on the scanner does.
KNOX_TOKEN_MODEL = "knox.AuthToken"
REST_KNOX = {"TOKEN_TTL": None, "AUTO_REFRESH": False, "AUTH_HEADER_PREFIX": "Token", "AUTH_TOKEN_CHARACTER_LENGTH": 40}
DEVICE_SEEN_EVERY = 60  # seconds: a device's last-seen time is written at most this often
SIGNIN_LINK_MINUTES = 10

REST_FRAMEWORK = {
    # Token first: an anonymous API call then answers 401 with "WWW-Authenticate: Token".
    "DEFAULT_AUTHENTICATION_CLASSES": [
        "staff.auth.TokenAuthentication",
        "staff.auth.SessionAuthentication",
    ],
    "DEFAULT_PERMISSION_CLASSES": ["staff.permissions.RolePermission"],
    "DEFAULT_RENDERER_CLASSES": ["rest_framework.renderers.JSONRenderer"],
    "DEFAULT_PARSER_CLASSES": [
        "rest_framework.parsers.JSONParser",
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    "DEFAULT_SCHEMA_CLASS": "drf_spectacular.openapi.AutoSchema",
    "EXCEPTION_HANDLER": "redemption.api.errors.exception_handler",
    "UNAUTHENTICATED_USER": None,
}

SPECTACULAR_SETTINGS = {
    "TITLE": "核销 Redemption API",
    "DESCRIPTION": (
        "Check and redeem voucher codes, manage stores, staff, products and vouchers.\n\n"
        "Live events: a WebSocket at `/ws/dashboard/` (owners and managers; session cookie or `?token=`). "
        "Connect with `?after=<id>` to be sent the missed events first. Events from about half a minute "
        "before that id may come again (one may have committed after a higher id was sent); a client "
        "drops repeats by id."
    ),
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    "COMPONENT_SPLIT_REQUEST": True,
    # An order's status and a voucher's share the name "status" (and "redeemed", "voided").
    "ENUM_NAME_OVERRIDES": {
        "OrderStatusEnum": "redemption.selectors.ORDER_STATUSES",
        "VoucherStatusEnum": "redemption.selectors.VOUCHER_STATUSES",
    },
}

# The live feed (redemption.consumers): how often each dashboard's socket looks in the event table
# for what its pushes missed, and how long a transaction may take from drawing an event id to commit.
LIVE_FEED_SWEEP = envfloat("LIVE_FEED_SWEEP", 2.0)
# A dashboard that asks for batches (?batch=1) is sent at most one message per this many seconds,
# and a server process sends its batched dashboards at most this many messages a second in all (the
# interval grows with the dashboards a batch goes to).
LIVE_FEED_BATCH = envfloat("LIVE_FEED_BATCH", 0.02)
LIVE_FEED_MESSAGES = envint("LIVE_FEED_MESSAGES", 2000)
LIVE_FEED_SETTLE = 30
# Offline at the counter: the most vouchers one snapshot carries (the newest first).
OFFLINE_SNAPSHOT_MAX = envint("OFFLINE_SNAPSHOT_MAX", 20000)
# Open conflicts one device may leave for the owner; past them a refused item is answered, not kept.
OFFLINE_OPEN_CONFLICTS_MAX = envint("OFFLINE_OPEN_CONFLICTS_MAX", 200)
# A snapshot names each code by an HMAC of the code's PBKDF2-HMAC-SHA256 digest, this many
# iterations slow, so a copy of a phone's list costs a guesser that much per try (README: "what you
# risk"). The phone derives one per scan in plain JavaScript: 20,000 take about 15 ms on one core of
# our servers, so 60-75 ms on a mid-range phone. A new number has every digest derived again.
OFFLINE_KDF_ITERATIONS = envint("OFFLINE_KDF_ITERATIONS", 20000)
if OFFLINE_KDF_ITERATIONS < 1:
    raise ImproperlyConfigured("OFFLINE_KDF_ITERATIONS must be at least 1")
# The most seconds one snapshot request spends deriving digests not derived yet; vouchers still
# without one wait for a later snapshot or the webhook worker (manage.py deliver_webhooks).
OFFLINE_KDF_SECONDS = envfloat("OFFLINE_KDF_SECONDS", 1.0)

# Retention (python manage.py prune, daily): days kept of refused attempts and checks, of live
# events whose webhook deliveries are done, and of a buyer's phone once their voucher ended. 0: none.
RETAIN_ATTEMPTS_DAYS = envint("RETAIN_ATTEMPTS_DAYS", 180)
RETAIN_EVENTS_DAYS = envint("RETAIN_EVENTS_DAYS", 30)
RETAIN_BUYER_PHONE_DAYS = envint("RETAIN_BUYER_PHONE_DAYS", 90)

# Threads that run the counter's check and redeem in each server process (redemption.api.threads):
# one per pooled database connection.
COUNTER_THREADS = max(4, DB_POOL_SIZE)

# Redeem guards (see redemption.services).
THROTTLE_LIMIT = 10  # not_found / invalid_code answers to one member ...
THROTTLE_WINDOW = 60  # ... within this many seconds lock that member out for as long.
LIVE_QR_STEP = 30  # seconds a live QR payload is shown before it changes
# Who may undo a redemption, and for how long after it (seconds; owners any time).
CLERK_UNDO_WINDOW = 10 * 60  # a clerk, their own
MANAGER_UNDO_WINDOW = 24 * 60 * 60  # a manager, in their stores

SESSION_COOKIE_AGE = 60 * 60 * 24 * 14
SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
if not DEBUG:
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    SECURE_SSL_REDIRECT = envbool("SECURE_SSL_REDIRECT", "true")
    SECURE_HSTS_SECONDS = envint("SECURE_HSTS_SECONDS", 60 * 60 * 24 * 365)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SECURE_REDIRECT_EXEMPT = [r"^healthz$", r"^metrics$"]  # asked for by the host's own probes

# /metrics answers the bearer of this token (404 while unset). With several server processes on a
# host, each must be started with PROMETHEUS_MULTIPROC_DIR naming one directory they share, emptied
# before they start (see the README); the figures then cover them all.
METRICS_TOKEN = env("METRICS_TOKEN")
_METRICS_DIR = os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _METRICS_DIR and not Path(_METRICS_DIR).is_dir():
    raise ImproperlyConfigured(f"PROMETHEUS_MULTIPROC_DIR is not a directory: {_METRICS_DIR!r}")

# plain: "time LEVEL logger message name=value ...". json: one object per line (config.logs).
LOG_FORMAT = env("LOG_FORMAT", "plain").strip().lower()
if LOG_FORMAT not in ("plain", "json"):
    raise ImproperlyConfigured(f"LOG_FORMAT must be plain or json, not {LOG_FORMAT!r}")
LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"line": {"()": f"config.logs.{LOG_FORMAT.capitalize()}Formatter"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "line"}},
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
    "loggers": {
        # Django's own handler (DEBUG only) would print its lines a second time, in its own format.
        "django": {"handlers": [], "level": "INFO"},
        "django.db.backends": {"level": "INFO"},
        # A refused or unknown request is already a line of hexiao.request, with its status.
        "django.request": {"level": "ERROR"},
    },
}
