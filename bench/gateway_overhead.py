"""What the gateway costs: the same requests direct to referrals and through the gateway.

One run starts a broker, the referrals service and the gateway as separate processes (loopback
only), then a load generator in another process drives a bounded number of requests at 32
concurrent connections: `POST /api/v1/referrals` and a list read `GET /api/v1/referrals?limit=20`,
alternating
direct and gateway rounds so both see the same machine. It prints throughput and the ratio,
and p50/p99 latency with what the gateway adds. Target: >= 0.5x direct, < 10 ms p99 added.

    python -m bench.gateway_overhead [--requests 2000] [--rounds 3] [--concurrency 32]
    GATEWAY_VERIFIED_TOKEN_CACHE_S=0 python -m bench.gateway_overhead   # a variant
"""

import argparse
import asyncio
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from deploy.local.broker import TansuBroker, free_port
from deploy.local.system import wait_for_port_or_exit
from shared.auth import ALL_SCOPES, ensure_signing_keypair, mint_token
from shared.settings import REPO_ROOT

REFERRAL = {
    "locality_code": "NO",
    "channel": "phone",
    "category_codes": ["anti_social_behaviour"],
    "summary": "Benchmark referral",
}


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.gateway_overhead")
    parser.add_argument("--requests", type=int, default=2000, help="per round and target")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument(
        "--database",
        choices=["postgresql", "sqlite"],
        default="postgresql",
        help="the referrals service's database (PostgreSQL on 127.0.0.1:5432 by default)",
    )
    parser.add_argument("--upstream", choices=["both", "referrals", "minimal"], default="both")
    parser.add_argument("--drive", help=argparse.SUPPRESS)  # internal: the load generator
    parser.add_argument("--token", help=argparse.SUPPRESS)
    return parser.parse_args()


async def drive(base_url: str, token: str, requests: int, concurrency: int) -> dict:
    """Half POSTs, half list reads; latency of each, wall time of all."""
    import aiohttp

    headers = {"Authorization": f"Bearer {token}"}
    latencies: dict[str, list[float]] = {"post": [], "get": []}
    errors = 0
    remaining = requests // 2
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers) as session:

        async def worker() -> None:
            nonlocal remaining, errors
            while remaining > 0:
                remaining -= 1
                started = time.perf_counter()
                async with session.post(base_url + "/api/v1/referrals", json=REFERRAL) as r:
                    await r.read()
                    errors += r.status != 201
                latencies["post"].append(time.perf_counter() - started)
                started = time.perf_counter()
                async with session.get(base_url + "/api/v1/referrals?limit=20") as r:
                    await r.read()
                    errors += r.status != 200
                latencies["get"].append(time.perf_counter() - started)

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    count = len(latencies["post"]) + len(latencies["get"])
    return {"throughput": count / wall, "errors": errors, "latencies": latencies}


def spawn(module: str, port: int, env: dict[str, str], log: Path) -> subprocess.Popen[bytes]:
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            f"{module}:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--loop",
            "uvloop",
            "--http",
            "httptools",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    wait_for_port_or_exit(process, port, module, log.parent)
    return process


