"""HTTP routes of the metrics service: indicators, observations and areas."""

from datetime import UTC, datetime
from typing import Annotated

from fastapi import APIRouter, Depends, Path, Query, Request, Response, status

from services.metrics.areas import Area, load_areas
from services.metrics.config import Settings
from services.metrics.domain import ObservationInput, Source
from services.metrics.domain.write_ownership import WriteAssignments
from services.metrics.schemas import (
    AreaList,
    AreaOut,
    ImportReport,
    IndicatorCreate,
    IndicatorOut,
    IndicatorPage,
    IndicatorUpdate,
    ObservationCreate,
    ObservationOut,
    ObservationPage,
)
from services.metrics.service import observations as service
from services.metrics.service.write_ownership import require_indicator_steward, require_recorder
from services.metrics.writers import load_write_assignments
from shared.app import SessionDep
from shared.app import SettingsDep as SharedSettingsDep
from shared.auth import Caller, require_scope
from shared.clock import NowDep
from shared.input_rules import IsoDateTime
from shared.problems import NotFound, Problem, Unprocessable

router = APIRouter(prefix="/api/v1", tags=["metrics"])

Reader = Annotated[Caller, require_scope("metrics:read")]
Writer = Annotated[Caller, require_scope("metrics:write")]
Limit = Annotated[int, Query(ge=1, le=500, description="page size")]


SettingsDep = SharedSettingsDep[Settings]


def get_areas(settings: SettingsDep) -> dict[str, Area]:
    return load_areas(settings.areas_file, settings.localities_file)


AreasDep = Annotated[dict[str, Area], Depends(get_areas)]


def get_writers(settings: SettingsDep) -> WriteAssignments:
    return load_write_assignments(settings.writers_file)


WritersDep = Annotated[WriteAssignments, Depends(get_writers)]


class PayloadTooLarge(Problem):
    status, title, slug = 413, "Payload too large", "payload-too-large"


class UnsupportedMediaType(Problem):
    status, title, slug = 415, "Unsupported media type", "unsupported-media-type"


def as_utc(moment: datetime | None) -> datetime | None:
    """A time without an offset is taken as UTC."""
    if moment is None:
        return None
    return moment.astimezone(UTC) if moment.tzinfo else moment.replace(tzinfo=UTC)


@router.post(
    "/indicators",
    response_model=IndicatorOut,
    status_code=status.HTTP_201_CREATED,
    responses={409: {"description": "An indicator with this code exists"}},
)
async def create_indicator(
    request: IndicatorCreate,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    writers: WritersDep,
    response: Response,
) -> IndicatorOut:
    """Define an indicator (code, unit, desired direction, frequency, source)."""
    require_indicator_steward(caller, writers)
    indicator = await service.create_indicator(session, request, now=now)
    response.headers["Location"] = f"/api/v1/indicators/{indicator.code}"
    return IndicatorOut.model_validate(indicator)


