"""Opaque cursors for keyset pagination, one codec and one error for every service.

A page ends at a (timestamp, id), e.g. (created_at, id), or at a sequence number; the cursor
is that key, base64url-encoded JSON. A cursor this API did not issue is a 400 problem naming
the `cursor` parameter, in every service.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, Generic, TypeVar

import orjson

from shared.problems import Problem

ItemT = TypeVar("ItemT")


class InvalidCursor(Problem):
    status, title, slug = 400, "Invalid cursor", "invalid-cursor"


def encode_cursor(*parts: str | int) -> str:
    return base64.urlsafe_b64encode(orjson.dumps(list(parts))).rstrip(b"=").decode()


def decode_cursor(cursor: str, length: int) -> list[str | int]:
    """The parts of a cursor this service issued, or a 400 naming the `cursor` parameter."""
    try:
        parts = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
    except (binascii.Error, ValueError, orjson.JSONDecodeError) as error:
        raise _invalid() from error
    if not isinstance(parts, list) or len(parts) != length:
        raise _invalid()
    return parts


def decode_created_cursor(cursor: str | None) -> tuple[datetime, str] | None:
    """A cursor of a list ordered by a timestamp and id: (created_at, id) of the last item seen."""
    if cursor is None:
        return None
    created_at, item_id = decode_cursor(cursor, 2)
    try:
        return datetime.fromisoformat(str(created_at)), str(item_id)
    except ValueError as error:
        raise _invalid() from error


def decode_sequence_cursor(cursor: str | None) -> int | None:
    """A cursor of a list ordered by sequence number: the last number seen."""
    if cursor is None:
        return None
    (seq,) = decode_cursor(cursor, 1)
    # Sequence columns are signed 64-bit: a larger number would overflow in the database (a 500).
    if not isinstance(seq, int) or isinstance(seq, bool) or not 0 <= seq < 2**63:
        raise _invalid()
    return seq


def decode_key_cursor(cursor: str | None) -> str | None:
    """A cursor of a list ordered by one text key (e.g. an indicator code): the last key seen."""
    if cursor is None:
        return None
    (key,) = decode_cursor(cursor, 1)
    if not isinstance(key, str):
        raise _invalid()
    return key


def _invalid() -> InvalidCursor:
    return InvalidCursor(
        "The cursor is not one this service issued; pass `next_cursor` from the previous page.",
        errors=[{"field": "cursor", "in": "query", "message": "invalid cursor"}],
    )


@dataclass(frozen=True, slots=True)
class PageOf(Generic[ItemT]):
    """Items of one page and the cursor of the next page (None on the last)."""

    items: list[ItemT]
    next_cursor: str | None


def page_by_creation(rows: list[Any], limit: int) -> PageOf[Any]:
    """Cut `limit + 1` rows ordered by (created_at, id) into a page and a next cursor."""
    if len(rows) <= limit:
        return PageOf(rows, None)
    last = rows[limit - 1]
    return PageOf(rows[:limit], encode_cursor(last.created_at.isoformat(), last.id))


def page_by_key(rows: list[Any], limit: int, key: Callable[[Any], str | int]) -> PageOf[Any]:
    """Cut `limit + 1` rows ordered by `key(row)` into a page and a next cursor."""
    if len(rows) <= limit:
        return PageOf(rows, None)
    return PageOf(rows[:limit], encode_cursor(key(rows[limit - 1])))


def page_by_sequence(rows: list[Any], limit: int) -> PageOf[Any]:
    """Cut `limit + 1` rows ordered by `seq` into a page and a next cursor."""
    if len(rows) <= limit:
        return PageOf(rows, None)
    return PageOf(rows[:limit], encode_cursor(rows[limit - 1].seq))
