"""What every route module needs: settings and the paging parameters (ETag and If-Match
handling is shared: shared/etag.py)."""

from typing import Annotated

from fastapi import Query

from services.actionplans.config import Settings
from shared.app import SettingsDep as SharedSettingsDep

SettingsDep = SharedSettingsDep[Settings]
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
