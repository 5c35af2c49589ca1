"""Use cases on indicators and observations; each owns one transaction."""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics import events, repository
from services.metrics.areas import Area
from services.metrics.domain import (
    Frequency,
    Granularity,
    IndicatorRules,
    InvalidObservation,
    ObservationInput,
    Source,
    Unit,
    check_observation,
    period_label,
)
from services.metrics.domain.geography import GSS_LIKE, gss_kind
from services.metrics.domain.observation_csv import area_codes_in as _area_codes_in
from services.metrics.domain.observation_csv import parse_observations_csv
from services.metrics.domain.write_ownership import WriteAssignments
from services.metrics.models import (
    DEFINITION_FIELDS,
    Indicator,
    IndicatorDefinition,
    Observation,
    Target,
)
from services.metrics.repository import facts as derived_repository
from services.metrics.repository.facts import DerivedRow
from services.metrics.schemas import (
    ImportReport,
    IndicatorCreate,
    IndicatorUpdate,
    RowError,
)
from services.metrics.service import geography
from services.metrics.service.analysis import announce_status_changes, defined_at
from services.metrics.service.write_ownership import require_recorder
from shared.auth import Caller
from shared.pagination import PageOf, decode_key_cursor, decode_sequence_cursor, page_by_key
from shared.problems import Conflict, NotFound, Unprocessable


def rules_of(indicator: Indicator) -> IndicatorRules:
    return IndicatorRules(
        code=indicator.code,
        unit=Unit(indicator.unit),
        frequency=Frequency(indicator.frequency),
        source=Source(indicator.source),
    )


async def create_indicator(
    session: AsyncSession, request: IndicatorCreate, *, now: datetime
) -> Indicator:
    async with session.begin():
        if await repository.get_indicator(session, request.code) is not None:
            raise Conflict(f"Indicator '{request.code}' exists.", field="code")
        indicator = Indicator(**request.model_dump(), created_at=now, updated_at=now)
        session.add(indicator)
        await _keep_definition(session, indicator, now)
    return indicator


async def _keep_definition(session: AsyncSession, indicator: Indicator, now: datetime) -> None:
    """Record the indicator's definition as in force from `now` (earlier ones stay)."""
    definition = await repository.get_definition(session, indicator.code, now)
    if definition is None:
        definition = IndicatorDefinition(code=indicator.code, valid_from=now)
        session.add(definition)
    for field in DEFINITION_FIELDS:
        setattr(definition, field, getattr(indicator, field))


async def get_indicator(session: AsyncSession, code: str) -> Indicator:
    indicator = await repository.get_indicator(session, code)
    if indicator is None:
        raise NotFound(f"No indicator '{code}'.", field="code")
    return indicator


async def get_indicator_as_of(
    session: AsyncSession, code: str, *, as_of: datetime | None
) -> Indicator:
    """The indicator's definition in force at `as_of` (now when None); 404 before it existed."""
    async with session.begin():
        indicator = await get_indicator(session, code)
        if as_of is None:
            return indicator
        if as_of < indicator.created_at:
            raise NotFound(f"Indicator '{code}' was not defined at {as_of.isoformat()}.")
        [found] = await defined_at(session, [indicator], as_of)
    return found


async def list_indicators(
    session: AsyncSession, *, cursor: str | None, limit: int, source: Source | None
) -> PageOf[Indicator]:
    """Indicators by code, one page; `cursor` is the previous page's `next_cursor`."""
    after = decode_key_cursor(cursor)
    async with session.begin():
        rows = await repository.list_indicators(
            session, after=after, limit=limit + 1, source=source.value if source else None
        )
    return page_by_key(list(rows), limit, key=lambda indicator: indicator.code)


async def update_indicator(
    session: AsyncSession, code: str, request: IndicatorUpdate, *, now: datetime
) -> Indicator:
    async with session.begin():
        indicator = await get_indicator(session, code)
        changes = request.model_dump(exclude_unset=True)
        # PATCH may omit a field the table requires, never null it: the table says which.
        columns = Indicator.__table__.c
        for field, value in changes.items():
            if value is None and not columns[field].nullable:
                raise Unprocessable(
                    f"'{field}' cannot be null.",
                    errors=[{"field": field, "message": "cannot be null"}],
                )
        for field, value in changes.items():
            setattr(indicator, field, value)
        indicator.updated_at = now
        await _keep_definition(session, indicator, now)
        pairs = await _series_of_indicator(session, indicator)
        await announce_status_changes(session, pairs)  # a new direction or target may flip RAG
    return indicator


