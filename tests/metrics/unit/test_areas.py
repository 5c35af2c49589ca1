"""Areas come from configuration: localities with GSS codes, and comparison areas."""

import json
from pathlib import Path

import pytest

from services.metrics.areas import AreasConfigurationError, load_areas

pytestmark = pytest.mark.unit


def test_the_shipped_configuration_has_every_locality_and_both_authorities() -> None:
    areas = load_areas()
    assert {"NO", "NP", "DNN", "DNS", "DNE", "DNC", "MBRO", "DONC"} <= set(areas)
    assert (areas["MBRO"].gss_code, areas["DONC"].gss_code) == ("E06000002", "E08000017")
    assert areas["NP"].authority_code == "MBRO" and areas["DNC"].authority_code == "DONC"
    assert areas["NP"].comparison_area_codes == ("MBRO", "NO")


def write(tmp_path: Path, document: dict) -> tuple[Path, Path]:
    tmp_path.mkdir(exist_ok=True)
    localities = tmp_path / "localities.json"
    newport = {"code": "NP", "name": "Newport", "authority": "Middlesbrough"}
    newport["authority_gss_code"] = "E06000002"
    localities.write_text(json.dumps({"localities": [newport]}))
    areas = tmp_path / "areas.json"
    areas.write_text(json.dumps(document))
    return areas, localities


def test_ward_and_lsoa_codes_must_look_like_gss_codes(tmp_path: Path) -> None:
    good = {
        "authorities": [{"code": "MBRO", "name": "Middlesbrough", "gss_code": "E06000002"}],
        "localities": {"NP": {"ward_gss_codes": ["E05000001"], "lsoa_gss_codes": ["E01000001"]}},
    }
    assert load_areas(*write(tmp_path, good))["NP"].ward_gss_codes == ("E05000001",)
    bad = good | {"localities": {"NP": {"ward_gss_codes": ["E01000001"]}}}
    with pytest.raises(AreasConfigurationError, match="ward"):
        load_areas(*write(tmp_path.joinpath("bad"), bad))


def test_comparison_areas_must_exist(tmp_path: Path) -> None:
    document = {"authorities": [], "localities": {"NP": {"comparison_area_codes": ["NOWHERE"]}}}
    with pytest.raises(AreasConfigurationError, match="NOWHERE"):
        load_areas(*write(tmp_path, document))
