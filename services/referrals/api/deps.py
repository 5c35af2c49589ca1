"""Dependencies shared by the referrals routes: settings, the clock, purpose and If-Match."""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response

from services.referrals.config import Settings
from services.referrals.models import Referral
from services.referrals.service.access import etag


# The dependencies are `async def` although they never wait: FastAPI runs a plain `def`
# dependency in a worker thread, a thread hop per dependency per request.
async def get_settings(request: Request) -> Settings:
    return request.app.state.runtime.settings


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(app_state: object) -> Callable[[], datetime]:
    """The app's clock: the system clock unless one was set on `app.state.clock` (tests)."""
    return getattr(app_state, "clock", system_clock)


async def current_time(request: Request) -> datetime:
    return clock_of(request.app.state)()


async def read_purpose(
    request: Request,
    purpose: Annotated[
        str | None,
        Query(
            pattern=r"^[a-z][a-z0-9_]{1,63}$",
            description="Why the personal fields are read (kept in the audit log).",
            examples=["case_work"],
        ),
    ] = None,
    x_purpose: Annotated[
        str | None, Header(alias="X-Purpose", pattern=r"^[a-z][a-z0-9_]{1,63}$")
    ] = None,
) -> str:
    return purpose or x_purpose or request.app.state.runtime.settings.default_read_purpose


SettingsDep = Annotated[Settings, Depends(get_settings)]
NowDep = Annotated[datetime, Depends(current_time)]
PurposeDep = Annotated[str, Depends(read_purpose)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The referral's ETag from your last read; required."),
]


def set_etag(response: Response, referral: Referral) -> None:
    response.headers["ETag"] = etag(referral)