async def _series_of_indicator(
    session: AsyncSession, indicator: Indicator
) -> list[tuple[str, str]]:
    statuses = await repository.statuses_of_indicator(session, indicator.code)
    return [(indicator.code, row.area_code) for row in statuses]


async def delete_indicator(session: AsyncSession, code: str) -> None:
    async with session.begin():
        indicator = await get_indicator(session, code)
        if indicator.source == Source.DERIVED:
            raise Conflict("Derived indicators are part of the service.", field="code")
        if await repository.count_observations(session, code):
            raise Conflict(f"Indicator '{code}' has observations; it cannot be deleted.")
        await repository.delete_indicator_statuses(session, code)
        await repository.delete_definitions(session, code)
        await session.delete(indicator)


@dataclass
class RecordingOutcome:
    created: list[Observation]
    revised: list[Observation]
    unchanged: list[Observation]


def _same(row: Observation, observation: ObservationInput, label: str) -> bool:
    return (
        row.value == observation.value
        and row.period_end == observation.period_end
        and row.period_label == label
        and row.numerator == observation.numerator
        and row.denominator == observation.denominator
        and row.sample_size == observation.sample_size
    )


async def _record(
    session: AsyncSession,
    observations: Sequence[ObservationInput],
    indicators: dict[str, Indicator],
    organisation: str,
    *,
    write: bool,
    now: datetime,
) -> RecordingOutcome:
    """Create, revise or leave each observation; a revision supersedes the current row."""
    keys = [(o.indicator_code, o.area_code, o.period_start) for o in observations]
    current = await repository.current_observations(session, keys)
    outcome = RecordingOutcome([], [], [])
    for observation, key in zip(observations, keys, strict=True):
        indicator = indicators[observation.indicator_code]
        label = observation.period_label or period_label(
            Frequency(indicator.frequency), observation.period_start
        )
        existing = current.get(key)
        if existing is not None and _same(existing, observation, label):
            outcome.unchanged.append(existing)
            continue
        row = Observation(
            indicator_code=observation.indicator_code,
            area_code=observation.area_code,
            period_start=observation.period_start,
            period_end=observation.period_end,
            period_label=label,
            value=observation.value,
            numerator=observation.numerator,
            denominator=observation.denominator,
            sample_size=observation.sample_size,
            revision=1 if existing is None else existing.revision + 1,
            recorded_at=now,
            recorded_by=organisation,
        )
        (outcome.created if existing is None else outcome.revised).append(row)
        if write:
            if existing is not None:
                existing.superseded_at = now
            session.add(row)
    if write:
        await _flush_or_conflict(session)
        for row in outcome.created + outcome.revised:
            events.stage_observation_recorded(session, indicators[row.indicator_code], row)
        await announce_status_changes(
            session, {(r.indicator_code, r.area_code) for r in outcome.created + outcome.revised}
        )
    return outcome


async def _flush_or_conflict(session: AsyncSession) -> None:
    try:
        await session.flush()
    except IntegrityError as error:
        raise Conflict("Another request revised the same observation; try again.") from error


async def record_observation(
    session: AsyncSession,
    observation: ObservationInput,
    *,
    caller: Caller,
    areas: dict[str, Area],
    writers: WriteAssignments,
    now: datetime,
) -> tuple[Observation, bool]:
    """Record one value; returns the current row and whether anything changed.

    The area is a locality, an authority, or a ward or LSOA of a locality: a ward's figure is
    the locality's to write (the assignments name localities, not wards).
    """
    organisation = caller.organisation
    async with session.begin():
        indicator = await repository.get_indicator(session, observation.indicator_code)
        if indicator is None:
            raise Unprocessable("No such indicator.", field="indicator_code")
        if observation.area_code not in areas:
            locality = await _locality_of_part(session, observation.area_code, areas)
            require_recorder(caller, [(None, observation.indicator_code, locality)], writers)
        try:
            check_observation(rules_of(indicator), observation)
        except InvalidObservation as error:
            raise Unprocessable(error.reason, field=error.field) from error
        outcome = await _record(
            session, [observation], {indicator.code: indicator}, organisation, write=True, now=now
        )
    if outcome.unchanged:
        return outcome.unchanged[0], False
    return (outcome.created + outcome.revised)[0], True


async def _locality_of_part(session: AsyncSession, code: str, areas: dict[str, Area]) -> str:
    """The locality of a ward or LSOA; 422 naming `area_code` for anything else."""
    if gss_kind(code) is None:
        if GSS_LIKE.match(code):
            raise Unprocessable(
                f"'{code}' is not a ward (E05 and 6 digits) or LSOA (E01 and 6 digits) GSS code.",
                field="area_code",
            )
        raise Unprocessable("No such area.", field="area_code")
    locality = (await geography.localities_of_parts(session, [code], areas)).get(code)
    if locality is None:
        raise Unprocessable(
            f"'{code}' is not a ward or LSOA of any locality (import the ONS lookup).",
            field="area_code",
        )
    return locality


