"""The report's "what changed" list: the largest movements and the targets turning red.

Pure selection over per-indicator summaries. Movements are ranked by their relative size so a
count of 500 incidents and a 30% share compare fairly; a target that turned red always makes
the list, ahead of the movements, because that is what a panel must hear first.
"""

from collections.abc import Sequence
from dataclasses import dataclass

from services.metrics.domain import formatting

IMPROVING, WORSENING = "improving", "worsening"


@dataclass(frozen=True, slots=True)
class Movement:
    """One indicator's latest move (previous -> latest) and its RAG then and now."""

    indicator_code: str
    name: str
    unit: str
    previous: float | None
    latest: float | None
    status_since_previous: str | None  # improving | worsening | no_clear_change
    rag_before: str | None
    rag_now: str | None

    @property
    def absolute(self) -> float | None:
        if self.previous is None or self.latest is None:
            return None
        return self.latest - self.previous

    @property
    def relative(self) -> float | None:
        if self.previous in (None, 0) or self.latest is None:
            return None
        return self.latest / self.previous - 1


def turned_red(movement: Movement) -> bool:
    return movement.rag_now == "red" and movement.rag_before != "red"


def sentence(movement: Movement) -> str:
    """'Feeling safe after dark rose, +1.4 points, not significant (31.2% -> 32.6%).'"""
    if turned_red(movement):
        return f"{movement.name} turned red against its target."
    change = movement.absolute
    assert change is not None and movement.previous is not None
    verb = "rose" if change > 0 else "fell" if change < 0 else "held"
    if movement.unit == "percent":
        size = formatting.points(change)
    else:
        size = formatting.signed_percent(movement.relative)
    clear = {
        IMPROVING: "an improvement",
        WORSENING: "a worsening",
    }.get(movement.status_since_previous or "", "not significant")
    before = formatting.value_in_unit(movement.previous, movement.unit)
    after = formatting.value_in_unit(movement.latest, movement.unit)
    return f"{movement.name} {verb}, {size}, {clear} ({before} → {after})."


def select(movements: Sequence[Movement], limit: int = 5) -> list[str]:
    """Targets turning red first, then the largest relative movements, at most `limit`."""
    red = [m for m in movements if turned_red(m)]
    moved = [m for m in movements if m not in red and m.relative is not None and m.relative != 0]
    moved.sort(key=lambda m: abs(m.relative or 0), reverse=True)
    return [sentence(m) for m in [*red, *moved][:limit]]
