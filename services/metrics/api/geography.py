"""HTTP routes on wards and LSOAs: a locality's areas and its counts rolled up from them."""

from typing import Annotated

from fastapi import APIRouter, Query

from services.metrics.api.observations import AreasDep, Reader
from services.metrics.domain import INDICATOR_CODE
from services.metrics.schemas import LocalityAreasOut, PartOut, RolledUpOut, RollUpOut
from services.metrics.service import geography as service
from shared.app import SessionDep

router = APIRouter(prefix="/api/v1", tags=["metrics"])


@router.get("/localities/{code}/areas", response_model=LocalityAreasOut)
async def get_locality_areas(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    ward: Annotated[
        str | None, Query(max_length=16, description="only this ward and its LSOAs")
    ] = None,
) -> LocalityAreasOut:
    """The locality's wards and LSOAs (ONS GSS codes), from configuration and the ONS import."""
    found = await service.locality_geography(session, locality_code=code, areas=areas, ward=ward)
    return LocalityAreasOut(
        locality_code=found.locality.code,
        name=found.locality.name,
        authority_code=found.locality.authority_code,
        wards=[PartOut.model_validate(p, from_attributes=True) for p in found.wards],
        lsoas=[PartOut.model_validate(p, from_attributes=True) for p in found.lsoas],
    )


@router.get("/localities/{code}/roll-up", response_model=RollUpOut)
async def get_locality_roll_up(
    code: str,
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    indicator: Annotated[
        str, Query(pattern=INDICATOR_CODE.pattern, description="a count indicator's code")
    ],
) -> RollUpOut:
    """A count indicator per period, summed from the locality's wards (or LSOAs)."""
    rolled = await service.roll_up(
        session, locality_code=code, indicator_code=indicator, areas=areas
    )
    return RollUpOut(
        locality_code=code,
        indicator_code=indicator,
        items=[
            RolledUpOut(
                period_start=r.period_start.isoformat(),
                period_end=r.period_end.isoformat(),
                period_label=r.period_label,
                value=r.value,
                level=r.level,
                parts=r.parts,
                of=r.of,
            )
            for r in rolled
        ],
    )