def load(url: str, token: str, args: argparse.Namespace) -> dict:
    """Run the load generator in its own process so it does not share the servers' loop."""
    output = subprocess.run(
        [
            sys.executable,
            "-m",
            "bench.gateway_overhead",
            "--drive",
            url,
            "--token",
            token,
            "--requests",
            str(args.requests),
            "--concurrency",
            str(args.concurrency),
        ],
        cwd=REPO_ROOT,
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    return json.loads(output)


def cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process so far (Linux /proc)."""
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] * 1000


def main() -> int:
    args = parse_args()
    if args.drive:
        result = asyncio.run(drive(args.drive, args.token, args.requests, args.concurrency))
        sys.stdout.write(json.dumps(result))
        return 0
    with tempfile.TemporaryDirectory(prefix="bench-gateway-") as scratch:
        if args.database == "sqlite":
            return run(Path(scratch), args, database_url=None)
        name = f"bench_gateway_{os.getpid()}"
        asyncio.run(_postgres(f'CREATE DATABASE "{name}"'))
        try:
            return run(Path(scratch), args, database_url=f"postgresql://postgres@127.0.0.1/{name}")
        finally:
            asyncio.run(_postgres(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


async def _postgres(statement: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(host="127.0.0.1", user="postgres", database="postgres")
    try:
        await connection.execute(statement)
    finally:
        await connection.close()


def run(data_dir: Path, args: argparse.Namespace, *, database_url: str | None) -> int:
    private_key, public_key = ensure_signing_keypair(data_dir / "keys")
    broker = TansuBroker(log_file=data_dir / "broker.log").start()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DATA_DIR": str(data_dir),
        "KAFKA_BOOTSTRAP_SERVERS": broker.bootstrap_servers,
        "AUTH_PUBLIC_KEY_FILE": str(public_key),
        "AUTH_PRIVATE_KEY_FILE": str(private_key),
        "GATEWAY_RATE_LIMIT_QUOTA": "100000000",
    }
    if database_url:
        env["REFERRALS_DATABASE_URL"] = database_url
    token = mint_token(
        private_key.read_bytes(),
        organisation="BENCH",
        scopes=ALL_SCOPES,
        issuer="locality-hub",
        audience="locality-hub-api",
    )
    try:
        scenarios = [
            ("the referrals service", "services.referrals.main"),
            ("a minimal upstream (no database: the gateway's own cost)", "bench._echo_upstream"),
        ]
        if args.upstream != "both":
            scenarios = scenarios[:1] if args.upstream == "referrals" else scenarios[1:]
        for title, upstream in scenarios:
            print(f"\n-- upstream: {title}", flush=True)
            measure(upstream, env, token, data_dir, args)
    finally:
        broker.stop()
    return 0


def measure(
    upstream: str, env: dict[str, str], token: str, data_dir: Path, args: argparse.Namespace
) -> None:
    ports = {"upstream": free_port(), "gateway": free_port()}
    env = {**env, "GATEWAY_REFERRALS_URL": f"http://127.0.0.1:{ports['upstream']}"}
    processes = []
    try:
        processes.append(spawn(upstream, ports["upstream"], env, data_dir / "upstream.log"))
        processes.append(
            spawn("services.gateway.main", ports["gateway"], env, data_dir / "gateway.log")
        )
        targets = {
            "direct": f"http://127.0.0.1:{ports['upstream']}",
            "gateway": f"http://127.0.0.1:{ports['gateway']}",
        }
        warm = argparse.Namespace(requests=200, concurrency=args.concurrency)
        for url in targets.values():
            load(url, token, warm)
        results: dict[str, list[dict]] = {name: [] for name in targets}
        gateway_cpu_s = 0.0
        for _ in range(args.rounds):
            for name, url in targets.items():
                before = cpu_seconds(processes[1].pid)
                results[name].append(load(url, token, args))
                if name == "gateway":
                    gateway_cpu_s += cpu_seconds(processes[1].pid) - before
        report(results, args)
        # CPU time is what contention cannot inflate much: the gateway's own cost per request.
        per_request_ms = gateway_cpu_s / (args.rounds * (args.requests // 2 * 2)) * 1000
        print(f"  gateway CPU per proxied request: {per_request_ms:.2f} ms")
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=15)


def report(results: dict[str, list[dict]], args: argparse.Namespace) -> None:
    print(
        f"{args.rounds} rounds x {args.requests} requests per target, {args.database}, "
        f"{args.concurrency} concurrent connections (POST referral + list read)"
    )
    throughput = {}
    for name, rounds in results.items():
        throughput[name] = statistics.median(r["throughput"] for r in rounds)
        errors = sum(r["errors"] for r in rounds)
        print(f"  {name:8} {throughput[name]:8.0f} req/s (median of rounds)  errors={errors}")
    print(
        f"  throughput ratio gateway/direct: {throughput['gateway'] / throughput['direct']:.2f}x"
        "  (target >= 0.5x)"
    )
    for kind in ("post", "get"):
        merged = {
            name: [v for r in rounds for v in r["latencies"][kind]]
            for name, rounds in results.items()
        }
        p50 = {name: percentile(values, 0.50) for name, values in merged.items()}
        p99 = {name: percentile(values, 0.99) for name, values in merged.items()}
        print(
            f"  {kind.upper():4} p50 direct {p50['direct']:6.1f} ms  gateway {p50['gateway']:6.1f}"
            f" ms  added {p50['gateway'] - p50['direct']:+6.1f} ms"
        )
        print(
            f"  {kind.upper():4} p99 direct {p99['direct']:6.1f} ms  gateway {p99['gateway']:6.1f}"
            f" ms  added {p99['gateway'] - p99['direct']:+6.1f} ms  (target < 10 ms)"
        )


if __name__ == "__main__":
    sys.exit(main())
