"""Parsing a bulk CSV of observations: every bad row is named with its line and reason."""

from datetime import date

import pytest

from services.metrics.domain import Frequency, IndicatorRules, Source, Unit
from services.metrics.domain.observation_csv import parse_observations_csv

pytestmark = pytest.mark.unit

INDICATORS = {
    "asb_incidents": IndicatorRules(
        "asb_incidents", Unit.COUNT, Frequency.QUARTERLY, Source.POLICE
    ),
    "feel_safe_day": IndicatorRules(
        "feel_safe_day", Unit.PERCENT, Frequency.SURVEY_WAVE, Source.SURVEY
    ),
}
AREAS = {"NP", "NO", "MBRO"}
HEADER = "indicator_code,area_code,period_start,period_end,period_label,value,sample_size\n"


def parse(body: str):  # type: ignore[no-untyped-def]
    return parse_observations_csv(HEADER + body, INDICATORS, AREAS)


def test_good_rows_are_parsed_with_optional_columns() -> None:
    rows, problems = parse(
        "asb_incidents,NP,2020-04-01,2020-06-30,,523,\n"
        "feel_safe_day,NO,2020-09-01,2020-09-30,Wave 1 (Sep 2020),32.61,46\n"
    )
    assert problems == []
    assert [row.line for row in rows] == [2, 3]
    survey = rows[1].observation
    assert (survey.period_start, survey.value, survey.sample_size) == (date(2020, 9, 1), 32.61, 46)
    assert survey.period_label == "Wave 1 (Sep 2020)"
    assert rows[0].observation.period_label is None


def test_every_bad_row_is_reported_with_line_field_and_reason() -> None:
    rows, problems = parse(
        "asb_incidents,NP,2020-04-01,2020-06-30,,523,\n"
        "asb_incidents,XX,2020-04-01,2020-06-30,,523,\n"
        "unknown,NP,2020-04-01,2020-06-30,,1,\n"
        "asb_incidents,NP,2020-13-01,2020-06-30,,1,\n"
        "asb_incidents,NO,2020-04-01,2020-06-30,,,\n"
        "asb_incidents,NO,2020-05-01,2020-07-31,,5,\n"
        "feel_safe_day,NP,2020-09-01,2020-09-30,,140,93\n"
        "asb_incidents,NP,2020-04-01,2020-06-30,,600,\n"
    )
    assert [row.line for row in rows] == [2]
    assert [(p.line, p.field) for p in problems] == [
        (3, "area_code"),
        (4, "indicator_code"),
        (5, "period_start"),
        (6, "value"),
        (7, "period_start"),
        (8, "value"),
        (9, "period_start"),
    ]
    assert problems[-1].reason == "repeats the row on line 2"
    assert problems[3].reason == "is required"


def test_header_problems_stop_before_any_row() -> None:
    rows, problems = parse_observations_csv(
        "indicator_code,area,value,colour\nx,y,1,red\n", INDICATORS, AREAS
    )
    assert rows == []
    assert {(p.line, p.field, p.reason) for p in problems} >= {
        (1, "area_code", "required column is missing"),
        (1, "colour", "unknown column"),
    }
    assert parse_observations_csv("", INDICATORS, AREAS)[1][0].reason == "the file is empty"


def test_blank_lines_are_skipped_and_extra_cells_refused() -> None:
    rows, problems = parse("\nasb_incidents,NP,2020-04-01,2020-06-30,,523,,extra\n")
    assert rows == []
    assert [(p.line, p.field) for p in problems] == [(3, "row")]
