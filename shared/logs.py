"""Process-wide logging: one JSON object per line on stderr, or a readable line for people.

Every line carries the service name and version, and, inside a request or an event handler,
`request_id`, `trace_id`, `span_id`, `organisation` and `client_id` (shared/tracing.py holds
them). LOG_FORMAT=console gives `make run` a line a person can read; LOG_LEVEL sets the level.
uvicorn's own loggers are routed through the same handler, so access and error lines look
like the application's. Repeated aiokafka errors (a broker outage retries many times a
second) are let through once per `KAFKA_LOG_EVERY_S` with a count of the ones held back.
"""

import atexit
import contextlib
import logging
import os
import sys
import threading
import time
from datetime import UTC, datetime
from typing import Any

import orjson

from shared import tracing

# Attributes every LogRecord has; anything else was passed with `extra=` and is logged as a field.
_STANDARD_ATTRIBUTES = frozenset(
    vars(logging.LogRecord("", 0, "", 0, "", None, None)).keys()
    | {"message", "asctime", "taskName"}
)
_SERVICE: dict[str, str] = {"service": "locality-hub", "version": "0"}
_STANDARD_COUNT = len(vars(logging.LogRecord("", 0, "", 0, "", None, None)))
UVICORN_LOGGERS = ("uvicorn", "uvicorn.error", "uvicorn.access")


def context_fields() -> dict[str, str]:
    """Identifiers of the current request or event, for a log line."""
    fields: dict[str, str] = {}
    request_id = tracing.current_request_id()
    if request_id:
        fields["request_id"] = request_id
    trace_id, span_id = tracing.current_trace_ids()
    if trace_id:
        fields["trace_id"] = trace_id
        fields["span_id"] = span_id or ""
    fields.update(tracing.current_caller_fields())
    return fields