async def import_observations(
    session: AsyncSession,
    text: str,
    *,
    caller: Caller,
    areas: dict[str, Area],
    writers: WriteAssignments,
    dry_run: bool,
    now: datetime,
) -> ImportReport:
    """All rows or none: any bad row refuses the whole file, naming every bad row."""
    organisation = caller.organisation
    async with session.begin():
        indicators = {
            row.code: row
            for row in await repository.list_indicators(session, after=None, limit=10_000)
        }
        rules = {code: rules_of(indicator) for code, indicator in indicators.items()}
        parts = await geography.localities_of_parts(
            session, _area_codes_in(text, set(areas)), areas
        )
        parsed, problems = parse_observations_csv(text, rules, set(areas) | set(parts))
        require_recorder(
            caller,
            (
                (r.line, r.observation.indicator_code, parts.get(a, a))
                for r in parsed
                for a in [r.observation.area_code]
            ),
            writers,
        )
        errors = [RowError(line=p.line, field=p.field, reason=p.reason) for p in problems]
        if errors and not dry_run:
            raise Unprocessable(
                f"{len({e.line for e in errors})} rows are invalid; nothing was imported.",
                errors=[e.model_dump() for e in errors],
            )
        outcome = await _record(
            session,
            [row.observation for row in parsed],
            indicators,
            organisation,
            write=not dry_run and not errors,
            now=now,
        )
    return ImportReport(
        dry_run=dry_run,
        rows=len(parsed) + len({p.line for p in problems if p.line > 1}),
        created=len(outcome.created),
        revised=len(outcome.revised),
        unchanged=len(outcome.unchanged),
        errors=errors,
    )


async def get_observation(session: AsyncSession, observation_id: int) -> Observation:
    row = await repository.get_observation(session, observation_id)
    if row is None:
        raise NotFound(f"No observation {observation_id}.", field="id")
    return row


async def count_referrals_received(
    session: AsyncSession, *, locality_code: str | None, as_of: datetime | None = None
) -> list[tuple[str, int]]:
    """(locality, referrals received) in total, from the referral facts (received by `as_of`)."""
    async with session.begin():
        return list(await derived_repository.referral_totals(session, locality_code, as_of))


async def referrals_received_per_period(
    session: AsyncSession,
    *,
    granularity: Granularity,
    locality_code: str | None,
    as_of: datetime | None = None,
) -> list[DerivedRow]:
    """Referrals received per locality and week, month or quarter (received by `as_of`)."""
    async with session.begin():
        return list(
            await derived_repository.referrals_received(
                session, granularity, [locality_code] if locality_code else None, as_of
            )
        )


async def list_targets(
    session: AsyncSession,
    *,
    indicator_code: str,
    area_code: str | None,
    as_of: datetime | None = None,
) -> Sequence[Target]:
    """Targets set on an indicator by action plans, each in the version in force at `as_of`
    (the latest when None); a target first set after `as_of` is left out. 404 without the
    indicator."""
    async with session.begin():
        if await repository.get_indicator(session, indicator_code) is None:
            raise NotFound(f"No indicator '{indicator_code}'.", field="code")
        return await repository.list_targets(
            session, indicator_code=indicator_code, area_code=area_code, as_of=as_of
        )


async def list_observations(
    session: AsyncSession,
    *,
    indicator_code: str | None,
    area_code: str | None,
    as_of: datetime | None,
    include_revisions: bool,
    cursor: str | None,
    limit: int,
    areas: dict[str, Area],
) -> PageOf[Observation]:
    """Observations in id order, one page; `cursor` is the previous page's `next_cursor`.

    An area filter naming no configured area and no known ward or LSOA is a 404: an empty page
    would read as "no figures recorded" for what is really a mistyped code."""
    after_id = decode_sequence_cursor(cursor)
    async with session.begin():
        if (
            area_code is not None
            and area_code not in areas
            and not await geography.localities_of_parts(session, [area_code], areas)
        ):
            raise NotFound(f"No area '{area_code}'.", field="area")
        rows = await repository.list_observations(
            session,
            indicator_code=indicator_code,
            area_code=area_code,
            as_of=as_of,
            include_revisions=include_revisions,
            after_id=after_id,
            limit=limit + 1,
        )
    return page_by_key(list(rows), limit, key=lambda observation: observation.id)
