import pytest

from shared import tracing

pytestmark = pytest.mark.unit


def test_a_sane_request_id_is_kept() -> None:
    assert tracing.accept_request_id("abc-123") == "abc-123"


@pytest.mark.parametrize("bad", [None, "", "has space", "x" * 200, "new\nline"])
def test_a_missing_or_unsafe_request_id_is_replaced(bad: str | None) -> None:
    assert tracing.REQUEST_ID_PATTERN.match(tracing.accept_request_id(bad))
    assert tracing.accept_request_id(bad) != bad


def test_a_trace_is_continued_with_a_new_span() -> None:
    parent = "00-0af7651916cd43dd8448eb211c80319c-b7ad6b7169203331-01"
    child = tracing.child_traceparent(parent)
    assert child.startswith("00-0af7651916cd43dd8448eb211c80319c-")
    assert child.split("-")[2] != "b7ad6b7169203331"


def test_an_invalid_traceparent_starts_a_new_trace() -> None:
    child = tracing.child_traceparent("garbage")
    assert tracing.TRACEPARENT_PATTERN.match(child)
