"""docker-compose.yml and the Dockerfile stay consistent with the code (no engine needed)."""

import copy

import pytest
import yaml

from deploy.check_compose import check_compose, run_checks
from shared.settings import REPO_ROOT

pytestmark = pytest.mark.unit


def load_compose() -> dict:
    return yaml.safe_load((REPO_ROOT / "docker-compose.yml").read_text())


def test_compose_file_dockerfile_and_pins_pass_the_static_checks() -> None:
    assert run_checks() == []


def test_a_variable_no_settings_class_reads_is_reported() -> None:
    compose = copy.deepcopy(load_compose())
    compose["services"]["referrals"]["environment"]["REFERRALS_DATABSE_URL"] = "typo"
    problems = check_compose(compose, REPO_ROOT)
    assert "referrals: environment variable REFERRALS_DATABSE_URL is read by nothing" in problems


def test_a_dependency_on_a_missing_service_is_reported() -> None:
    compose = copy.deepcopy(load_compose())
    compose["services"]["gateway"]["depends_on"]["billing"] = {"condition": "service_started"}
    assert "gateway: depends_on unknown service 'billing'" in check_compose(compose, REPO_ROOT)


def test_every_domain_service_gets_a_postgres_url_and_the_broker() -> None:
    services = load_compose()["services"]
    for name in ("referrals", "actionplans", "metrics"):
        environment = services[name]["environment"]
        assert environment[f"{name.upper()}_DATABASE_URL"].startswith("postgresql://")
        assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
