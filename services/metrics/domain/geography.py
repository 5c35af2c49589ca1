"""Wards and LSOAs of each locality, read from the ONS lookup CSV (no I/O).

The ONS publishes an LSOA -> ward -> local authority lookup each year; its columns carry the
year in their names (`LSOA21CD`, `WD23CD`, `LAD23CD`, ...). Which ward belongs to which
locality is a local decision the ONS does not publish, so it comes from a second, small CSV
(`ward_code,locality_code`). Only the wards named there, and their LSOAs, are kept.
"""

import csv
import io
import re
from collections.abc import Set
from dataclasses import dataclass
from datetime import date

WARD_GSS = re.compile(r"^E05\d{6}$")
LSOA_GSS = re.compile(r"^E01\d{6}$")
AUTHORITY_GSS = re.compile(r"^E0[6-9]\d{6}$")
# Any GSS code (England, Wales, Scotland, Northern Ireland): a national lookup has them all.
ANY_GSS = re.compile(r"^[EWSN]\d{8}$")
# Something meant as a GSS code (a letter and digits), as opposed to a locality code like NP.
GSS_LIKE = re.compile(r"^[EWSN]\d+$")
LOOKUP_COLUMN = re.compile(r"^(LSOA|WD|LAD)(\d{2})(CD|NM)$", re.IGNORECASE)
NEEDED_COLUMNS = (("LSOA", "CD"), ("LSOA", "NM"), ("WD", "CD"), ("WD", "NM"), ("LAD", "CD"))


class GeographyFileError(ValueError):
    """A lookup or locality map that cannot be used; `problems` name each line."""

    def __init__(self, problems: list[tuple[int, str]]) -> None:
        super().__init__("; ".join(f"line {line}: {reason}" for line, reason in problems))
        self.problems = problems


@dataclass(frozen=True, slots=True)
class LookupRow:
    lsoa_code: str
    lsoa_name: str
    ward_code: str
    ward_name: str
    authority_code: str


@dataclass(frozen=True, slots=True)
class GeographyArea:
    gss_code: str
    kind: str  # "ward" | "lsoa"
    name: str
    locality_code: str
    ward_gss_code: str | None  # the ward an LSOA lies in
    authority_gss_code: str


def gss_kind(code: str) -> str | None:
    """'ward' or 'lsoa' for a well-formed code of either, else None."""
    if WARD_GSS.match(code):
        return "ward"
    if LSOA_GSS.match(code):
        return "lsoa"
    return None


def lookup_columns(header: list[str]) -> dict[tuple[str, str], str]:
    """The column to read for each needed (prefix, suffix); the latest year when several."""
    best: dict[tuple[str, str], tuple[int, str]] = {}
    for name in header:
        match = LOOKUP_COLUMN.match(name.strip())
        if not match:
            continue
        key = (match[1].upper(), match[3].upper())
        year = int(match[2])
        if key not in best or year > best[key][0]:
            best[key] = (year, name)
    missing = [f"{p}yy{s}" for p, s in NEEDED_COLUMNS if (p, s) not in best]
    if missing:
        raise GeographyFileError(
            [(1, f"missing columns like {', '.join(missing)} (e.g. LSOA21CD)")]
        )
    return {key: name for key, (_, name) in best.items()}