class JsonFormatter(logging.Formatter):
    """A log record as one JSON object: time, level, logger, message, context, extra fields.

    Written once per request on the hot path, so it avoids the slower generic helpers."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": _iso_time(record.created),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage() if record.args else str(record.msg),
            **_SERVICE,
            **context_fields(),
        }
        attributes = record.__dict__
        if len(attributes) > _STANDARD_COUNT:  # only records logged with `extra=` have more
            for key in attributes.keys() - _STANDARD_ATTRIBUTES:
                if not key.startswith("_"):
                    line[key] = attributes[key]
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return orjson.dumps(line, default=str).decode()


class LineHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """Writes whole lines into a block buffer over the stream's file descriptor.

    A write system call per line was the largest cost of an access line, so lines are flushed
    at once only from WARNING up, and otherwise by a background thread `flush_every_s` after
    the first unwritten line (and at exit): an INFO line reaches the file at most that late.
    With nothing to write the thread sleeps on an event, so an idle service never wakes it."""

    locality_hub = True

    def __init__(self, stream: Any, flush_every_s: float = 0.5) -> None:
        super().__init__(_block_buffered(stream) if flush_every_s > 0 else stream)
        self._every_line = flush_every_s <= 0
        self._unwritten = threading.Event()
        if self._every_line:
            return
        flusher = threading.Thread(
            target=self._flush_forever, args=(flush_every_s,), name="log-flush", daemon=True
        )
        flusher.start()
        atexit.register(self.flush)

    def emit(self, record: logging.LogRecord) -> None:
        try:
            self.stream.write(self.format(record) + "\n")
            if self._every_line or record.levelno >= logging.WARNING:
                self.stream.flush()
            elif not self._unwritten.is_set():
                self._unwritten.set()
        except Exception:
            self.handleError(record)

    def _flush_forever(self, every_s: float) -> None:
        while True:
            self._unwritten.wait()
            time.sleep(every_s)  # the lines of the next moment go out in the same write
            # Cleared before the flush: a line written after it sets the event again.
            self._unwritten.clear()
            with contextlib.suppress(Exception):
                self.flush()


def _block_buffered(stream: Any) -> Any:
    """The same file descriptor with a 64 KiB buffer; a stream without one is kept as it is."""
    try:
        descriptor = stream.fileno()
    except (AttributeError, OSError, ValueError):
        return stream
    return open(descriptor, "w", buffering=1 << 16, encoding="utf-8", closefd=False)


_second_cache: list[Any] = [None, ""]


def _iso_time(created: float) -> str:
    """UTC ISO 8601 with milliseconds; the part up to the second is formatted once a second."""
    second = int(created)
    if _second_cache[0] != second:
        stamp = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second_cache[:] = [second, stamp]
    return f"{_second_cache[1]}.{int((created - second) * 1000):03d}Z"


class ConsoleFormatter(logging.Formatter):
    """A line a person reads in a terminal: time, level, service, message, request id."""

    def format(self, record: logging.LogRecord) -> str:
        stamp = datetime.fromtimestamp(record.created, UTC).strftime("%H:%M:%S.%f")[:-3]
        fields = context_fields()
        attributes = record.__dict__
        extra = {
            key: attributes[key]
            for key in attributes.keys() - _STANDARD_ATTRIBUTES
            if not key.startswith("_")
        }
        tail = " ".join(f"{key}={value}" for key, value in {**fields, **extra}.items())
        text = f"{stamp} {record.levelname:<7} {_SERVICE['service']:<11} {record.getMessage()}"
        if tail:
            text += f"  [{tail}]"
        if record.exc_info:
            text += "\n" + self.formatException(record.exc_info)
        return text


class RepeatLimiter(logging.Filter):
    """Lets one record per (logger, message template) under `prefix` through every `every_s`
    seconds, and says on it how many were held back since the last one."""

    def __init__(self, every_s: float, prefix: str, clock: Any = time.monotonic) -> None:
        super().__init__()
        self._prefix = prefix
        self._every_s = every_s
        self._clock = clock
        self._lock = threading.Lock()
        self._last: dict[tuple[str, str], float] = {}
        self._held_back: dict[tuple[str, str], int] = {}

    def filter(self, record: logging.LogRecord) -> bool:
        if not record.name.startswith(self._prefix):
            return True
        key = (record.name, str(record.msg))
        now = self._clock()
        with self._lock:
            last = self._last.get(key)
            if last is not None and now - last < self._every_s:
                self._held_back[key] = self._held_back.get(key, 0) + 1
                return False
            self._last[key] = now
            held = self._held_back.pop(key, 0)
        if held:
            record.repeated_since_last = held
        return True


def configure_logging(service: str | None = None, version: str | None = None) -> None:
    """Install the JSON (or console) handler on the root logger once per process."""
    if service:
        _SERVICE["service"] = service
    if version:
        _SERVICE["version"] = version
    # Process and thread names would be the same on every line of a one-worker service.
    logging.logProcesses = logging.logThreads = logging.logMultiprocessing = False
    # No line carries the caller's file and line; skipping the stack walk is logging's own
    # documented optimisation (Logging HOWTO, "Optimization").
    logging._srcfile = None  # type: ignore[attr-defined]
    root = logging.getLogger()
    if any(getattr(handler, "locality_hub", False) for handler in root.handlers):
        return
    handler = LineHandler(sys.stderr, float(os.environ.get("LOG_FLUSH_EVERY_S", "0.5")))
    console = os.environ.get("LOG_FORMAT", "json").lower() == "console"
    handler.setFormatter(ConsoleFormatter() if console else JsonFormatter())
    root.addHandler(handler)
    root.setLevel(os.environ.get("LOG_LEVEL", "INFO").upper())
    for name in UVICORN_LOGGERS:
        # uvicorn installs handlers of its own format; send its lines through ours instead.
        uvicorn_logger = logging.getLogger(name)
        uvicorn_logger.handlers.clear()
        uvicorn_logger.propagate = True
    if os.environ.get("UVICORN_ACCESS_LOG", "0") != "1":
        # shared/middleware.py writes the access line, with route, request id and caller;
        # uvicorn's own would say the same thing again with less.
        logging.getLogger("uvicorn.access").setLevel(logging.WARNING)
    # aiosqlite logs each statement with its parameters (personal data) at DEBUG.
    logging.getLogger("aiosqlite").setLevel(logging.INFO)
    logging.getLogger("aiokafka").setLevel(os.environ.get("KAFKA_LOG_LEVEL", "ERROR").upper())
    # httpx writes an INFO line per outgoing request: one per poll of the gateway's keys and
    # revocations (shared/gateway_auth.py), every few seconds, all day. Failures are ours to log.
    logging.getLogger("httpx").setLevel(logging.WARNING)
    # On the handler, not the logger: a logger's filters miss records of its child loggers.
    handler.addFilter(RepeatLimiter(float(os.environ.get("KAFKA_LOG_EVERY_S", "30")), "aiokafka"))
