"""Wards and LSOAs: the ONS lookup import command, the locality's areas, ward observations
refused or accepted, and ward counts rolled up to the locality."""

import asyncio
import json
from pathlib import Path
from typing import Any

import pytest
from httpx import AsyncClient

from services.metrics.cli import main
from services.metrics.config import Settings
from tests.harness import TokenMinter

pytestmark = pytest.mark.integration

LOOKUP = (
    "FID,LSOA21CD,LSOA21NM,WD23CD,WD23NM,LAD23CD,LAD23NM\n"
    "1,E01000001,Middlesbrough 001A,E05000001,Ward One,E06000002,Middlesbrough\n"
    "2,E01000002,Middlesbrough 001B,E05000001,Ward One,E06000002,Middlesbrough\n"
    "3,E01000003,Middlesbrough 002A,E05000002,Ward Two,E06000002,Middlesbrough\n"
    "4,E01000004,Middlesbrough 003A,E05000003,Ward Three,E06000002,Middlesbrough\n"
)
LOCALITY_MAP = "ward_code,locality_code\nE05000001,NP\nE05000002,NP\nE05000003,NO\n"
ASB = {
    "code": "asb_incidents",
    "name": "ASB incidents",
    "unit": "count",
    "desired_direction": "down",
    "frequency": "quarterly",
    "source": "police",
}


async def import_lookup(
    settings: Settings,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
    lookup: str = LOOKUP,
) -> tuple[int, Any, str]:
    """Run `python -m services.metrics areas import-ons-lookup` on the test's database:
    the exit code, the JSON printed and what went to stderr."""
    (tmp_path / "lookup.csv").write_text(lookup)
    (tmp_path / "map.csv").write_text(LOCALITY_MAP)
    monkeypatch.setenv("METRICS_DATABASE_URL", settings.database_url or "")
    argv = ["areas", "import-ons-lookup", str(tmp_path / "lookup.csv")]
    argv += ["--locality-map", str(tmp_path / "map.csv"), "--json", "--reason", "ONS 2023 lookup"]
    capsys.readouterr()
    code = await asyncio.to_thread(main, argv)
    out, err = capsys.readouterr()
    return code, json.loads(out) if out.strip() else None, err


