"""What every route module needs: settings, page size, ETag and If-Match handling."""

from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from services.actionplans.config import Settings
from services.actionplans.service.guards import etag
from shared.problems import PreconditionFailed, PreconditionRequired


def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


SettingsDep = Annotated[Settings, Depends(get_settings)]
CursorQuery = Annotated[
    str | None, Query(description="`next_cursor` of the previous page; omit for the first.")
]
LimitQuery = Annotated[int, Query(ge=1, le=500, description="Items per page.")]


def expected_version(
    if_match: Annotated[
        str | None,
        Header(description="The ETag from your last read; required on every update."),
    ] = None,
) -> int | None:
    """The version the caller read (428 without If-Match); None for `If-Match: *`."""
    if if_match is None or not if_match.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag of your last read, so a change made meanwhile is not "
            "overwritten."
        )
    value = if_match.strip()
    if value == "*":
        return None
    tag = value.split(",")[0].strip()
    if tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit():
        return int(tag[1:-1])
    raise PreconditionFailed(f"If-Match {value} does not match the current ETag.")


ExpectedVersion = Annotated[int | None, Depends(expected_version)]


def with_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)
