"""The benchmark modules run end to end with tiny sizes (a smoke test: nothing here is timed)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.harness import postgres_available

REPO = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.e2e


def test_request_path_bench_measures_every_target_of_both_kinds(tmp_path: Path) -> None:
    if not postgres_available():
        pytest.skip("PostgreSQL is not running")
    subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.request_path",
            "--seconds",
            "0.5",
            "--warmup",
            "0.2",
            "--rounds",
            "1",
            "--concurrency",
            "4",
            "--name",
            "smoke",
        ],
        cwd=REPO,
        env={**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)},
        check=True,
        timeout=300,
        capture_output=True,
    )
    results = json.loads((tmp_path / "smoke.json").read_text())
    assert set(results["results"]["intake"]) == {"anchor", "direct", "gateway", "gateway-2w"}
    assert set(results["results"]["list"]) == {"anchor", "direct", "gateway"}
    for targets in results["results"].values():
        for figures in targets.values():
            assert figures["requests"] > 0
            assert figures["errors"] == 0, figures["statuses"]
            assert all(ms > 0 for ms in figures["cpu_ms_per_request"].values())
    assert "intake gateway/direct req/s" in results["ratios"]


def test_idle_cost_bench_reports_cpu_and_rss_of_every_service(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "bench.idle_cost", "--seconds", "1", "--settle", "0"],
        cwd=REPO,
        env={**os.environ, "BENCH_RESULTS_DIR": str(tmp_path)},
        check=True,
        timeout=300,
        capture_output=True,
    )
    services = json.loads((tmp_path / "idle_cost.json").read_text())["services"]
    assert set(services) == {"gateway", "referrals", "actionplans", "metrics"}
    assert all(figures["rss_mb"] > 0 for figures in services.values())
