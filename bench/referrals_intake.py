"""Intake throughput of the referrals service on SQLite and on PostgreSQL, side by side.

Starts the service twice with uvicorn on free loopback ports (one per database engine, both
publishing through their outbox to one local Tansu broker), then drives each with the same
bounded number of concurrent `POST /api/v1/referrals` calls, alternating engines round by
round so machine noise hits both alike. Prints requests/s, p50 and p99 per engine and the
ratio between them.

    python -m bench.referrals_intake [--requests 400] [--concurrency 16] [--rounds 3]
"""

import argparse
import asyncio
import os
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from pathlib import Path
from typing import BinaryIO

import asyncpg
import httpx

from deploy.local.broker import TansuBroker, free_port
from shared.auth import ensure_signing_keypair, mint_token
from shared.settings import REPO_ROOT

ISSUER, AUDIENCE = "locality-hub-bench", "locality-hub-api"
PG_HOST = os.environ.get("POSTGRES_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("POSTGRES_PORT", "5432"))
PG_USER = os.environ.get("POSTGRES_USER", "postgres")
CATEGORIES = [["anti_social_behaviour"], ["fly_tipping"], ["hmo"], ["litter", "noise"]]


@asynccontextmanager
async def postgres_database() -> AsyncIterator[str]:
    name = f"lh_bench_{uuid.uuid4().hex[:12]}"
    admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
    await admin.execute(f'CREATE DATABASE "{name}"')
    await admin.close()
    try:
        yield f"postgresql+asyncpg://{PG_USER}@{PG_HOST}:{PG_PORT}/{name}"
    finally:
        admin = await asyncpg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, database="postgres")
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()


