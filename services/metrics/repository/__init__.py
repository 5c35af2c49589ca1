"""Queries on indicators, observations, targets and announced statuses."""

from collections.abc import Iterable, Sequence
from datetime import date, datetime
from typing import Any

from sqlalchemy import Row, and_, delete, func, or_, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from services.metrics.models import (
    Indicator,
    IndicatorDefinition,
    IndicatorStatus,
    Observation,
    Target,
)

SeriesKey = tuple[str, str, date]  # indicator code, area code, period start


async def get_indicator(session: AsyncSession, code: str) -> Indicator | None:
    return await session.get(Indicator, code)


async def list_indicators(
    session: AsyncSession, *, after: str | None, limit: int, source: str | None = None
) -> Sequence[Indicator]:
    query = select(Indicator).order_by(Indicator.code).limit(limit)
    if after:
        query = query.where(Indicator.code > after)
    if source:
        query = query.where(Indicator.source == source)
    return (await session.scalars(query)).all()


async def indicators_by_code(session: AsyncSession, codes: Iterable[str]) -> dict[str, Indicator]:
    wanted = set(codes)
    if not wanted:
        return {}
    rows = await session.scalars(select(Indicator).where(Indicator.code.in_(wanted)))
    return {row.code: row for row in rows}


async def definitions_of(
    session: AsyncSession, codes: Iterable[str]
) -> dict[str, list[IndicatorDefinition]]:
    """Every definition of those indicators, oldest first, by code."""
    wanted = list(set(codes))
    found: dict[str, list[IndicatorDefinition]] = {code: [] for code in wanted}
    if not wanted:
        return found
    query = (
        select(IndicatorDefinition)
        .where(IndicatorDefinition.code.in_(wanted))
        .order_by(IndicatorDefinition.code, IndicatorDefinition.valid_from)
    )
    for row in await session.scalars(query):
        found[row.code].append(row)
    return found


async def get_definition(
    session: AsyncSession, code: str, valid_from: datetime
) -> IndicatorDefinition | None:
    return await session.get(IndicatorDefinition, (code, valid_from))


async def delete_definitions(session: AsyncSession, code: str) -> None:
    await session.execute(delete(IndicatorDefinition).where(IndicatorDefinition.code == code))


async def count_observations(session: AsyncSession, indicator_code: str) -> int:
    query = select(func.count()).where(Observation.indicator_code == indicator_code)
    return int(await session.scalar(query) or 0)


def _known_on(as_of: datetime | None):  # type: ignore[no-untyped-def]
    """Rows that were the current value at `as_of` (now, when None)."""
    if as_of is None:
        return Observation.superseded_at.is_(None)
    return and_(
        Observation.recorded_at <= as_of,
        or_(Observation.superseded_at.is_(None), Observation.superseded_at > as_of),
    )


async def current_observations(
    session: AsyncSession, keys: Iterable[SeriesKey]
) -> dict[SeriesKey, Observation]:
    """The current revision for each (indicator, area, period start), in one query."""
    wanted = list(set(keys))
    found: dict[SeriesKey, Observation] = {}
    for start in range(0, len(wanted), 500):  # keeps the IN list within engine limits
        chunk = wanted[start : start + 500]
        query = select(Observation).where(
            Observation.superseded_at.is_(None),
            tuple_(Observation.indicator_code, Observation.area_code, Observation.period_start).in_(
                chunk
            ),
        )
        for row in await session.scalars(query):
            found[(row.indicator_code, row.area_code, row.period_start)] = row
    return found


async def list_observations(
    session: AsyncSession,
    *,
    indicator_code: str | None,
    area_code: str | None,
    as_of: datetime | None,
    include_revisions: bool,
    after_id: int | None,
    limit: int,
) -> Sequence[Observation]:
    query = select(Observation).order_by(Observation.id).limit(limit)
    if not include_revisions:
        query = query.where(_known_on(as_of))
    if indicator_code:
        query = query.where(Observation.indicator_code == indicator_code)
    if area_code:
        query = query.where(Observation.area_code == area_code)
    if after_id is not None:
        query = query.where(Observation.id > after_id)
    return (await session.scalars(query)).all()


async def get_observation(session: AsyncSession, observation_id: int) -> Observation | None:
    return await session.get(Observation, observation_id)


SERIES_COLUMNS = (
    Observation.indicator_code,
    Observation.area_code,
    Observation.period_start,
    Observation.period_end,
    Observation.period_label,
    Observation.value,
    Observation.sample_size,
    Observation.numerator,
    Observation.denominator,
)


def _series_filter(query, area_codes, indicator_codes, as_of):  # type: ignore[no-untyped-def]
    query = query.where(Observation.area_code.in_(area_codes), _known_on(as_of))
    if indicator_codes is not None:
        query = query.where(Observation.indicator_code.in_(indicator_codes))
    return query


