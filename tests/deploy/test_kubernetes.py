"""deploy/k8s renders, validates against the Kubernetes schemas offline, passes checkov with
no failed check, and keeps the promises the issue makes (probes, limits, non-root, ...)."""

import shutil
import subprocess
from pathlib import Path

import pytest
import yaml

from deploy.k8s_render import render, strategic_merge
from shared.settings import REPO_ROOT
from tests.deploy.tools import run_tool

pytestmark = pytest.mark.unit

K8S = REPO_ROOT / "deploy" / "k8s"
PRODUCTION = K8S / "overlays" / "production"
SERVICES = ("gateway", "referrals", "actionplans", "metrics")


@pytest.fixture(scope="module")
def manifests() -> list[dict]:
    return render(PRODUCTION)


@pytest.fixture(scope="module")
def rendered(manifests: list[dict], tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("k8s") / "production.yaml"
    path.write_text(yaml.safe_dump_all(manifests, sort_keys=False))
    return path


def by_kind(manifests: list[dict], kind: str) -> dict[str, dict]:
    return {m["metadata"]["name"]: m for m in manifests if m["kind"] == kind}


def test_the_python_rendering_equals_kubectl_kustomize(manifests: list[dict]) -> None:
    if not shutil.which("kubectl"):
        pytest.skip("kubectl (with its built-in kustomize) is not installed")
    output = subprocess.run(
        ["kubectl", "kustomize", str(PRODUCTION)], capture_output=True, text=True, check=True
    ).stdout
    theirs = {(m["kind"], m["metadata"]["name"]): m for m in yaml.safe_load_all(output) if m}
    ours = {(m["kind"], m["metadata"]["name"]): m for m in manifests}
    assert ours == theirs


def test_every_rendered_manifest_is_valid_for_kubernetes(rendered: Path, tmp_path: Path) -> None:
    result = run_tool("kubernetes-validate", "--strict", "--quiet", str(rendered))
    assert result.returncode == 0, result.stdout + result.stderr
    broken = yaml.safe_load_all(rendered.read_text())
    documents = list(broken)
    documents[0]["spec"] = {"replicaz": 2}
    broken_file = tmp_path / "broken.yaml"
    broken_file.write_text(yaml.safe_dump_all(documents))
    assert run_tool("kubernetes-validate", "--strict", "--quiet", str(broken_file)).returncode


def test_checkov_finds_no_failed_check_and_every_skip_has_a_reason(
    rendered: Path, manifests: list[dict]
) -> None:
    result = run_tool(
        "checkov", "-f", str(rendered), "--framework", "kubernetes", "--compact", "--quiet",
        "--skip-download", "-o", "json",
    )  # fmt: skip
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    summary = yaml.safe_load(result.stdout)["summary"]
    assert summary["failed"] == 0
    assert summary["passed"] > 500
    for manifest in manifests:
        for key, value in manifest["metadata"].get("annotations", {}).items():
            if key.startswith("checkov.io/skip"):
                check, _, reason = value.partition("=")
                assert len(reason) > 40, f"{manifest['metadata']['name']}: {check} needs a reason"


def test_each_service_has_probes_limits_and_runs_locked_down(manifests: list[dict]) -> None:
    deployments = by_kind(manifests, "Deployment")
    assert set(deployments) == set(SERVICES)
    for name, deployment in deployments.items():
        pod = deployment["spec"]["template"]["spec"]
        (container,) = pod["containers"]
        assert container["livenessProbe"]["httpGet"]["path"] == "/livez"
        assert container["readinessProbe"]["httpGet"]["path"] == "/readyz"
        assert container["startupProbe"]["httpGet"]["path"] == "/livez"
        assert {"cpu", "memory"} <= set(container["resources"]["limits"])
        assert {"cpu", "memory"} <= set(container["resources"]["requests"])
        assert pod["securityContext"]["runAsNonRoot"] is True
        assert container["securityContext"]["readOnlyRootFilesystem"] is True
        assert container["securityContext"]["allowPrivilegeEscalation"] is False
        assert f"services.{name}" in container["command"]
        assert "serve" in container["command"]
        mounted_secrets = [v for v in pod["volumes"] if "secret" in v]
        assert mounted_secrets, f"{name}: secrets are mounted as files"
        assert not any("secretKeyRef" in str(env) for env in container.get("env", []))


def test_each_service_has_a_migration_job_an_autoscaler_and_a_disruption_budget(
    manifests: list[dict],
) -> None:
    jobs = by_kind(manifests, "Job")
    config = by_kind(manifests, "ConfigMap")["hub-config"]["data"]
    for name in SERVICES:
        (migrate,) = jobs[f"{name}-migrate"]["spec"]["template"]["spec"]["containers"]
        assert migrate["command"][-2:] == [f"services.{name}", "migrate"]
        assert {"name": f"{name.upper()}_DATABASE_USER", "value": f"{name}_owner"} in migrate["env"]
        assert config[f"{name.upper()}_MIGRATE_ON_STARTUP"] == "false"
        assert by_kind(manifests, "HorizontalPodAutoscaler")[name]["spec"]["minReplicas"] >= 2
        assert by_kind(manifests, "PodDisruptionBudget")[name]["spec"]["minAvailable"] == 1
    assert config["ENVIRONMENT"] == "production"
    assert "*" not in config["FORWARDED_ALLOW_IPS"]


def test_only_the_gateway_is_reachable_from_the_ingress(manifests: list[dict]) -> None:
    policies = by_kind(manifests, "NetworkPolicy")
    assert policies["default-deny"]["spec"] == {
        "podSelector": {}, "policyTypes": ["Ingress", "Egress"],
    }  # fmt: skip
    from_ingress = [
        p for p in policies.values()
        if "ingress-nginx" in str(p["spec"].get("ingress", []))
    ]  # fmt: skip
    assert [p["spec"]["podSelector"] for p in from_ingress] == [
        {"matchLabels": {"app.kubernetes.io/name": "gateway"}}
    ]
    (ingress,) = by_kind(manifests, "Ingress").values()
    assert ingress["spec"]["tls"][0]["secretName"]
    backends = {p["backend"]["service"]["name"] for r in ingress["spec"]["rules"]
                for p in r["http"]["paths"]}  # fmt: skip
    assert backends == {"gateway"}
    redis_egress = [p for p in policies.values() if "6379" in str(p["spec"].get("egress", []))]
    assert [p["spec"]["podSelector"]["matchLabels"] for p in redis_egress] == [
        {"app.kubernetes.io/name": "gateway"}
    ]


def test_the_kafka_topics_are_the_ones_the_services_use() -> None:
    declared = {
        doc["spec"]["topicName"]
        for doc in yaml.safe_load_all((K8S / "strimzi" / "kafka-topics.yaml").read_text())
        if doc
    }
    used: set[str] = set()
    for name in ("referrals", "actionplans", "metrics"):
        spec = __import__(f"services.{name}.main", fromlist=["SPEC"]).SPEC
        used |= set(spec.produced_topics) | set(spec.consumed_topics)
        if spec.consumed_topics:
            used.add(f"{name}.dead-letter")
    assert declared == used


def test_a_patch_merges_named_lists_by_name() -> None:
    base = {"containers": [{"name": "a", "image": "x", "env": [{"name": "K", "value": "1"}]}]}
    patch = {"containers": [{"name": "a", "env": [{"name": "L", "value": "2"}]}]}
    merged = strategic_merge(base, patch)
    assert merged["containers"][0]["image"] == "x"
    assert [e["name"] for e in merged["containers"][0]["env"]] == ["K", "L"]
