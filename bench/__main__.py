"""Run every benchmark, each in a fresh process, and gather one JSON results file and a table.

    python -m bench                      # everything (make bench)
    python -m bench request_path idle_cost --out results.json
    python -m bench --before ../old   # also measure an older checkout in the same rounds

Modules that know the harness write their figures as JSON (bench/_harness.write_results); for
the others the results file keeps what they printed.
"""

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench._harness import SERVICE_ROOT, machine_load
from shared.settings import REPO_ROOT

# (results key, module, arguments): the order is the order of the run.
PLAN: list[tuple[str, str, list[str]]] = [
    ("request_path", "request_path", []),
    (
        "request_path_sqlite16",
        "request_path",
        [
            "--database",
            "sqlite",
            "--concurrency",
            "16",
            "--kinds",
            "intake,list",
            "--targets",
            "anchor,direct,gateway",
        ],
    ),
    (
        "request_path_sqlite64",
        "request_path",
        [
            "--database",
            "sqlite",
            "--concurrency",
            "64",
            "--kinds",
            "intake",
            "--targets",
            "gateway",
            "--rounds",
            "1",
            "--seconds",
            "60",
        ],
    ),
    ("idle_cost", "idle_cost", []),
    ("gateway_overhead", "gateway_overhead", ["--upstream", "minimal"]),
    ("actionplans_summary", "actionplans_summary", []),
    ("metrics_derived", "metrics_derived", []),
    ("metrics_scorecard", "metrics_scorecard", []),
    ("metrics_report", "metrics_report", []),
    ("event_path", "event_path", []),
    ("observability_cost", "observability_cost", []),
    ("referrals_intake", "referrals_intake", []),
]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench")
    parser.add_argument("keys", nargs="*", help="results keys to run (default: all)")
    parser.add_argument("--out", default=str(REPO_ROOT / ".data" / "bench-results.json"))
    parser.add_argument(
        "--before",
        help="another checkout: the request benchmarks also measure its services, same rounds",
    )
    args = parser.parse_args()
    chosen = [step for step in PLAN if not args.keys or step[0] in args.keys]
    collected: dict[str, object] = {
        "started_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()),
        "service_root": "this checkout" if SERVICE_ROOT == REPO_ROOT else "BENCH_SERVICE_ROOT",
        "machine_at_start": machine_load(),
        "benchmarks": {},
    }
    failed = []
    with tempfile.TemporaryDirectory(prefix="bench-results-") as folder:
        for key, module, extra in chosen:
            print(f"\n=== {key}: python -m bench.{module} {' '.join(extra)} ===", flush=True)
            env = {**os.environ, "BENCH_RESULTS_DIR": folder}
            if module == "request_path":
                extra = [*extra, "--name", key]
                if args.before:
                    extra += ["--before", args.before]
            run = subprocess.run(
                [sys.executable, "-m", f"bench.{module}", *extra],
                cwd=REPO_ROOT,
                env=env,
                stdout=subprocess.PIPE,
                text=True,
            )
            print(run.stdout, end="", flush=True)
            written = Path(folder, f"{key}.json")
            result = json.loads(written.read_text()) if written.exists() else {"output": run.stdout}
            result["exit_code"] = run.returncode
            collected["benchmarks"][key] = result  # type: ignore[index]
            if run.returncode != 0:
                failed.append(key)
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(collected, indent=2))
    print_table(collected["benchmarks"])  # type: ignore[arg-type]
    print(f"\nresults: {out}")
    if failed:
        print(f"failed: {', '.join(failed)}", file=sys.stderr)
    return 1 if failed else 0


def print_table(benchmarks: dict[str, dict]) -> None:
    print("\n=== summary ===")
    print(
        f"{'benchmark':24} {'kind':6} {'target':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}"
        f" {'errors':>6}  CPU ms/request"
    )
    for key, result in benchmarks.items():
        for kind, targets in result.get("results", {}).items():
            for target, r in targets.items():
                cpu = ", ".join(f"{n} {ms:.1f}" for n, ms in r["cpu_ms_per_request"].items())
                print(
                    f"{key:24} {kind:6} {target:14} {r['req_s']:8.1f} {r['p50_ms']:8.1f}"
                    f" {r['p99_ms']:8.1f} {r['errors']:6}  {cpu}"
                )
        for name, value in result.get("ratios", {}).items():
            print(f"{key:24} {name}: {value}")
        for name, figures in result.get("services", {}).items():
            print(
                f"{key:24} idle {name:12} CPU {figures['cpu_percent_of_core']:.2f}% of a core,"
                f" RSS {figures['rss_mb']:.0f} MB"
            )


if __name__ == "__main__":
    sys.exit(main())
