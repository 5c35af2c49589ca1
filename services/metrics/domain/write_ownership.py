"""Who may write which figures: organisations assigned to an indicator or an area.

A locality's figures drive its RAG ratings and plans; a partner that may write any figure
could revise another locality's. So `metrics:write` is not enough on its own: the writer
must also be assigned, in configuration, to the area or the indicator it writes.
"""

from collections.abc import Mapping
from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class WriteAssignments:
    indicator_stewards: frozenset[str] = frozenset()
    by_area: Mapping[str, frozenset[str]] = field(default_factory=dict)
    by_indicator: Mapping[str, frozenset[str]] = field(default_factory=dict)


def may_define_indicator(organisation: str, assignments: WriteAssignments) -> bool:
    """Create, change or delete an indicator's definition."""
    return organisation in assignments.indicator_stewards


def may_record(
    organisation: str, *, indicator_code: str, area_code: str, assignments: WriteAssignments
) -> bool:
    """Record an observation: assigned to its area (any indicator) or to its indicator."""
    return organisation in assignments.by_area.get(
        area_code, frozenset()
    ) or organisation in assignments.by_indicator.get(indicator_code, frozenset())
