"""Areas: localities (from config/localities.json) and comparison areas (from areas.json).

Both files are configuration, read once at start; a wrong file stops the service with a message
naming the entry, rather than serving figures for areas nobody defined.
"""

import json
import re
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from shared.localities import DEFAULT_LOCALITIES_FILE, load_localities

DEFAULT_AREAS_FILE = Path(__file__).parent / "areas.json"
WARD_GSS = re.compile(r"^E05\d{6}$")
LSOA_GSS = re.compile(r"^E01\d{6}$")
AUTHORITY_GSS = re.compile(r"^E0[6-9]\d{6}$")


class AreasConfigurationError(ValueError):
    """The areas configuration is inconsistent."""


@dataclass(frozen=True, slots=True)
class Area:
    code: str
    name: str
    kind: str  # "locality" | "authority"
    gss_code: str | None = None  # the authority's own code for an authority
    authority_code: str | None = None
    ward_gss_codes: tuple[str, ...] = ()
    lsoa_gss_codes: tuple[str, ...] = ()
    comparison_area_codes: tuple[str, ...] = field(default=())


@lru_cache(maxsize=8)
def load_areas(
    areas_file: Path = DEFAULT_AREAS_FILE, localities_file: Path = DEFAULT_LOCALITIES_FILE
) -> dict[str, Area]:
    """Every area by code: authorities first, then localities with their GSS codes."""
    document = json.loads(Path(areas_file).read_text())
    areas: dict[str, Area] = {}
    by_gss: dict[str, str] = {}
    for item in document.get("authorities", []):
        gss = item.get("gss_code") or None
        if gss and not AUTHORITY_GSS.match(gss):
            raise AreasConfigurationError(f"authority {item['code']}: {gss!r} is no GSS code")
        areas[item["code"]] = Area(
            code=item["code"], name=item["name"], kind="authority", gss_code=gss
        )
        if gss:
            by_gss[gss] = item["code"]
    extra = document.get("localities", {})
    for code, locality in load_localities(localities_file).items():
        detail = extra.get(code, {})
        areas[code] = Area(
            code=code,
            name=locality.name,
            kind="locality",
            gss_code=None,
            authority_code=by_gss.get(locality.authority_gss_code or ""),
            ward_gss_codes=_codes(code, detail.get("ward_gss_codes", []), WARD_GSS, "ward"),
            lsoa_gss_codes=_codes(code, detail.get("lsoa_gss_codes", []), LSOA_GSS, "LSOA"),
            comparison_area_codes=tuple(detail.get("comparison_area_codes", [])),
        )
    for area in areas.values():
        unknown = [c for c in area.comparison_area_codes if c not in areas or c == area.code]
        if unknown:
            raise AreasConfigurationError(f"{area.code}: unknown comparison areas {unknown}")
    return areas


def _codes(area: str, codes: list[str], pattern: re.Pattern[str], kind: str) -> tuple[str, ...]:
    bad = [c for c in codes if not pattern.match(c)]
    if bad:
        raise AreasConfigurationError(f"{area}: {bad} are not {kind} GSS codes")
    return tuple(codes)
