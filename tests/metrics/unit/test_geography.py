"""The ONS lookup and the ward -> locality map are parsed strictly; only counts roll up."""

from datetime import date

import pytest

from services.metrics.domain.geography import (
    GeographyFileError,
    PartValue,
    assign_to_localities,
    parse_locality_map,
    parse_ons_lookup,
    roll_up_counts,
)

pytestmark = pytest.mark.unit

LOOKUP_2023 = (
    "\ufeffFID,LSOA21CD,LSOA21NM,WD23CD,WD23NM,LAD23CD,LAD23NM\n"
    "1,E01000001,Middlesbrough 001A,E05000001,Ward One,E06000002,Middlesbrough\n"
    "2,E01000002,Middlesbrough 001B,E05000001,Ward One,E06000002,Middlesbrough\n"
    "3,E01000003,Middlesbrough 002A,E05000002,Ward Two,E06000002,Middlesbrough\n"
    "4,W01000004,Cardiff 001A,W05000004,Welsh Ward,W06000015,Cardiff\n"
)


def test_the_2023_lookup_is_read_by_its_year_suffixed_columns() -> None:
    rows = parse_ons_lookup(LOOKUP_2023)
    first = rows[0]
    assert (first.lsoa_code, first.ward_code, first.authority_code) == (
        "E01000001",
        "E05000001",
        "E06000002",
    )
    assert rows[2].ward_name == "Ward Two" and rows[2].lsoa_name == "Middlesbrough 002A"
    assert len(rows) == 4  # a national lookup has Welsh rows; they are read, not refused


def test_other_years_and_lower_case_headers_are_accepted_and_the_latest_year_wins() -> None:
    text = (
        "lsoa11cd,LSOA11NM,LSOA21CD,LSOA21NM,WD22CD,WD22NM,LAD22CD\n"
        "E01999999,Old,E01000001,New,E05000001,Ward One,E08000017\n"
    )
    (row,) = parse_ons_lookup(text)
    assert (row.lsoa_code, row.lsoa_name, row.authority_code) == (
        "E01000001",
        "New",
        "E08000017",
    )


def test_a_lookup_without_the_ward_columns_is_refused_on_the_header_line() -> None:
    with pytest.raises(GeographyFileError) as refused:
        parse_ons_lookup("LSOA21CD,LSOA21NM,LAD23CD\nE01000001,A,E06000002\n")
    assert refused.value.problems == [(1, "missing columns like WDyyCD, WDyyNM (e.g. LSOA21CD)")]


def test_malformed_codes_are_refused_with_their_line_numbers() -> None:
    text = (
        LOOKUP_2023
        + "5,E0100000X,Bad,E05000001,Ward One,E06000002,M\n6,E01000006,B,,W,E06000002,M\n"
    )
    with pytest.raises(GeographyFileError) as refused:
        parse_ons_lookup(text)
    lines = [line for line, _ in refused.value.problems]
    assert lines == [6, 7]
    assert "LSOA21CD 'E0100000X'" in refused.value.problems[0][1]
    assert "WD23CD ''" in refused.value.problems[1][1]
    assert "line 6" in str(refused.value)


def test_the_locality_map_names_configured_localities_and_ward_codes_only() -> None:
    assert parse_locality_map("ward_code,locality_code\nE05000001,NP\n", {"NP"}) == {
        "E05000001": "NP"
    }
    text = "ward_code,locality_code\nE05000001,NP\nE0500001,NP\nE05000002,XX\nE05000001,NO\n"
    with pytest.raises(GeographyFileError) as refused:
        parse_locality_map(text, {"NP", "NO"})
    assert [line for line, _ in refused.value.problems] == [3, 4, 5]
    with pytest.raises(GeographyFileError, match="line 1"):
        parse_locality_map("ward,locality\nE05000001,NP\n", {"NP"})


def test_only_mapped_wards_and_their_lsoas_are_kept() -> None:
    parts = assign_to_localities(parse_ons_lookup(LOOKUP_2023), {"E05000001": "NP"})
    assert [(p.gss_code, p.kind, p.locality_code, p.ward_gss_code) for p in parts] == [
        ("E01000001", "lsoa", "NP", "E05000001"),
        ("E01000002", "lsoa", "NP", "E05000001"),
        ("E05000001", "ward", "NP", None),
    ]


def test_a_mapped_ward_missing_from_the_lookup_refuses_the_import() -> None:
    with pytest.raises(GeographyFileError, match="E05000099"):
        assign_to_localities(parse_ons_lookup(LOOKUP_2023), {"E05000099": "NP"})


def value(area: str, start: date, figure: float) -> PartValue:
    return PartValue(area, start, start.replace(month=start.month + 2, day=28), "Q", figure)


def test_ward_counts_add_up_and_lsoas_are_used_only_when_no_ward_has_a_figure() -> None:
    q1, q2 = date(2021, 4, 1), date(2021, 7, 1)
    values = [
        value("E05000001", q1, 12),
        value("E05000002", q1, 23),
        value("E01000001", q1, 5),  # inside ward 1: counting it too would count twice
        value("E01000001", q2, 4),
        value("E01000003", q2, 6),
    ]
    rolled = roll_up_counts(
        values, {"E05000001", "E05000002"}, {"E01000001", "E01000002", "E01000003"}
    )
    assert [(r.period_start, r.value, r.level, r.parts, r.of) for r in rolled] == [
        (q1, 35, "ward", 2, 2),
        (q2, 10, "lsoa", 2, 3),
    ]
