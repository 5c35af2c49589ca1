"""Use cases on wards and LSOAs: the ONS lookup import, a locality's areas, count roll-ups."""

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import repository
from services.metrics.areas import Area
from services.metrics.domain import Unit
from services.metrics.domain.geography import (
    GeographyArea,
    PartValue,
    RolledUpValue,
    assign_to_localities,
    gss_kind,
    parse_locality_map,
    parse_ons_lookup,
    roll_up_counts,
)
from services.metrics.models import GeographyArea as GeographyRow
from services.metrics.repository import geography as geography_repository
from shared.operator_audit import Operator, record_operator_action
from shared.problems import NotFound, Unprocessable


@dataclass(frozen=True, slots=True)
class Part:
    gss_code: str
    name: str | None  # None for a code stated in configuration without a name
    source: str  # "configuration" | "ons_lookup"
    ward_gss_code: str | None = None


@dataclass(slots=True)
class LocalityGeography:
    locality: Area
    wards: list[Part] = field(default_factory=list)
    lsoas: list[Part] = field(default_factory=list)


async def import_ons_lookup(
    session: AsyncSession,
    *,
    lookup_text: str,
    locality_map_text: str,
    locality_codes: Iterable[str],
    operator: Operator,
    now: datetime,
) -> dict[str, Any]:
    """Replace the stored wards and LSOAs, with an operator_action row in the same
    transaction; a bad file (GeographyFileError) changes nothing."""
    lookup = parse_ons_lookup(lookup_text)
    ward_localities = parse_locality_map(locality_map_text, set(locality_codes))
    parts = assign_to_localities(lookup, ward_localities)
    per_locality: dict[str, dict[str, int]] = {}
    for part in parts:
        counts = per_locality.setdefault(part.locality_code, {"wards": 0, "lsoas": 0})
        counts["wards" if part.kind == "ward" else "lsoas"] += 1
    summary = {"lookup_rows": len(lookup), "localities": per_locality}
    async with session.begin():
        await geography_repository.replace_all(session, (_row(p, now) for p in parts))
        await record_operator_action(
            session,
            actor=operator.actor,
            action="areas.import-ons-lookup",
            target="geography_area",
            reason=operator.reason,
            details=summary,
        )
    return summary


def _row(part: GeographyArea, now: datetime) -> GeographyRow:
    return GeographyRow(
        gss_code=part.gss_code,
        kind=part.kind,
        name=part.name,
        locality_code=part.locality_code,
        ward_gss_code=part.ward_gss_code,
        authority_gss_code=part.authority_gss_code,
        imported_at=now,
    )


def locality_or_404(areas: dict[str, Area], code: str) -> Area:
    area = areas.get(code)
    if area is None or area.kind != "locality":
        raise NotFound(f"No locality '{code}'.", field="code")
    return area


async def _parts_of(session: AsyncSession, locality: Area) -> LocalityGeography:
    found = LocalityGeography(locality)
    found.wards = [Part(code, None, "configuration") for code in locality.ward_gss_codes]
    found.lsoas = [Part(code, None, "configuration") for code in locality.lsoa_gss_codes]
    configured = {p.gss_code for p in found.wards + found.lsoas}
    for row in await geography_repository.of_locality(session, locality.code):
        if row.gss_code in configured:  # the import names what configuration only listed
            found.wards = [p for p in found.wards if p.gss_code != row.gss_code]
            found.lsoas = [p for p in found.lsoas if p.gss_code != row.gss_code]
        part = Part(row.gss_code, row.name, "ons_lookup", row.ward_gss_code)
        (found.wards if row.kind == "ward" else found.lsoas).append(part)
    found.wards.sort(key=lambda p: p.gss_code)
    found.lsoas.sort(key=lambda p: p.gss_code)
    return found


async def locality_geography(
    session: AsyncSession, *, locality_code: str, areas: dict[str, Area], ward: str | None
) -> LocalityGeography:
    """The locality's wards and LSOAs (only those of `ward` when given)."""
    locality = locality_or_404(areas, locality_code)
    if ward is not None and gss_kind(ward) != "ward":
        raise Unprocessable(f"'{ward}' is not a ward GSS code (E05 and 6 digits).", field="ward")
    async with session.begin():
        found = await _parts_of(session, locality)
    if ward is not None:
        if ward not in {p.gss_code for p in found.wards}:
            raise NotFound(f"Ward '{ward}' is not in locality '{locality_code}'.", field="ward")
        found.wards = [p for p in found.wards if p.gss_code == ward]
        found.lsoas = [p for p in found.lsoas if p.ward_gss_code == ward]
    return found


async def localities_of_parts(
    session: AsyncSession, codes: Iterable[str], areas: dict[str, Area]
) -> dict[str, str]:
    """Ward or LSOA code -> its locality, from configuration then the import (inside a
    transaction the caller owns)."""
    configured = {
        code: area.code
        for area in areas.values()
        for code in area.ward_gss_codes + area.lsoa_gss_codes
    }
    wanted = {code for code in codes if gss_kind(code) is not None}
    found = {code: configured[code] for code in wanted if code in configured}
    found.update(await geography_repository.localities_of(session, wanted - set(found)))
    return found


async def roll_up(
    session: AsyncSession, *, locality_code: str, indicator_code: str, areas: dict[str, Area]
) -> list[RolledUpValue]:
    """The locality's count per period, summed from its wards' (or LSOAs') observations."""
    locality = locality_or_404(areas, locality_code)
    async with session.begin():
        indicator = await repository.get_indicator(session, indicator_code)
        if indicator is None:
            raise NotFound(f"No indicator '{indicator_code}'.", field="indicator")
        if indicator.unit != Unit.COUNT:
            raise Unprocessable(
                f"'{indicator_code}' is a {indicator.unit}, not a count: only counts add up "
                "from wards to a locality (a percentage needs the numerators and denominators).",
                field="indicator",
            )
        found = await _parts_of(session, locality)
        wards = {p.gss_code for p in found.wards}
        lsoas = {p.gss_code for p in found.lsoas}
        rows = await geography_repository.current_values_in(session, indicator_code, wards | lsoas)
    return roll_up_counts([PartValue(*row) for row in rows], wards, lsoas)
