"""Parsing and checking a bulk CSV of observations (no I/O): every bad row is reported."""

import csv
import io
from collections.abc import Mapping, Set
from dataclasses import dataclass
from datetime import date

from services.metrics.domain import (
    IndicatorRules,
    InvalidObservation,
    ObservationInput,
    check_observation,
)

REQUIRED_COLUMNS = ("indicator_code", "area_code", "period_start", "period_end", "value")
OPTIONAL_COLUMNS = ("period_label", "numerator", "denominator", "sample_size")
MAX_ROWS = 50_000


@dataclass(frozen=True, slots=True)
class RowProblem:
    line: int  # line number in the file; the header is line 1
    field: str
    reason: str


@dataclass(frozen=True, slots=True)
class ParsedRow:
    line: int
    observation: ObservationInput


def parse_observations_csv(
    text: str, indicators: Mapping[str, IndicatorRules], area_codes: Set[str]
) -> tuple[list[ParsedRow], list[RowProblem]]:
    """The rows that pass every check and a problem for each field of each row that does not."""
    reader = csv.DictReader(io.StringIO(text))
    header = [name.strip() for name in (reader.fieldnames or [])]
    header_problems = _check_header(header)
    if header_problems:
        return [], header_problems
    reader.fieldnames = header
    parsed: list[ParsedRow] = []
    problems: list[RowProblem] = []
    first_line: dict[tuple[str, str, date], int] = {}
    for index, raw in enumerate(reader):
        line = reader.line_num
        if index >= MAX_ROWS:
            problems.append(RowProblem(line, "file", f"more than {MAX_ROWS} rows"))
            break
        if None in raw:
            problems.append(RowProblem(line, "row", "more cells than columns"))
            continue
        row = {key: (value or "").strip() for key, value in raw.items()}
        if not any(row.values()):
            continue  # a blank line is no row
        observation, row_problems = _parse_row(line, row, indicators, area_codes)
        problems.extend(row_problems)
        if observation is None:
            continue
        key = (observation.indicator_code, observation.area_code, observation.period_start)
        if key in first_line:
            problems.append(
                RowProblem(line, "period_start", f"repeats the row on line {first_line[key]}")
            )
            continue
        first_line[key] = line
        parsed.append(ParsedRow(line, observation))
    return parsed, problems


def _check_header(header: list[str]) -> list[RowProblem]:
    if not header:
        return [RowProblem(1, "header", "the file is empty")]
    missing = [name for name in REQUIRED_COLUMNS if name not in header]
    unknown = [name for name in header if name not in REQUIRED_COLUMNS + OPTIONAL_COLUMNS]
    problems = [RowProblem(1, name, "required column is missing") for name in missing]
    problems += [RowProblem(1, name, "unknown column") for name in unknown]
    return problems


def _parse_row(
    line: int,
    row: dict[str, str],
    indicators: Mapping[str, IndicatorRules],
    area_codes: Set[str],
) -> tuple[ObservationInput | None, list[RowProblem]]:
    problems: list[RowProblem] = []

    def parse(field: str, convert, required: bool = False):  # type: ignore[no-untyped-def]
        text = row.get(field, "")
        if not text:
            if required:
                problems.append(RowProblem(line, field, "is required"))
            return None
        try:
            return convert(text)
        except ValueError:
            problems.append(RowProblem(line, field, f"{text!r} is not a valid {convert.__name__}"))
            return None

    indicator = indicators.get(row.get("indicator_code", ""))
    if row.get("indicator_code") and indicator is None:
        problems.append(RowProblem(line, "indicator_code", "no such indicator"))
    area = row.get("area_code", "")
    if area and area not in area_codes:
        problems.append(RowProblem(line, "area_code", "no such area"))
    values = {
        "indicator_code": parse("indicator_code", str, required=True),
        "area_code": parse("area_code", str, required=True),
        "period_start": parse("period_start", _date, required=True),
        "period_end": parse("period_end", _date, required=True),
        "value": parse("value", _number, required=True),
        "numerator": parse("numerator", _number),
        "denominator": parse("denominator", _number),
        "sample_size": parse("sample_size", _whole_number),
    }
    if problems or indicator is None:
        return None, problems
    observation = ObservationInput(period_label=row.get("period_label") or None, **values)
    try:
        check_observation(indicator, observation)
    except InvalidObservation as error:
        return None, [RowProblem(line, error.field, error.reason)]
    return observation, []


def _date(text: str) -> date:
    return date.fromisoformat(text)


_date.__name__ = "date (YYYY-MM-DD)"


def _number(text: str) -> float:
    return float(text)


_number.__name__ = "number"


def _whole_number(text: str) -> int:
    return int(text)


_whole_number.__name__ = "whole number"


def area_codes_in(text: str, known: Set[str]) -> set[str]:
    """The area codes of the file that are not among `known` (wards and LSOAs to look up)."""
    reader = csv.DictReader(io.StringIO(text))
    column = next((n for n in reader.fieldnames or [] if n.strip() == "area_code"), None)
    if column is None:
        return set()
    codes = {
        (row.get(column) or "").strip() for _, row in zip(range(MAX_ROWS), reader, strict=False)
    }
    return codes - set(known) - {""}
