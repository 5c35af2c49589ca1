"""The load generator, run in its own process so it never shares a loop with a server.

    python -m bench._load URL --kind intake|list --seconds 5 --concurrency 32 --token T

Keeps `concurrency` connections busy for `seconds` and prints one JSON object: requests, errors
(by status), requests/s, p50/p99 latency in ms and its own CPU seconds (to show it is not the
bottleneck).
"""

import argparse
import asyncio
import itertools
import json
import resource
import sys
import time
import uuid

import aiohttp

CATEGORIES = [["anti_social_behaviour"], ["fly_tipping"], ["hmo"], ["litter", "noise"]]
LOCALITIES = ("NO", "NP", "DNC", "DNN")


def referral(number: int) -> dict:
    """A realistic partner-system intake; places repeat so repeat detection finds matches."""
    return {
        "locality_code": LOCALITIES[number % len(LOCALITIES)],
        "channel": "partner_system",
        "category_codes": CATEGORIES[number % len(CATEGORIES)],
        "summary": f"Benchmark referral {number}",
        "description": "Reported through the partner system during a load test.",
        "referrer": {"organisation": "Bench Police", "contact": "bench@example.org"},
        "subject": {
            "place": {
                "address": f"{number % 5000} Bench Street",
                "uprn": str(100000000 + number % 5000),
            }
        },
        "lawful_basis": "crime_and_disorder_act_s115",
        "external_ref": f"BENCH-{number}",
    }


def percentile(values: list[float], share: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * share), len(ordered) - 1)] * 1000


async def drive(url: str, kind: str, seconds: float, concurrency: int, token: str) -> dict:
    headers = {"Authorization": f"Bearer {token}"}
    latencies: list[float] = []
    statuses: dict[str, int] = {}
    numbers = itertools.count(int(time.time() * 1000) % 10_000_000)
    expected = 201 if kind == "intake" else 200
    timeout = aiohttp.ClientTimeout(total=30)
    connector = aiohttp.TCPConnector(limit=concurrency)
    async with aiohttp.ClientSession(connector=connector, headers=headers, timeout=timeout) as http:
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            started = time.perf_counter()
            try:
                if kind == "intake":
                    request = http.post(
                        url + "/api/v1/referrals",
                        json=referral(next(numbers)),
                        headers={"Idempotency-Key": uuid.uuid4().hex},
                    )
                else:
                    request = http.get(url + "/api/v1/referrals?locality_code=NP&limit=20")
                async with request as response:
                    await response.read()
                    status = str(response.status)
            except (TimeoutError, aiohttp.ClientError) as error:
                status = type(error).__name__
            latencies.append(time.perf_counter() - started)
            statuses[status] = statuses.get(status, 0) + 1

        async def worker() -> None:
            while time.perf_counter() < deadline:
                await one()

        started = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return {
        "requests": len(latencies),
        "errors": sum(n for status, n in statuses.items() if status != str(expected)),
        "statuses": statuses,
        "req_s": len(latencies) / wall,
        "p50_ms": percentile(latencies, 0.50),
        "p99_ms": percentile(latencies, 0.99),
        "wall_s": wall,
        "load_cpu_s": usage.ru_utime + usage.ru_stime,
    }


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m bench._load")
    parser.add_argument("url")
    parser.add_argument("--kind", choices=["intake", "list"], required=True)
    parser.add_argument("--seconds", type=float, default=5.0)
    parser.add_argument("--concurrency", type=int, default=32)
    parser.add_argument("--token", default="")
    args = parser.parse_args()
    result = asyncio.run(drive(args.url, args.kind, args.seconds, args.concurrency, args.token))
    sys.stdout.write(json.dumps(result))
    return 0


if __name__ == "__main__":
    sys.exit(main())
