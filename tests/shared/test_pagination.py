"""Cursors (shared/pagination.py): what a page hands out comes back as the same key, and
anything else is one 400 problem naming the parameter."""

from datetime import UTC, datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from shared.pagination import (
    InvalidCursor,
    decode_created_cursor,
    decode_sequence_cursor,
    encode_cursor,
)

pytestmark = pytest.mark.unit

moments = st.datetimes(
    min_value=datetime(1970, 1, 1), max_value=datetime(2100, 1, 1), timezones=st.just(UTC)
)
ids = st.text(min_size=1, max_size=60)


@given(moments, ids)
def test_a_time_and_id_cursor_comes_back_as_the_same_key(moment: datetime, item_id: str) -> None:
    assert decode_created_cursor(encode_cursor(moment.isoformat(), item_id)) == (moment, item_id)


@given(st.integers(min_value=0, max_value=2**63 - 1))
def test_a_sequence_cursor_comes_back_as_the_same_number(seq: int) -> None:
    assert decode_sequence_cursor(encode_cursor(seq)) == seq


@given(st.text(max_size=80))
def test_any_other_text_is_a_400_naming_the_cursor_or_a_key(text: str) -> None:
    for decode in (decode_created_cursor, decode_sequence_cursor):
        try:
            decode(text)
        except InvalidCursor as invalid:
            assert invalid.status == 400
            assert invalid.errors[0]["field"] == "cursor"


def test_no_cursor_is_the_first_page() -> None:
    assert decode_created_cursor(None) is None
    assert decode_sequence_cursor(None) is None


@pytest.mark.parametrize("cursor", ["nonsense", encode_cursor(1, 2, 3), encode_cursor("x", "y")])
def test_a_foreign_cursor_is_a_400(cursor: str) -> None:
    with pytest.raises(InvalidCursor):
        decode_created_cursor(cursor)
