"""Log lines: plain text by default, one JSON object per line with LOG_FORMAT=json.

Neither format prints what a request carried: no body, no query string, no path (a buyer page's
path holds its token); a request is named by its route, the URL pattern's name. Django's own line
for a failed request ("Not Found: /v/<token>/") gets the route in place of the path.
"""

import contextvars
import datetime as dt
import json
import logging
import re
import uuid

from django.conf import settings

# The request being served, for every line logged while serving it (threads it hands work to included).
request_id = contextvars.ContextVar("request_id", default=None)

WELL_FORMED_ID = re.compile(r"[A-Za-z0-9._-]{1,64}")
# What a line may carry beyond its message; anything else passed in `extra` stays out.
FIELDS = ("request_id", "method", "route", "status", "duration_ms", "staff", "result", "close_code")


def request_id_for(request):
    """The caller's X-Request-ID when well formed (a proxy's, so its log and ours meet), else a new one."""
    given = request.headers.get("X-Request-ID", "")
    return given if WELL_FORMED_ID.fullmatch(given) else uuid.uuid4().hex


def route_of(request):
    """The URL pattern's name; "static" for a static file; "unmatched" for any other address."""
    match = getattr(request, "resolver_match", None)
    if match and match.url_name:
        return match.url_name
    return "static" if request.path.startswith(settings.STATIC_URL) else "unmatched"


def _without_path(record):
    """The record, with the path of the request it names (Django's request loggers) as its route."""
    request = getattr(record, "request", None)
    path = getattr(request, "path", None)
    if not path or not isinstance(record.args, tuple):
        return record
    paths = {path, path.encode("unicode_escape").decode("ascii")}  # django.utils.log escapes its args
    if not paths & set(record.args):
        return record
    record = logging.makeLogRecord(record.__dict__)
    record.args = tuple(route_of(request) if arg in paths else arg for arg in record.args)
    return record


def _fields(record):
    fields = {"request_id": request_id.get()}
    fields.update((name, getattr(record, name)) for name in FIELDS if hasattr(record, name))
    return {name: value for name, value in fields.items() if value is not None}


class PlainFormatter(logging.Formatter):
    """time LEVEL logger message name=value ..."""

    def __init__(self):
        super().__init__("%(asctime)s %(levelname)s %(name)s %(message)s")

    def formatMessage(self, record):
        pairs = "".join(f" {name}={value}" for name, value in _fields(record).items())
        return super().formatMessage(record) + pairs

    def format(self, record):
        return super().format(_without_path(record))


class JsonFormatter(logging.Formatter):
    def format(self, record):
        record = _without_path(record)
        line = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            **_fields(record),
        }
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False, default=str)