@router.get("/indicators", response_model=IndicatorPage)
async def list_indicators(
    session: SessionDep,
    caller: Reader,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Limit = 100,
    source: Source | None = None,
) -> IndicatorPage:
    """Indicator definitions by code, a page at a time (pass `next_cursor` back as `cursor`)."""
    page = await service.list_indicators(session, cursor=cursor, limit=limit, source=source)
    return IndicatorPage(
        items=[IndicatorOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/indicators/{code}", response_model=IndicatorOut)
async def get_indicator(
    code: str,
    session: SessionDep,
    caller: Reader,
    as_of: Annotated[
        IsoDateTime | None, Query(description="the definition in force at this time")
    ] = None,
) -> IndicatorOut:
    """One indicator definition: the current one, or the one in force at `as_of` (its
    `updated_at` is when that definition took effect)."""
    found = await service.get_indicator_as_of(session, code, as_of=as_utc(as_of))
    return IndicatorOut.model_validate(found)


@router.patch("/indicators/{code}", response_model=IndicatorOut)
async def update_indicator(
    code: str,
    request: IndicatorUpdate,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    writers: WritersDep,
) -> IndicatorOut:
    """Change an indicator's name, description, direction, labels, target or tolerance."""
    require_indicator_steward(caller, writers)
    return IndicatorOut.model_validate(
        await service.update_indicator(session, code, request, now=now)
    )


@router.delete(
    "/indicators/{code}",
    status_code=status.HTTP_204_NO_CONTENT,
    responses={409: {"description": "A derived indicator, or one with observations"}},
)
async def delete_indicator(
    code: str, session: SessionDep, caller: Writer, writers: WritersDep
) -> Response:
    """Delete an indicator that has no observations."""
    require_indicator_steward(caller, writers)
    await service.delete_indicator(session, code)
    return Response(status_code=status.HTTP_204_NO_CONTENT)


@router.post("/observations", response_model=ObservationOut, status_code=status.HTTP_201_CREATED)
async def record_observation(
    request: ObservationCreate,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    areas: AreasDep,
    writers: WritersDep,
    response: Response,
) -> ObservationOut:
    """Record a value for an indicator, area and period; a new value revises the earlier one."""
    # A ward or LSOA is checked against its locality in the use case; an unknown area is a 422.
    if request.area_code in areas:
        require_recorder(caller, [(None, request.indicator_code, request.area_code)], writers)
    row, changed = await service.record_observation(
        session,
        ObservationInput(**request.model_dump()),
        caller=caller,
        areas=areas,
        writers=writers,
        now=now,
    )
    if not changed:
        response.status_code = status.HTTP_200_OK
    response.headers["Location"] = f"/api/v1/observations/{row.id}"
    return ObservationOut.model_validate(row)


CSV_BODY = {
    "requestBody": {
        "required": True,
        "content": {"text/csv": {"schema": {"type": "string", "format": "binary"}}},
    }
}


@router.post(
    "/observations/import",
    response_model=ImportReport,
    openapi_extra=CSV_BODY,
    responses={
        413: {"description": "The file is larger than the import limit"},
        415: {"description": "The body is not text/csv"},
    },
)
async def import_observations(
    request: Request,
    session: SessionDep,
    now: NowDep,
    caller: Writer,
    areas: AreasDep,
    writers: WritersDep,
    settings: SettingsDep,
    dry_run: Annotated[bool, Query(description="check and count, write nothing")] = False,
) -> ImportReport:
    """Import observations from CSV (text/csv): all rows or none; dry_run only checks."""
    content_type = request.headers.get("content-type", "").split(";")[0].strip()
    if content_type not in ("text/csv", "application/csv"):
        raise UnsupportedMediaType("Send the file as text/csv.", field="content-type")
    body = await request.body()
    if len(body) > settings.import_max_bytes:
        raise PayloadTooLarge(f"The file is larger than {settings.import_max_bytes} bytes.")
    try:
        text = body.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        raise Unprocessable("The file is not UTF-8 text.", field="body") from error
    return await service.import_observations(
        session,
        text,
        caller=caller,
        areas=areas,
        writers=writers,
        dry_run=dry_run,
        now=now,
    )


@router.get(
    "/observations",
    response_model=ObservationPage,
    responses={404: {"description": "No such area (locality, authority, ward or LSOA)"}},
)
async def list_observations(
    session: SessionDep,
    caller: Reader,
    areas: AreasDep,
    indicator: Annotated[str | None, Query(max_length=64)] = None,
    area: Annotated[str | None, Query(max_length=32)] = None,
    as_of: Annotated[IsoDateTime | None, Query(description="values as known at this time")] = None,
    include_revisions: bool = False,
    cursor: Annotated[str | None, Query(max_length=500)] = None,
    limit: Limit = 100,
) -> ObservationPage:
    """Observations (current values, or as known at `as_of`), a page at a time."""
    page = await service.list_observations(
        session,
        indicator_code=indicator,
        area_code=area,
        as_of=as_utc(as_of),
        include_revisions=include_revisions,
        cursor=cursor,
        limit=limit,
        areas=areas,
    )
    return ObservationPage(
        items=[ObservationOut.model_validate(r) for r in page.items], next_cursor=page.next_cursor
    )


@router.get("/observations/{observation_id:int}", response_model=ObservationOut)
async def get_observation(
    observation_id: Annotated[int, Path(ge=1, le=2**63 - 1)], session: SessionDep, caller: Reader
) -> ObservationOut:
    """One observation (any revision)."""
    return ObservationOut.model_validate(await service.get_observation(session, observation_id))


def _area_out(area: Area) -> AreaOut:
    return AreaOut(
        code=area.code,
        name=area.name,
        kind=area.kind,
        gss_code=area.gss_code,
        authority_code=area.authority_code,
        ward_gss_codes=list(area.ward_gss_codes),
        lsoa_gss_codes=list(area.lsoa_gss_codes),
        comparison_area_codes=list(area.comparison_area_codes),
    )


@router.get("/areas", response_model=AreaList)
async def list_areas(caller: Reader, areas: AreasDep) -> AreaList:
    """Localities and comparison areas, with their ONS GSS codes where configured."""
    return AreaList(items=[_area_out(a) for a in areas.values()])


@router.get("/areas/{code}", response_model=AreaOut)
async def get_area(code: str, caller: Reader, areas: AreasDep) -> AreaOut:
    """One area."""
    if code not in areas:
        raise NotFound(f"No area '{code}'.", field="code")
    return _area_out(areas[code])
