"""Log lines: JSON with the request's ids, a console form for people, broker noise held back."""

import logging
import sys
import time
from pathlib import Path

import orjson
import pytest

from shared import tracing
from shared.logs import ConsoleFormatter, JsonFormatter, LineHandler, RepeatLimiter

pytestmark = pytest.mark.unit

TRACEPARENT = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"


def record(name: str = "app", msg: str = "hello %s", args: tuple = ("world",)) -> logging.LogRecord:
    return logging.LogRecord(name, logging.WARNING, __file__, 1, msg, args, None)


def test_a_json_line_carries_the_request_trace_and_caller_of_its_context() -> None:
    tokens = tracing.bind("req-7", TRACEPARENT)
    try:
        tracing.annotate_caller("NO-HUB", "partner-app")
        line = orjson.loads(JsonFormatter().format(record()))
    finally:
        tracing.unbind(tokens)
    assert line["message"] == "hello world"
    assert line["level"] == "WARNING"
    assert line["request_id"] == "req-7"
    assert line["trace_id"] == "0af7651916cd43dd8448eb211c80319c"
    assert line["span_id"] == "b7ad6b7169203331"
    assert line["organisation"] == "NO-HUB"
    assert line["client_id"] == "partner-app"
    assert {"service", "version", "time", "logger"} <= line.keys()


def test_outside_a_request_a_line_has_no_request_fields() -> None:
    line = orjson.loads(JsonFormatter().format(record()))
    assert "request_id" not in line
    assert "organisation" not in line


def test_extra_fields_and_the_traceback_are_kept() -> None:
    try:
        raise ValueError("bad value")
    except ValueError:
        item = logging.LogRecord("app", logging.ERROR, __file__, 1, "failed", (), sys.exc_info())
    item.duration_ms = 12.5
    line = orjson.loads(JsonFormatter().format(item))
    assert line["duration_ms"] == 12.5
    assert "ValueError: bad value" in line["exception"]


def test_the_console_form_is_one_readable_line() -> None:
    tokens = tracing.bind("req-8", None)
    try:
        text = ConsoleFormatter().format(record())
    finally:
        tracing.unbind(tokens)
    assert "\n" not in text
    assert "WARNING" in text and "hello world" in text and "request_id=req-8" in text


def test_repeated_broker_errors_pass_once_per_period_with_a_count_of_the_rest() -> None:
    now = [0.0]
    limiter = RepeatLimiter(30, "aiokafka", clock=lambda: now[0])
    outage = [record("aiokafka.conn", "Unable connect to %s", (f"node-{i}",)) for i in range(50)]
    passed = [item for item in outage if limiter.filter(item)]
    assert len(passed) == 1
    now[0] = 31.0
    later = record("aiokafka.conn", "Unable connect to %s", ("node-1",))
    assert limiter.filter(later)
    assert later.repeated_since_last == 49  # type: ignore[attr-defined]


def test_other_loggers_are_never_held_back() -> None:
    limiter = RepeatLimiter(30, "aiokafka", clock=lambda: 0.0)
    assert all(limiter.filter(record("services.referrals")) for _ in range(10))


def test_warnings_reach_the_file_at_once_and_info_lines_within_the_flush_period(
    tmp_path: Path,
) -> None:
    path = tmp_path / "service.log"
    with path.open("w") as stream:
        handler = LineHandler(stream, flush_every_s=0.05)
        handler.setFormatter(JsonFormatter())
        handler.handle(
            logging.LogRecord("app", logging.INFO, __file__, 1, "an info line", (), None)
        )
        assert path.read_text() == ""  # buffered
        handler.handle(record(msg="a warning", args=()))
        assert [orjson.loads(line)["message"] for line in path.read_text().splitlines()] == [
            "an info line",
            "a warning",
        ]
        handler.handle(logging.LogRecord("app", logging.INFO, __file__, 1, "later", (), None))
        deadline = time.monotonic() + 5
        while "later" not in path.read_text() and time.monotonic() < deadline:
            time.sleep(0.01)
        assert "later" in path.read_text()


def test_the_flush_thread_sleeps_until_there_is_a_line_to_write(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # An idle service must not be woken every flush period (it was, twice a second, for nothing).
    naps: list[float] = []
    real_sleep = time.sleep

    def counted_sleep(seconds: float) -> None:
        naps.append(seconds)
        real_sleep(seconds)

    monkeypatch.setattr("shared.logs.time.sleep", counted_sleep)
    path = tmp_path / "service.log"
    with path.open("w") as stream:
        handler = LineHandler(stream, flush_every_s=0.01)
        handler.setFormatter(JsonFormatter())
        handler.handle(logging.LogRecord("app", logging.INFO, __file__, 1, "one line", (), None))
        deadline = time.monotonic() + 5
        while "one line" not in path.read_text() and time.monotonic() < deadline:
            real_sleep(0.01)
        assert "one line" in path.read_text()
        real_sleep(0.2)  # twenty flush periods with nothing to write
        assert len(naps) == 1  # one nap for the one burst, then asleep on the event
