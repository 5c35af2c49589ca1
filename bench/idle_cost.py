"""What the system costs when nobody uses it: each service's CPU over an idle window, and RSS.

Starts the whole system the way `make run` does (`python -m deploy.local.runner`, embedded
SQLite, no demo data) on free ports, waits until the gateway says every upstream is ready, lets
start-up work settle, then reads each process's CPU time from /proc at the start and the end of
the idle window. Target: under 1% of a core per service, under 150 MB RSS each. The issue asks
for 60 s; the default window is 30 s to keep `make bench` short (`--seconds 60` for the full one).

    python -m bench.idle_cost [--seconds 30] [--settle 5]
"""

import argparse
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

from bench._harness import (
    SERVICE_ROOT,
    cpu_seconds,
    machine_load,
    process_tree,
    rss_mb,
    write_results,
)
from deploy.local.broker import free_port

SERVICES = ("gateway", "referrals", "actionplans", "metrics")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m bench.idle_cost")
    parser.add_argument("--seconds", type=float, default=30.0, help="the idle window")
    parser.add_argument("--settle", type=float, default=5.0, help="seconds after ready, unmeasured")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="bench-idle-") as scratch:
        port = free_port()
        command = [sys.executable, "-m", "deploy.local.runner", "--data-dir", scratch]
        command += ["--gateway-port", str(port), "--no-demo"]
        log = Path(scratch, "runner.log").open("wb")  # noqa: SIM115 - closed in finally
        env = {**os.environ, "PYTHONPATH": str(SERVICE_ROOT)}
        runner = subprocess.Popen(
            command, cwd=SERVICE_ROOT, env=env, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_ready(f"http://127.0.0.1:{port}/readyz", runner, Path(scratch, "runner.log"))
            time.sleep(args.settle)
            pids = service_pids(runner.pid)
            before = {name: cpu_seconds(pid) for name, pid in pids.items()}
            started = time.monotonic()
            time.sleep(args.seconds)
            window = time.monotonic() - started
            results = {
                name: {
                    "cpu_percent_of_core": round(
                        100 * (cpu_seconds(pid) - before[name]) / window, 2
                    ),
                    "rss_mb": round(rss_mb(pid), 1),
                }
                for name, pid in pids.items()
            }
        finally:
            runner.send_signal(signal.SIGINT)
            try:
                runner.wait(timeout=30)
            except subprocess.TimeoutExpired:
                runner.kill()
            log.close()
    summary = {
        "module": "idle_cost",
        "window_s": args.seconds,
        "machine": machine_load(),
        "services": results,
    }
    print(f"idle for {args.seconds:.0f} s after {args.settle:.0f} s settling; {summary['machine']}")
    for name, figures in results.items():
        print(
            f"  {name:12} CPU {figures['cpu_percent_of_core']:5.2f}% of a core   "
            f"RSS {figures['rss_mb']:6.1f} MB"
        )
    write_results("idle_cost", summary)
    return 0


def wait_ready(url: str, runner: subprocess.Popen[bytes], log: Path) -> None:
    deadline = time.monotonic() + 180
    with httpx.Client(timeout=2) as client:
        while time.monotonic() < deadline:
            if runner.poll() is not None:
                raise RuntimeError(f"runner exited:\n{log.read_text()[-3000:]}")
            try:
                if client.get(url).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.5)
    raise TimeoutError(f"system not ready:\n{log.read_text()[-3000:]}")


def service_pids(runner_pid: int) -> dict[str, int]:
    """The uvicorn process of each service, found by its command line under the runner."""
    found = {}
    for pid in process_tree(runner_pid):
        try:
            command = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        for name in SERVICES:
            if f"services.{name}.main" in command:
                found[name] = pid
    missing = set(SERVICES) - set(found)
    if missing:
        raise RuntimeError(f"no process found for {sorted(missing)}")
    return found


if __name__ == "__main__":
    sys.exit(main())
