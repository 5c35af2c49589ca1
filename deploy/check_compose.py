"""Static checks of docker-compose.yml and deploy/Dockerfile, for machines without a Docker engine.

Catches what drifts when code changes: a service's environment variable that no Settings class
reads, a command naming an app that does not exist, a Dockerfile COPY of a missing path, a
dependency that is not pinned, a depends_on naming no service; and what production needs: images
pinned by version and digest, resource limits, log rotation, only the proxy publishing ports,
migrations run once before the apps, no password inside a URL. `python -m deploy.check_compose`.
"""

import importlib
import re
import sys
import tomllib
from pathlib import Path

import yaml
from pydantic_settings import BaseSettings

from shared.settings import REPO_ROOT

APP_SERVICES = ("referrals", "actionplans", "metrics", "gateway")
EDGE_PROXY = "proxy"
DIGEST_PINNED = re.compile(r"^[\w./-]+:[\w.-]+@sha256:[0-9a-f]{64}$")
PASSWORD_IN_URL = re.compile(r"://[^/@\s]*:[^/@\s]+@")
# Read by the process itself rather than a Settings class (shared/logs.py).
PROCESS_VARIABLES = {"LOG_LEVEL", "KAFKA_LOG_LEVEL"}


def settings_variables(settings_class: type[BaseSettings]) -> set[str]:
    """Every environment variable a Settings class reads."""
    prefix = settings_class.model_config.get("env_prefix", "") or ""
    names = set()
    for name, field in settings_class.model_fields.items():
        alias = field.validation_alias
        choices = getattr(alias, "choices", None)
        if choices:
            names |= {str(choice).upper() for choice in choices}
        else:
            names.add(f"{prefix}{name}".upper())
    return names


def check_compose(compose: dict, root: Path) -> list[str]:
    problems: list[str] = []
    services = compose.get("services", {})
    for name in (*APP_SERVICES, "kafka", "postgres", "redis", "migrate", EDGE_PROXY):
        if name not in services:
            problems.append(f"service {name!r} is missing")
    for name, service in services.items():
        problems += _check_dependencies(name, service, services)
        problems += _check_production_shape(name, service)
        if name in APP_SERVICES:
            problems += _check_app_service(name, service, root)
    if "migrate" in services:
        problems += _check_environment("migrate", services["migrate"], all_variables())
    for secret in compose.get("secrets", {}).values():
        if "file" in secret and not secret["file"].startswith("./deploy/secrets/"):
            problems.append(f"secret file {secret['file']} is outside deploy/secrets")
    return problems


def _check_dependencies(name: str, service: dict, services: dict) -> list[str]:
    depends = service.get("depends_on", {})
    return [f"{name}: depends_on unknown service {dep!r}" for dep in depends if dep not in services]


def _check_production_shape(name: str, service: dict) -> list[str]:
    problems = []
    if "build" not in service and not DIGEST_PINNED.match(service.get("image", "")):
        problems.append(f"{name}: image is not pinned by version and digest")
    if not service.get("deploy", {}).get("resources", {}).get("limits"):
        problems.append(f"{name}: no deploy.resources.limits")
    if not service.get("logging", {}).get("options", {}).get("max-size"):
        problems.append(f"{name}: logs are not rotated (logging.options.max-size)")
    if service.get("ports") and name != EDGE_PROXY:
        problems.append(f"{name}: publishes ports; only the {EDGE_PROXY} may")
    for variable, value in (service.get("environment") or {}).items():
        if PASSWORD_IN_URL.search(str(value)):
            problems.append(f"{name}: {variable} carries a password inside a URL")
    if name in APP_SERVICES:
        env = service.get("environment", {})
        if str(env.get(f"{name.upper()}_MIGRATE_ON_STARTUP", "true")).lower() != "false":
            problems.append(f"{name}: migrates on start; the migrate service does that once")
        if service.get("depends_on", {}).get("migrate", {}).get("condition") != (
            "service_completed_successfully"
        ):
            problems.append(f"{name}: does not wait for the migrate service to complete")
    return problems


def _check_app_service(name: str, service: dict, root: Path) -> list[str]:
    problems = []
    build = service.get("build", {})
    if not (root / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).exists():
        problems.append(f"{name}: Dockerfile not found")
    command = " ".join(service.get("command", []))
    if f"-m services.{name} serve" not in command:
        problems.append(f"{name}: command does not run `python -m services.{name} serve`")
    if not hasattr(importlib.import_module(f"services.{name}.main"), "create_app"):
        problems.append(f"{name}: services.{name}.main has no create_app")
    settings_class = importlib.import_module(f"services.{name}.config").Settings
    return problems + _check_environment(
        name, service, settings_variables(settings_class) | PROCESS_VARIABLES
    )


def _check_environment(name: str, service: dict, known: set[str]) -> list[str]:
    return [
        f"{name}: environment variable {variable} is read by nothing"
        for variable in service.get("environment", {})
        if variable not in known
    ]


def all_variables() -> set[str]:
    """What any service reads: the migrate service sets every service's database settings."""
    names = set(PROCESS_VARIABLES)
    for name in APP_SERVICES:
        names |= settings_variables(importlib.import_module(f"services.{name}.config").Settings)
    return names


def check_dockerfile(dockerfile: Path, root: Path) -> list[str]:
    problems = []
    text = dockerfile.read_text()
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for path in source.split():
            if not (root / path).exists():
                problems.append(f"Dockerfile: COPY source {path} does not exist")
    if "USER " not in text:
        problems.append("Dockerfile: runs as root")
    bases = re.findall(r"^FROM (\S+)", text, re.MULTILINE)
    if not bases or not all(DIGEST_PINNED.match(base) for base in bases):
        problems.append("Dockerfile: base image is not pinned by version and digest")
    if not re.search(r"^HEALTHCHECK .*\\\n\s+CMD \[", text, re.MULTILINE):
        problems.append("Dockerfile: HEALTHCHECK is not in exec form")
    return problems


def check_pins(root: Path) -> list[str]:
    """Every direct dependency has an exact pin in constraints.txt."""
    project = tomllib.loads((root / "pyproject.toml").read_text())["project"]
    requirements = project["dependencies"] + project["optional-dependencies"]["dev"]
    pinned = {
        line.split("==")[0].strip().lower().replace("_", "-")
        for line in (root / "constraints.txt").read_text().splitlines()
        if "==" in line
    }
    problems = []
    for requirement in requirements:
        name = re.split(r"[\[<>=!~ ]", requirement, maxsplit=1)[0].lower().replace("_", "-")
        if name not in pinned:
            problems.append(f"{name} is not pinned in constraints.txt")
    return problems


def run_checks(root: Path = REPO_ROOT) -> list[str]:
    compose = yaml.safe_load((root / "docker-compose.yml").read_text())
    return (
        check_compose(compose, root)
        + check_dockerfile(root / "deploy" / "Dockerfile", root)
        + check_pins(root)
    )


def main() -> int:
    problems = run_checks()
    for problem in problems:
        print(problem)
    print(
        "docker-compose.yml, deploy/Dockerfile, constraints.txt: "
        + ("OK" if not problems else f"{len(problems)} problem(s)")
    )
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
