"""Dependencies of the referrals routes: settings, purpose and If-Match (the clock, settings and
ETag helpers are the shared ones: shared/clock.py, shared/app.py, shared/etag.py)."""

from typing import Annotated

from fastapi import Depends, Header, Query, Response

from services.referrals.config import Settings
from services.referrals.models import Referral
from shared.app import SettingsDep as SharedSettingsDep
from shared.clock import NowDep as NowDep
from shared.etag import etag

SettingsDep = SharedSettingsDep[Settings]
# Out of bounds is a 422 naming `limit`, never a silent clamp; without it, a page of 50.
PageLimit = Annotated[
    int | None, Query(ge=1, le=200, description="Items per page: 1 to 200 (default 50).")
]


# `async def` although it never waits: FastAPI runs a plain `def` dependency in a worker
# thread, a thread hop per dependency per request.
async def read_purpose(
    settings: SettingsDep,
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
    return purpose or x_purpose or settings.default_read_purpose


PurposeDep = Annotated[str, Depends(read_purpose)]
IfMatch = Annotated[
    str | None,
    Header(alias="If-Match", description="The referral's ETag from your last read; required."),
]


def set_etag(response: Response, referral: Referral) -> None:
    response.headers["ETag"] = etag(referral.version)
