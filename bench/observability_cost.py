"""What logging, metrics and (disabled) tracing cost: this tree against an older commit, side by
side in one run.

The older tree is exported with `git archive` into a scratch folder; both trees run with the
same interpreter and packages, each process with its own code. Two measurements, rounds
alternating between the trees so machine noise hits both alike:

- gateway overhead: the gateway in front of the minimal upstream (bench/_echo_upstream.py), POST
  and list read as in bench/gateway_overhead.py; throughput and the gateway's CPU per request;
- referrals intake: `POST /api/v1/referrals` on SQLite, outbox to the broker; throughput, p50,
  p99 and the service's CPU per request;
- the gateway app alone (bench/_gateway_app_cpu.py): its CPU per proxied request with an instant
  upstream, called in-process, the steadiest figure on a loaded machine.

Target: the newer tree within 10% of the older one.

    python -m bench.observability_cost [--before ff0fa26] [--rounds 3] [--requests 2000]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

from bench.gateway_overhead import cpu_seconds, load
from bench.referrals_intake import ISSUER, drive, percentile
from deploy.local.broker import TansuBroker, free_port
from deploy.local.system import wait_for_port_or_exit
from shared.auth import ALL_SCOPES, ensure_signing_keypair, mint_token
from shared.settings import REPO_ROOT

# The last commit before JSON logs, /metrics and tracing came in (issue 12).
DEFAULT_BEFORE = "ff0fa26"
AUDIENCE = "locality-hub-api"


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.observability_cost")
    parser.add_argument("--before", default=DEFAULT_BEFORE, help="git ref of the older tree")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--requests", type=int, default=2000, help="gateway, per round and tree")
    parser.add_argument("--intake-requests", type=int, default=400, help="per round and tree")
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--only", choices=["gateway", "intake", "app"], help="run one of them")
    return parser.parse_args()


def export_tree(ref: str, into: Path) -> Path:
    into.mkdir(parents=True)
    archive = subprocess.run(
        ["git", "archive", ref], cwd=REPO_ROOT, check=True, capture_output=True
    ).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)
    return into


def spawn(tree: Path, target: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            target,
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=tree,
        env={**env, "PYTHONPATH": str(tree)},
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port_or_exit(process, port, target, log.parent)
    return process


def main() -> int:
    args = parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-observability-") as scratch_dir:
        scratch = Path(scratch_dir)
        trees = {"before": export_tree(args.before, scratch / "before"), "after": REPO_ROOT}
        private_key, public_key = ensure_signing_keypair(scratch / "keys")
        broker = TansuBroker(log_file=scratch / "broker.log").start()
        env = {
            **os.environ,
            "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
            "AUTH_PUBLIC_KEY_FILE": str(public_key),
            "AUTH_PRIVATE_KEY_FILE": str(private_key),
            "AUTH_ISSUER": ISSUER,
            "AUTH_AUDIENCE": AUDIENCE,
            "GATEWAY_RATE_LIMIT_QUOTA": "100000000",
        }
        env.pop("OTEL_EXPORTER_OTLP_ENDPOINT", None)
        token = mint_token(
            private_key.read_bytes(),
            organisation="BENCH",
            scopes=ALL_SCOPES,
            issuer=ISSUER,
            audience=AUDIENCE,
            ttl_s=3600,
        )
        try:
            print(f"before = {args.before}, after = this tree; {args.rounds} rounds alternating")
            if args.only in (None, "gateway"):
                gateway_overhead(trees, env, token, scratch, args)
            if args.only in (None, "intake"):
                referrals_intake(trees, env, token, scratch, args)
            if args.only in (None, "app"):
                gateway_app_cpu(trees, args)
        finally:
            broker.stop()
    return 0


def gateway_overhead(
    trees: dict[str, Path], env: dict[str, str], token: str, scratch: Path, args: argparse.Namespace
) -> None:
    processes: dict[str, list[subprocess.Popen]] = {}
    urls = {}
    try:
        for name, tree in trees.items():
            data = scratch / f"gateway-{name}"
            data.mkdir()
            upstream, gateway = free_port(), free_port()
            tree_env = {
                **env,
                "DATA_DIR": str(data),
                "GATEWAY_REFERRALS_URL": f"http://127.0.0.1:{upstream}",
            }
            processes[name] = [
                spawn(tree, "bench._echo_upstream:create_app", upstream, tree_env, data / "u.log"),
                spawn(tree, "services.gateway.main:create_app", gateway, tree_env, data / "g.log"),
            ]
            urls[name] = f"http://127.0.0.1:{gateway}"
        warm = argparse.Namespace(requests=200, concurrency=args.concurrency)
        for url in urls.values():
            load(url, token, warm)
        throughput: dict[str, list[float]] = {name: [] for name in trees}
        cpu = dict.fromkeys(trees, 0.0)
        for number in range(args.rounds):
            for name in trees if number % 2 == 0 else reversed(list(trees)):
                pid = processes[name][1].pid
                before = cpu_seconds(pid)
                throughput[name].append(load(urls[name], token, args)["throughput"])
                cpu[name] += cpu_seconds(pid) - before
    finally:
        for process in (p for group in processes.values() for p in group):
            process.terminate()
            process.wait(timeout=15)
    print(f"\n-- gateway overhead: {args.requests} requests per round, minimal upstream")
    compare(
        {name: statistics.median(values) for name, values in throughput.items()},
        {name: cpu[name] / (args.rounds * args.requests) * 1000 for name in trees},
    )


def referrals_intake(
    trees: dict[str, Path], env: dict[str, str], token: str, scratch: Path, args: argparse.Namespace
) -> None:
    processes: dict[str, subprocess.Popen] = {}
    urls = {}
    try:
        for name, tree in trees.items():
            data = scratch / f"referrals-{name}"
            data.mkdir()
            port = free_port()
            tree_env = {
                **env,
                "DATA_DIR": str(data),
                "REFERRALS_DATABASE_URL": f"sqlite+aiosqlite:///{data / 'r.sqlite3'}",
            }
            target = "services.referrals.main:create_app"
            processes[name] = spawn(tree, target, port, tree_env, data / "r.log")
            urls[name] = f"http://127.0.0.1:{port}"
        asyncio.run(_intake_rounds(urls, processes, token, args))
    finally:
        for process in processes.values():
            process.terminate()
            process.wait(timeout=15)


async def _intake_rounds(
    urls: dict[str, str],
    processes: dict[str, subprocess.Popen],
    token: str,
    args: argparse.Namespace,
) -> None:
    concurrency = 16
    for url in urls.values():
        await drive(url, token, 50, concurrency)
    elapsed = dict.fromkeys(urls, 0.0)
    cpu = dict.fromkeys(urls, 0.0)
    latencies: dict[str, list[float]] = {name: [] for name in urls}
    for number in range(args.rounds):
        for name in urls if number % 2 == 0 else reversed(list(urls)):
            before = cpu_seconds(processes[name].pid)
            seconds, measured = await drive(urls[name], token, args.intake_requests, concurrency)
            cpu[name] += cpu_seconds(processes[name].pid) - before
            elapsed[name] += seconds
            latencies[name] += measured
    total = args.rounds * args.intake_requests
    print(f"\n-- referrals intake: {total} POST per tree, SQLite, {concurrency} concurrent")
    for name in urls:
        print(
            f"  {name:6} p50 {percentile(latencies[name], 0.5) * 1000:6.1f} ms"
            f"  p99 {percentile(latencies[name], 0.99) * 1000:6.1f} ms"
        )
    compare(
        {name: total / elapsed[name] for name in urls},
        {name: cpu[name] / total * 1000 for name in urls},
    )


def gateway_app_cpu(trees: dict[str, Path], args: argparse.Namespace) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AUTH_", "OTEL_"))}
    helper = REPO_ROOT / "bench" / "_gateway_app_cpu.py"
    best: dict[str, float] = {}
    for number in range(args.rounds):
        for name in trees if number % 2 == 0 else reversed(list(trees)):
            output = subprocess.run(
                [sys.executable, str(helper), str(trees[name])],
                env=env,
                check=True,
                capture_output=True,
                text=True,
            ).stdout
            best[name] = min(best.get(name, float("inf")), float(output))
    print("\n-- the gateway app alone: CPU per proxied request, instant upstream (best round)")
    for name, micros in best.items():
        print(f"  {name:6} {micros:6.1f} us")
    print(f"  after/before: x{best['after'] / best['before']:.3f}  (target: within 10%)")


def compare(throughput: dict[str, float], cpu_ms: dict[str, float]) -> None:
    for name in throughput:
        print(f"  {name:6} {throughput[name]:8.1f} req/s   CPU {cpu_ms[name]:.3f} ms per request")
    print(
        f"  after/before: throughput x{throughput['after'] / throughput['before']:.3f}, "
        f"CPU per request x{cpu_ms['after'] / cpu_ms['before']:.3f}  (target: within 10%)"
    )


if __name__ == "__main__":
    sys.exit(main())
