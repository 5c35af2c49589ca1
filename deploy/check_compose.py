"""Static checks of docker-compose.yml and deploy/Dockerfile, for machines without a Docker engine.

Catches what drifts when code changes: a service's environment variable that no Settings class
reads, a command naming an app that does not exist, a Dockerfile COPY of a missing path, a
dependency that is not pinned, a depends_on naming no service. `python -m deploy.check_compose`.
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
    for name in (*APP_SERVICES, "kafka", "postgres"):
        if name not in services:
            problems.append(f"service {name!r} is missing")
    for name, service in services.items():
        problems += _check_dependencies(name, service, services)
        if name in APP_SERVICES:
            problems += _check_app_service(name, service, root)
    for secret in compose.get("secrets", {}).values():
        if "file" in secret and not secret["file"].startswith("./deploy/secrets/"):
            problems.append(f"secret file {secret['file']} is outside deploy/secrets")
    return problems


def _check_dependencies(name: str, service: dict, services: dict) -> list[str]:
    depends = service.get("depends_on", {})
    return [f"{name}: depends_on unknown service {dep!r}" for dep in depends if dep not in services]


def _check_app_service(name: str, service: dict, root: Path) -> list[str]:
    problems = []
    build = service.get("build", {})
    if not (root / build.get("context", ".") / build.get("dockerfile", "Dockerfile")).exists():
        problems.append(f"{name}: Dockerfile not found")
    command = " ".join(service.get("command", []))
    if f"services.{name}.main:create_app" not in command:
        problems.append(f"{name}: command does not start services.{name}.main:create_app")
    if not hasattr(importlib.import_module(f"services.{name}.main"), "create_app"):
        problems.append(f"{name}: services.{name}.main has no create_app")
    settings_class = importlib.import_module(f"services.{name}.config").Settings
    known = settings_variables(settings_class) | PROCESS_VARIABLES
    for variable in service.get("environment", {}):
        if variable not in known:
            problems.append(f"{name}: environment variable {variable} is read by nothing")
    return problems


def check_dockerfile(dockerfile: Path, root: Path) -> list[str]:
    problems = []
    text = dockerfile.read_text()
    if not re.search(r"^FROM \S+:\S+", text, re.MULTILINE):
        problems.append("Dockerfile: base image has no tag")
    for source in re.findall(r"^COPY (?!--from)(.+) \S+$", text, re.MULTILINE):
        for path in source.split():
            if not (root / path).exists():
                problems.append(f"Dockerfile: COPY source {path} does not exist")
    if "USER " not in text:
        problems.append("Dockerfile: runs as root")
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
