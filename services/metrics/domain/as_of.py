"""Which version of a definition was in force at an as-at time (no I/O).

Indicator definitions and plan targets change over time; a reading "as at" a moment uses the
version that had been set by then, so a later edit never rewrites a past status.
"""

from collections.abc import Callable, Sequence
from datetime import datetime
from typing import TypeVar

V = TypeVar("V")


def in_force(
    versions: Sequence[V], as_of: datetime | None, *, since: Callable[[V], datetime]
) -> V | None:
    """The version set most recently at or before `as_of` (the latest when `as_of` is None);
    None when every version was set after it."""
    chosen: V | None = None
    for version in versions:
        moment = since(version)
        if as_of is not None and moment > as_of:
            continue
        if chosen is None or moment >= since(chosen):
            chosen = version
    return chosen