async def test_the_ons_lookup_import_gives_each_locality_its_wards_and_lsoas(
    metrics: AsyncClient,
    metrics_settings: Settings,
    mint: TokenMinter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    reader = mint.headers("NP-HUB", "metrics:read")
    before = await metrics.get("/api/v1/localities/NP/areas", headers=reader)
    assert before.status_code == 200 and before.json()["wards"] == []

    code, summary, _ = await import_lookup(metrics_settings, tmp_path, monkeypatch, capsys)
    assert code == 0
    assert summary["localities"] == {"NP": {"wards": 2, "lsoas": 3}, "NO": {"wards": 1, "lsoas": 1}}

    newport = (await metrics.get("/api/v1/localities/NP/areas", headers=reader)).json()
    assert newport["authority_code"] == "MBRO"
    assert [(w["gss_code"], w["name"]) for w in newport["wards"]] == [
        ("E05000001", "Ward One"),
        ("E05000002", "Ward Two"),
    ]
    assert [(s["gss_code"], s["ward_gss_code"]) for s in newport["lsoas"]] == [
        ("E01000001", "E05000001"),
        ("E01000002", "E05000001"),
        ("E01000003", "E05000002"),
    ]
    one_ward = await metrics.get("/api/v1/localities/NP/areas?ward=E05000002", headers=reader)
    assert [s["gss_code"] for s in one_ward.json()["lsoas"]] == ["E01000003"]

    bad = LOOKUP + "5,E01000005,X,E0500000,Broken,E06000002,Middlesbrough\n"
    refused, _, err = await import_lookup(metrics_settings, tmp_path, monkeypatch, capsys, bad)
    assert refused == 1 and "line 6: WD23CD 'E0500000'" in err
    missing = ["areas", "import-ons-lookup", str(tmp_path / "none.csv")]
    missing += ["--locality-map", str(tmp_path / "map.csv")]
    assert await asyncio.to_thread(main, missing) == 2  # an unreadable file: usage error

    assert await asyncio.to_thread(main, ["actions", "list", "--json"]) == 0
    (action,) = json.loads(capsys.readouterr().out)
    assert (action["action"], action["reason"]) == ("areas.import-ons-lookup", "ONS 2023 lookup")
    kept = (await metrics.get("/api/v1/localities/NP/areas", headers=reader)).json()
    assert len(kept["lsoas"]) == 3  # a refused file changes nothing


async def test_unknown_localities_and_malformed_or_foreign_codes_are_refused(
    metrics: AsyncClient,
    metrics_settings: Settings,
    mint: TokenMinter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (await import_lookup(metrics_settings, tmp_path, monkeypatch, capsys))[0] == 0
    reader = mint.headers("NP-HUB", "metrics:read")
    writer = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    await metrics.post("/api/v1/indicators", json=ASB, headers=writer)

    unknown = await metrics.get("/api/v1/localities/XX/areas", headers=reader)
    authority = await metrics.get("/api/v1/localities/MBRO/areas", headers=reader)
    malformed = await metrics.get("/api/v1/localities/NP/areas?ward=E0500001", headers=reader)
    elsewhere = await metrics.get("/api/v1/localities/NP/areas?ward=E05000003", headers=reader)
    assert (unknown.status_code, authority.status_code) == (404, 404)
    assert unknown.headers["content-type"] == "application/problem+json"
    assert (malformed.status_code, malformed.json()["errors"][0]["field"]) == (422, "ward")
    assert elsewhere.status_code == 404

    def asb(area: str) -> dict[str, object]:
        return {
            "indicator_code": "asb_incidents",
            "area_code": area,
            "period_start": "2021-04-01",
            "period_end": "2021-06-30",
            "value": 3,
        }

    for area in ("E0500001", "E05999999", "E01999999"):
        refused = await metrics.post("/api/v1/observations", json=asb(area), headers=writer)
        assert refused.status_code == 422, area
        assert refused.json()["errors"][0]["field"] == "area_code"
    no_hub = mint.headers("NO-HUB", "metrics:read metrics:write")
    not_theirs = await metrics.post("/api/v1/observations", json=asb("E05000001"), headers=no_hub)
    assert not_theirs.status_code == 403  # a Newport ward is Newport's to write


async def test_ward_counts_roll_up_to_the_locality_and_percentages_do_not(
    metrics: AsyncClient,
    metrics_settings: Settings,
    mint: TokenMinter,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    assert (await import_lookup(metrics_settings, tmp_path, monkeypatch, capsys))[0] == 0
    writer = mint.headers("CLEVELAND-POLICE", "metrics:read metrics:write")
    steward = mint.headers("MIDDLESBROUGH-COUNCIL", "metrics:read metrics:write")
    await metrics.post("/api/v1/indicators", json=ASB, headers=steward)
    percent = ASB | {"code": "feel_safe_day", "unit": "percent", "source": "survey"}
    await metrics.post("/api/v1/indicators", json=percent, headers=steward)
    rows = "indicator_code,area_code,period_start,period_end,value\n"
    rows += "asb_incidents,E05000001,2021-04-01,2021-06-30,12\n"
    rows += "asb_incidents,E05000002,2021-04-01,2021-06-30,23\n"
    rows += "asb_incidents,E01000003,2021-07-01,2021-09-30,7\n"
    imported = await metrics.post(
        "/api/v1/observations/import",
        content=rows,
        headers=writer | {"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    one = {
        "indicator_code": "asb_incidents",
        "area_code": "E05000003",  # North Ormesby's ward: not in Newport's sum
        "period_start": "2021-04-01",
        "period_end": "2021-06-30",
        "value": 100,
    }
    assert (await metrics.post("/api/v1/observations", json=one, headers=writer)).status_code == 201

    rolled = await metrics.get(
        "/api/v1/localities/NP/roll-up?indicator=asb_incidents", headers=writer
    )
    assert rolled.status_code == 200
    assert [
        (i["period_start"], i["value"], i["level"], i["parts"], i["of"])
        for i in rolled.json()["items"]
    ] == [
        ("2021-04-01", 35, "ward", 2, 2),
        ("2021-07-01", 7, "lsoa", 1, 3),
    ]
    refused = await metrics.get(
        "/api/v1/localities/NP/roll-up?indicator=feel_safe_day", headers=writer
    )
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (422, "indicator")
    nul = await metrics.get("/api/v1/localities/NP/roll-up?indicator=asb%00", headers=writer)
    assert nul.status_code == 422
    unknown = await metrics.get(
        "/api/v1/localities/XX/roll-up?indicator=asb_incidents", headers=writer
    )
    assert unknown.status_code == 404
