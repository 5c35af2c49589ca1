"""What every route module needs: settings and the paging parameters (ETag and If-Match
handling is shared: shared/etag.py)."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import Query

from services.actionplans.config import Settings
from shared.app import SettingsDep as SharedSettingsDep
from shared.input_rules import IsoDateTime

SettingsDep = SharedSettingsDep[Settings]
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
AsOfQuery = Annotated[
    IsoDateTime | None,
    Query(
        description="Answer as the system knew it at this time (ISO 8601; no offset means UTC): "
        "what was created later is absent, the rest as it stood then."
    ),
]


def as_utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)
