"""What every route module needs: settings and the paging parameters (ETag and If-Match
handling is shared: shared/etag.py)."""

from typing import Annotated

from fastapi import Depends, Query, Request

from services.actionplans.config import Settings


def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]
