"""Alert rules and the dashboard: valid for Prometheus, and only about metrics that exist."""

import json
import os
import re
import shutil
import subprocess

import pytest
import yaml
from prometheus_client import REGISTRY

import shared.metrics  # noqa: F401 - registers the metrics the rules and panels use
from shared.settings import REPO_ROOT

pytestmark = pytest.mark.unit

FOLDER = REPO_ROOT / "deploy" / "observability"
RULES = FOLDER / "alerts.yml"
OUR_PREFIXES = (
    "http_",
    "outbox_",
    "events_",
    "kafka_",
    "db_",
    "dependency_",
    "gateway_",
    "overdue_",
)
SUFFIXES = {"counter": ("_total",), "histogram": ("_bucket", "_sum", "_count"), "gauge": ("",)}


def exposed_names() -> set[str]:
    names = set()
    for family in REGISTRY.collect():
        names |= {family.name + suffix for suffix in SUFFIXES.get(family.type, ("",))}
    return names


def metric_names(expression: str) -> set[str]:
    return {
        token
        for token in re.findall(r"\b[a-z][a-z0-9_]*\b", expression)
        if token.startswith(OUR_PREFIXES)
    }


def rule_expressions() -> dict[str, str]:
    groups = yaml.safe_load(RULES.read_text())["groups"]
    return {rule["alert"]: rule["expr"] for group in groups for rule in group["rules"]}


def panel_expressions() -> dict[str, str]:
    dashboard = json.loads((FOLDER / "dashboard.json").read_text())
    return {
        f"{panel['title']} {target['refId']}": target["expr"]
        for panel in dashboard["panels"]
        for target in panel["targets"]
    }


def test_the_alert_rules_pass_promtool() -> None:
    promtool = shutil.which("promtool")
    if promtool is None:
        if os.environ.get("REQUIRE_PROMTOOL") == "1":
            pytest.fail("promtool is required (REQUIRE_PROMTOOL=1) but not installed")
        pytest.skip("promtool not installed (deploy/observability/ensure-promtool.sh installs it)")
    result = subprocess.run(
        [promtool, "check", "rules", str(RULES)], capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_the_rules_cover_what_operators_must_hear_about() -> None:
    used = set().union(*(metric_names(expr) for expr in rule_expressions().values()))
    for metric in (
        "outbox_oldest_unpublished_age_seconds",
        "kafka_consumer_lag",
        "events_dead_lettered_total",
        "http_requests_total",
        "gateway_breaker_state",
        "overdue_clock_breaches_total",
    ):
        assert metric in used


@pytest.mark.parametrize("source", ["alerts", "dashboard"])
def test_every_metric_named_is_one_the_services_expose(source: str) -> None:
    expressions = rule_expressions() if source == "alerts" else panel_expressions()
    exposed = exposed_names()
    unknown = {
        name: sorted(metric_names(expr) - exposed)
        for name, expr in expressions.items()
        if metric_names(expr) - exposed
    }
    assert unknown == {}
    assert all(metric_names(expr) for expr in expressions.values())
