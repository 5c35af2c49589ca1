"""The 403s of metrics writes: checked before any figure or definition changes."""

from collections.abc import Iterable

from services.metrics.domain.write_ownership import (
    WriteAssignments,
    may_define_indicator,
    may_record,
)
from shared.auth import Caller
from shared.problems import Forbidden


def require_indicator_steward(caller: Caller, assignments: WriteAssignments) -> None:
    """403 unless the caller's organisation is a steward (or the caller an administrator)."""
    organisation = caller.organisation
    if not caller.has_scope("admin") and not may_define_indicator(organisation, assignments):
        raise Forbidden(
            f"Organisation '{organisation}' does not define indicators here; "
            "ask one of the indicator stewards named in the metrics configuration.",
            field="indicator",
        )


def require_recorder(
    caller: Caller,
    rows: Iterable[tuple[int | None, str, str]],
    assignments: WriteAssignments,
) -> None:
    """Every (line, indicator, area) must be the caller's to write; 403 names the others.

    `admin` passes, as in every service (an operator correcting figures).
    """
    if caller.has_scope("admin"):
        return
    organisation = caller.organisation
    refused = [
        {
            "field": "area_code",
            "message": f"{organisation} is not assigned to area {area} or indicator {indicator}",
            **({"line": line} if line is not None else {}),
        }
        for line, indicator, area in rows
        if not may_record(
            organisation, indicator_code=indicator, area_code=area, assignments=assignments
        )
    ]
    if refused:
        raise Forbidden(
            f"Organisation '{organisation}' may not write these figures: only organisations "
            "assigned to the area or the indicator may.",
            errors=refused,
        )