async def series_for_areas(
    session: AsyncSession,
    *,
    area_codes: Sequence[str],
    indicator_codes: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> Sequence[Row[Any]]:
    """Every value of the areas' series (columns, not entities), sorted by series and period."""
    query = _series_filter(select(*SERIES_COLUMNS), area_codes, indicator_codes, as_of)
    query = query.order_by(
        Observation.indicator_code, Observation.area_code, Observation.period_start
    )
    return (await session.execute(query)).all()


async def series_ends(
    session: AsyncSession,
    *,
    area_codes: Sequence[str],
    indicator_codes: Sequence[str] | None = None,
    as_of: datetime | None = None,
) -> Sequence[Row[Any]]:
    """Only the first, the previous and the latest value of each series: what a scorecard needs.

    Window functions number each series from its end in the database, so a scorecard reads
    three rows per series however long the history is.
    """
    series = (Observation.indicator_code, Observation.area_code)
    from_end = func.row_number().over(partition_by=series, order_by=Observation.period_start.desc())
    size = func.count().over(partition_by=series)
    numbered = _series_filter(
        select(*SERIES_COLUMNS, from_end.label("from_end"), size.label("size")),
        area_codes,
        indicator_codes,
        as_of,
    ).subquery()
    query = (
        select(*(numbered.c[column.key] for column in SERIES_COLUMNS))
        .where(or_(numbered.c.from_end <= 2, numbered.c.from_end == numbered.c.size))
        .order_by(numbered.c.indicator_code, numbered.c.area_code, numbered.c.period_start)
    )
    return (await session.execute(query)).all()


def _set_by(as_of: datetime | None) -> list[Any]:
    """Target versions set by `as_of` (all of them when None)."""
    return [] if as_of is None else [Target.set_at <= as_of]


async def latest_targets(
    session: AsyncSession,
    *,
    area_codes: Sequence[str],
    indicator_codes: Sequence[str] | None,
    as_of: datetime | None = None,
) -> dict[tuple[str, str], Target]:
    """The target version in force per (indicator, area): the one most recently set by `as_of`."""
    query = (
        select(Target)
        .where(Target.area_code.in_(area_codes), *_set_by(as_of))
        .order_by(Target.set_at, Target.version)
    )
    if indicator_codes is not None:
        query = query.where(Target.indicator_code.in_(indicator_codes))
    latest: dict[tuple[str, str], Target] = {}
    for target in await session.scalars(query):
        latest[(target.indicator_code, target.area_code)] = target  # later rows win
    return latest


async def list_targets(
    session: AsyncSession, *, indicator_code: str, area_code: str | None, as_of: datetime | None
) -> list[Target]:
    """The version of each target in force at `as_of` (its highest version set by then)."""
    query = (
        select(Target)
        .where(Target.indicator_code == indicator_code, *_set_by(as_of))
        .order_by(Target.target_id, Target.version)
    )
    if area_code:
        query = query.where(Target.area_code == area_code)
    in_force = {row.target_id: row for row in await session.scalars(query)}  # later rows win
    return sorted(in_force.values(), key=lambda row: (row.set_at, row.target_id))


async def get_target(session: AsyncSession, target_id: str, version: int) -> Target | None:
    return await session.get(Target, (target_id, version))


async def announced_statuses(
    session: AsyncSession, pairs: Iterable[tuple[str, str]]
) -> dict[tuple[str, str], IndicatorStatus]:
    wanted = list(set(pairs))
    if not wanted:
        return {}
    query = select(IndicatorStatus).where(
        tuple_(IndicatorStatus.indicator_code, IndicatorStatus.area_code).in_(wanted)
    )
    return {(row.indicator_code, row.area_code): row for row in await session.scalars(query)}


async def statuses_of_indicator(
    session: AsyncSession, indicator_code: str
) -> Sequence[IndicatorStatus]:
    query = select(IndicatorStatus).where(IndicatorStatus.indicator_code == indicator_code)
    return (await session.scalars(query)).all()


async def delete_indicator_statuses(session: AsyncSession, indicator_code: str) -> None:
    await session.execute(
        delete(IndicatorStatus).where(IndicatorStatus.indicator_code == indicator_code)
    )


async def watched_pairs(
    session: AsyncSession, *, area_code: str, indicator_codes: Sequence[str]
) -> set[tuple[str, str]]:
    """(indicator, area) pairs with a target or an announced status, among those given."""
    targets = select(Target.indicator_code).where(
        Target.area_code == area_code, Target.indicator_code.in_(indicator_codes)
    )
    statuses = select(IndicatorStatus.indicator_code).where(
        IndicatorStatus.area_code == area_code, IndicatorStatus.indicator_code.in_(indicator_codes)
    )
    codes = set(await session.scalars(targets)) | set(await session.scalars(statuses))
    return {(code, area_code) for code in codes}


async def watched_pairs_in_areas(
    session: AsyncSession, area_codes: Sequence[str]
) -> set[tuple[str, str]]:
    """Every (indicator, area) pair with a target or an announced status in those areas."""
    if not area_codes:
        return set()
    targets = select(Target.indicator_code, Target.area_code).where(
        Target.area_code.in_(area_codes)
    )
    statuses = select(IndicatorStatus.indicator_code, IndicatorStatus.area_code).where(
        IndicatorStatus.area_code.in_(area_codes)
    )
    rows = [*(await session.execute(targets)), *(await session.execute(statuses))]
    return {(code, area) for code, area in rows}
