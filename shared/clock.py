"""The clock, one way for every service: routes, use cases and periodic jobs ask it for `now`.

A service reads the time through `clock_of(app)`: the system clock, unless a test has set
`app.state.clock` to a function of its own, so rules that depend on time are tested at chosen
moments instead of by sleeping.
"""

from collections.abc import Callable
from datetime import UTC, datetime
from typing import Annotated

from fastapi import Depends, FastAPI, Request

Clock = Callable[[], datetime]


def system_clock() -> datetime:
    return datetime.now(UTC)


def clock_of(app: FastAPI) -> Clock:
    """The app's clock: the system clock unless one was set on `app.state.clock`."""
    clock: Clock = getattr(app.state, "clock", system_clock)
    return clock


def set_clock(app: FastAPI, clock: Clock) -> None:
    """Make every route and periodic job of `app` read the time from `clock` (tests)."""
    app.state.clock = clock


# Dependencies are `async def` although they never wait: FastAPI runs a plain `def` one in a
# worker thread, a thread hop per request.
async def current_time(request: Request) -> datetime:
    return clock_of(request.app)()


# A route parameter: the time of this request, from the app's clock.
NowDep = Annotated[datetime, Depends(current_time)]