@asynccontextmanager
async def running_service(
    label: str, database_url: str, data_dir: Path, public_key: Path, kafka: str
) -> AsyncIterator[str]:
    """The referrals service under uvicorn on a free port; yields its base URL."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(REPO_ROOT),
        "DATA_DIR": str(data_dir / label),
        "REFERRALS_DATABASE_URL": database_url,
        "KAFKA_BOOTSTRAP_SERVERS": kafka,
        "AUTH_PUBLIC_KEY_FILE": str(public_key),
        "AUTH_ISSUER": ISSUER,
        "AUTH_AUDIENCE": AUDIENCE,
    }
    process, log = spawn_service(port, env, data_dir / f"{label}.log")
    url = f"http://127.0.0.1:{port}"
    try:
        await wait_ready(url, process, log.name)
        yield url
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
        log.close()


def spawn_service(
    port: int, env: dict[str, str], log_path: Path
) -> tuple[subprocess.Popen[bytes], BinaryIO]:
    log = open(log_path, "wb")  # noqa: SIM115 - closed when the service stops
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "uvicorn",
            "services.referrals.main:create_app",
            "--factory",
            "--host",
            "127.0.0.1",
            "--port",
            str(port),
            "--no-access-log",
            "--log-level",
            "warning",
        ],
        cwd=REPO_ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    return process, log


def log_tail(log_path: str) -> str:
    return Path(log_path).read_text(errors="replace")[-3000:]


async def wait_ready(url: str, process: subprocess.Popen[bytes], log_path: str) -> None:
    async with httpx.AsyncClient(timeout=2) as client:
        for _ in range(600):
            if process.poll() is not None:
                raise RuntimeError(f"service exited:\n{log_tail(log_path)}")
            try:
                if (await client.get(url + "/readyz")).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            await asyncio.sleep(0.1)
    raise TimeoutError(f"{url} not ready")


def referral(number: int) -> dict:
    locality = ("NO", "NP", "DNC", "DNN")[number % 4]
    return {
        "locality_code": locality,
        "channel": "partner_system",
        "category_codes": CATEGORIES[number % len(CATEGORIES)],
        "summary": f"Benchmark referral {number}",
        "description": "Reported through the partner system during a load test.",
        "referrer": {"organisation": "Bench Police", "contact": "bench@example.org"},
        "subject": {
            "place": {
                "address": f"{number % 500} Bench Street",
                "uprn": str(100000000 + number % 500),
            }
        },
        "lawful_basis": "crime_and_disorder_act_s115",
        "external_ref": f"BENCH-{number}",
    }


async def drive(url: str, token: str, requests: int, concurrency: int) -> tuple[float, list[float]]:
    """Send `requests` intakes with at most `concurrency` in flight; (elapsed s, latencies s)."""
    latencies: list[float] = []
    counter = iter(range(requests))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    headers = {"Authorization": f"Bearer {token}"}
    async with httpx.AsyncClient(
        base_url=url, limits=limits, timeout=60, headers=headers
    ) as client:

        async def worker() -> None:
            for number in counter:
                started = time.perf_counter()
                response = await client.post(
                    "/api/v1/referrals",
                    json=referral(number),
                    headers={"Idempotency-Key": uuid.uuid4().hex},
                )
                latencies.append(time.perf_counter() - started)
                if response.status_code != 201:
                    raise RuntimeError(f"{response.status_code}: {response.text[:300]}")

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        return time.perf_counter() - started, latencies


def percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


async def main(requests: int, concurrency: int, rounds: int) -> None:
    with tempfile.TemporaryDirectory(prefix="referrals-bench-") as scratch:
        data_dir = Path(scratch)
        private_key, public_key = ensure_signing_keypair(data_dir / "keys")
        token = mint_token(
            private_key.read_bytes(),
            organisation="BENCH-POLICE",
            scopes="referrals:read referrals:write",
            issuer=ISSUER,
            audience=AUDIENCE,
            ttl_s=3600,
        )
        broker = TansuBroker(log_file=data_dir / "tansu.log").start()
        try:
            async with AsyncExitStack() as stack:
                pg_url = await stack.enter_async_context(postgres_database())
                urls = {
                    "sqlite": await stack.enter_async_context(
                        running_service(
                            "sqlite",
                            f"sqlite+aiosqlite:///{data_dir / 'bench.sqlite3'}",
                            data_dir,
                            public_key,
                            broker.bootstrap_servers,
                        )
                    ),
                    "postgresql": await stack.enter_async_context(
                        running_service(
                            "postgresql", pg_url, data_dir, public_key, broker.bootstrap_servers
                        )
                    ),
                }
                for url in urls.values():  # warm up connections, caches and the JIT-less paths
                    await drive(url, token, 50, concurrency)
                elapsed = {name: 0.0 for name in urls}
                latencies: dict[str, list[float]] = {name: [] for name in urls}
                for round_number in range(rounds):
                    order = list(urls) if round_number % 2 == 0 else list(reversed(urls))
                    for name in order:
                        seconds, measured = await drive(urls[name], token, requests, concurrency)
                        elapsed[name] += seconds
                        latencies[name] += measured
        finally:
            broker.stop()
    report(elapsed, latencies, requests * rounds, concurrency)


def report(
    elapsed: dict[str, float], latencies: dict[str, list[float]], total: int, concurrency: int
) -> None:
    print(
        f"referrals intake: {total} POST /api/v1/referrals per engine, "
        f"{concurrency} concurrent, loopback, uvicorn (1 worker), outbox to Tansu"
    )
    rates = {}
    for name in elapsed:
        rates[name] = total / elapsed[name]
        p50 = percentile(latencies[name], 0.50) * 1000
        p99 = percentile(latencies[name], 0.99) * 1000
        mean = statistics.fmean(latencies[name]) * 1000
        print(
            f"  {name:<10} {rates[name]:8.1f} req/s   p50 {p50:7.1f} ms   "
            f"p99 {p99:7.1f} ms   mean {mean:7.1f} ms"
        )
    ratio = rates["postgresql"] / rates["sqlite"]
    p99_ratio = percentile(latencies["postgresql"], 0.99) / percentile(latencies["sqlite"], 0.99)
    print(f"  ratio postgresql/sqlite: throughput x{ratio:.2f}, p99 latency x{p99_ratio:.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=400, help="per engine per round")
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    asyncio.run(main(args.requests, args.concurrency, args.rounds))
