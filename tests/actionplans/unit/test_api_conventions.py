"""Cursors and If-Match parsing: the conventions every list and update relies on."""

import pytest

from services.actionplans.api.http import expected_version
from shared.pagination import (
    InvalidCursor,
    decode_created_cursor,
    decode_sequence_cursor,
    encode_cursor,
)
from shared.problems import PreconditionFailed, PreconditionRequired

pytestmark = pytest.mark.unit


def test_creation_cursor_round_trips() -> None:
    cursor = encode_cursor("2026-11-23T10:00:00+00:00", "plan-1")

    created_at, item_id = decode_created_cursor(cursor) or (None, None)

    assert (created_at.isoformat(), item_id) == ("2026-11-23T10:00:00+00:00", "plan-1")
    assert decode_sequence_cursor(encode_cursor(42)) == 42


@pytest.mark.parametrize("cursor", ["nonsense", encode_cursor(1, 2, 3), encode_cursor("x", "y")])
def test_foreign_cursor_is_a_400_naming_the_parameter(cursor: str) -> None:
    with pytest.raises(InvalidCursor) as raised:
        decode_created_cursor(cursor)
    assert raised.value.status == 400
    assert raised.value.errors == [{"field": "cursor", "in": "query", "message": "invalid cursor"}]


def test_if_match_is_required_and_parsed() -> None:
    with pytest.raises(PreconditionRequired):
        expected_version(None)
    with pytest.raises(PreconditionFailed):
        expected_version('W/"3"')
    assert expected_version('"3"') == 3
    assert expected_version("*") is None