def parse_ons_lookup(text: str) -> list[LookupRow]:
    """Every row of the lookup; any malformed code refuses the file, naming each line."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    columns = lookup_columns(list(reader.fieldnames or []))
    rows: list[LookupRow] = []
    problems: list[tuple[int, str]] = []
    for line, record in enumerate(reader, start=2):
        values = {key: (record.get(name) or "").strip() for key, name in columns.items()}
        row = LookupRow(
            lsoa_code=values[("LSOA", "CD")],
            lsoa_name=values[("LSOA", "NM")],
            ward_code=values[("WD", "CD")],
            ward_name=values[("WD", "NM")],
            authority_code=values[("LAD", "CD")],
        )
        bad = [
            f"{column} {code!r} is not a GSS code"
            for column, code in (
                (columns[("LSOA", "CD")], row.lsoa_code),
                (columns[("WD", "CD")], row.ward_code),
                (columns[("LAD", "CD")], row.authority_code),
            )
            if not ANY_GSS.match(code)
        ]
        problems.extend((line, reason) for reason in bad)
        if not bad:
            rows.append(row)
    if problems:
        raise GeographyFileError(problems)
    return rows


def parse_locality_map(text: str, locality_codes: Set[str]) -> dict[str, str]:
    """ward code -> locality code from `ward_code,locality_code`; bad lines refuse the file."""
    reader = csv.DictReader(io.StringIO(text.lstrip("\ufeff")))
    header = [name.strip() for name in reader.fieldnames or []]
    if header[:2] != ["ward_code", "locality_code"]:
        raise GeographyFileError([(1, "the header must be ward_code,locality_code")])
    wards: dict[str, str] = {}
    problems: list[tuple[int, str]] = []
    for line, record in enumerate(reader, start=2):
        ward = (record.get("ward_code") or "").strip()
        locality = (record.get("locality_code") or "").strip()
        if not WARD_GSS.match(ward):
            problems.append((line, f"ward_code {ward!r} is not a ward GSS code (E05 and 6 digits)"))
        if locality not in locality_codes:
            problems.append((line, f"locality_code {locality!r} is not a configured locality"))
        if ward in wards and wards[ward] != locality:
            problems.append((line, f"ward {ward} is already in locality {wards[ward]}"))
        wards.setdefault(ward, locality)
    if problems:
        raise GeographyFileError(problems)
    return wards


def assign_to_localities(
    lookup: list[LookupRow], ward_localities: dict[str, str]
) -> list[GeographyArea]:
    """The wards of the map and their LSOAs; a mapped ward absent from the lookup refuses."""
    missing = sorted(set(ward_localities) - {row.ward_code for row in lookup})
    if missing:
        raise GeographyFileError([(0, f"wards not in the ONS lookup: {', '.join(missing)}")])
    areas: dict[str, GeographyArea] = {}
    for row in lookup:
        locality = ward_localities.get(row.ward_code)
        if locality is None:
            continue
        areas.setdefault(
            row.ward_code,
            GeographyArea(row.ward_code, "ward", row.ward_name, locality, None, row.authority_code),
        )
        areas[row.lsoa_code] = GeographyArea(
            row.lsoa_code, "lsoa", row.lsoa_name, locality, row.ward_code, row.authority_code
        )
    return sorted(areas.values(), key=lambda area: (area.kind, area.gss_code))


@dataclass(frozen=True, slots=True)
class PartValue:
    """A current observation of a ward or LSOA."""

    area_code: str
    period_start: date
    period_end: date
    period_label: str
    value: float


@dataclass(frozen=True, slots=True)
class RolledUpValue:
    period_start: date
    period_end: date
    period_label: str
    value: float
    level: str  # "ward" | "lsoa": the level summed
    parts: int  # how many wards (or LSOAs) had a figure
    of: int  # how many the locality has at that level


def roll_up_counts(
    values: list[PartValue], ward_codes: Set[str], lsoa_codes: Set[str]
) -> list[RolledUpValue]:
    """Per period, the sum of the wards' counts, or of the LSOAs' when no ward has a figure.

    Never both levels in one period: LSOAs lie within wards, so adding both would count the
    same incidents twice. Only counts add up; the caller refuses percentages and rates.
    """
    by_period: dict[date, list[PartValue]] = {}
    for value in values:
        by_period.setdefault(value.period_start, []).append(value)
    rolled: list[RolledUpValue] = []
    for start in sorted(by_period):
        wards = [v for v in by_period[start] if v.area_code in ward_codes]
        level, parts, of = (
            ("ward", wards, len(ward_codes))
            if wards
            else (
                "lsoa",
                [v for v in by_period[start] if v.area_code in lsoa_codes],
                len(lsoa_codes),
            )
        )
        if not parts:
            continue
        rolled.append(
            RolledUpValue(
                period_start=start,
                period_end=max(v.period_end for v in parts),
                period_label=parts[0].period_label,
                value=sum(v.value for v in parts),
                level=level,
                parts=len(parts),
                of=of,
            )
        )
    return rolled
