"""The event path: how fast metrics replays referral events, and how soon a 201 becomes a metric.

Part 1, replay: N referral events (received + triaged) wait on a fresh broker; the metrics
consumer (its real handlers, a fresh SQLite or PostgreSQL database) reads them from the start,
applying each poll in one transaction with the service's batch hooks (the default), the same
without the hooks (the handlers one by one inside the transaction) and one event per
transaction, side by side. Prints events/s and the ratio. Target: >= 2,000 events/s batched.

Part 2, latency: the whole system as `make run` starts it (broker, services, gateway, SQLite);
referrals are created through the gateway at a fixed offered rate. For each one: 201 -> outbox
row published (acknowledged by the broker), and 201 -> its fact in the metrics database.
Prints achieved rate and p50/p99 of each, for each consumer fetch wait given, side by side.
Target: at 100 referrals/s, p99 from 201 to metric under 250 ms.

    python -m bench.event_path [--events 10000] [--database sqlite|postgresql]
                               [--rate 100] [--seconds 20] [--fetch-waits 500,250,100]
"""

import argparse
import asyncio
import sqlite3
import statistics
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx
from sqlalchemy import func, select

from deploy.local.broker import TansuBroker
from deploy.local.system import LocalSystem, SystemConfig
from services.metrics.main import SPEC as METRICS_SPEC
from services.metrics.models import ProcessedEvent
from services.metrics.service.consumed import HANDLERS
from shared.consumer import EventConsumer
from shared.contracts import referrals as contract
from shared.db import create_engine, create_session_factory
from shared.events import encode_data, new_event, to_kafka_headers
from shared.kafka import create_producer, ensure_topics
from shared.migrations import upgrade_to_head
from shared.settings import ServiceSettings
from tests.harness import fresh_postgres_database


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.event_path")
    parser.add_argument("--events", type=int, default=10_000, help="replay: events to consume")
    parser.add_argument("--database", choices=["sqlite", "postgresql"], default="sqlite")
    parser.add_argument("--rate", type=float, default=100.0, help="latency: referrals/s offered")
    parser.add_argument("--seconds", type=float, default=20.0, help="latency: how long")
    parser.add_argument(
        "--fetch-waits",
        default="500,250,100",
        help="latency: consumer fetch waits (ms) to compare (250 is the default setting)",
    )
    parser.add_argument("--skip", choices=["replay", "latency"], help="run only the other part")
    return parser.parse_args()


def referral_events(count: int) -> list:
    """Half `received`, half `triaged`, two per referral, in order per referral."""
    now = datetime.now(UTC)
    envelopes = []
    for n in range(count // 2):
        referral_id = str(uuid.uuid4())
        common = {
            "referral_id": referral_id,
            "reference": f"B-{n}",
            "locality_code": "NO",
            "organisation": "NO-HUB",
        }
        received = contract.ReferralReceivedV1(
            **common, channel="phone", category_codes=["anti_social_behaviour"], received_at=now
        )
        triaged = contract.ReferralTriagedV1(
            **common, track="see_and_solve", received_at=now, triaged_at=now
        )
        for kind, payload in (
            (contract.REFERRAL_RECEIVED_V1, received),
            (contract.REFERRAL_TRIAGED_V1, triaged),
        ):
            envelopes.append(new_event(contract.SOURCE, kind, referral_id, payload))
    return envelopes


async def fill_topic(settings: ServiceSettings, count: int) -> None:
    await ensure_topics(settings, [contract.TOPIC, "bench.dead-letter"])
    producer = create_producer(settings)
    await producer.start()
    try:
        for chunk_start in range(0, count, 1000):
            chunk = referral_events(min(1000, count - chunk_start))
            futures = [
                await producer.send(
                    contract.TOPIC,
                    value=encode_data(envelope),
                    key=envelope.subject.encode(),
                    headers=to_kafka_headers(envelope),
                )
                for envelope in chunk
            ]
            await asyncio.gather(*futures)
    finally:
        await producer.stop()


async def replay_once(
    settings: ServiceSettings, database_url: str, count: int, *, hooks: bool = True
) -> float:
    """Events/s for a fresh consumer group reading `count` events from the start."""
    engine = create_engine(database_url)
    await upgrade_to_head(engine, METRICS_SPEC.migrations_dir)
    sessions = create_session_factory(engine)
    producer = create_producer(settings)
    await producer.start()
    consumer = EventConsumer(
        settings,
        group_id=f"bench-{uuid.uuid4().hex[:8]}",
        topics=[contract.TOPIC],
        handlers=HANDLERS,
        session_factory=sessions,
        processed_model=ProcessedEvent,
        producer=producer,
        batch_hooks=METRICS_SPEC.batch_hooks if hooks else None,
    )
    task = asyncio.create_task(consumer.run())
    await consumer.started.wait()
    started = time.perf_counter()
    try:
        while True:
            async with sessions() as session:
                done = await session.scalar(select(func.count()).select_from(ProcessedEvent))
            if (done or 0) >= count:
                break
            await asyncio.sleep(0.05)
        return count / (time.perf_counter() - started)
    finally:
        consumer.stop()
        await task
        await producer.stop()
        await engine.dispose()


async def replay(args: argparse.Namespace, data_dir: Path) -> None:
    broker = TansuBroker().start()
    try:
        settings = ServiceSettings(
            service_name="bench",
            data_dir=data_dir,
            kafka_bootstrap_servers=broker.bootstrap_servers,
            kafka_session_timeout_ms=2000,
        )
        await fill_topic(settings, args.events)
        results: dict[str, float] = {}
        variants = {
            "one transaction per poll": (True, True),
            "one transaction per poll, no batch hooks": (True, False),
            "one transaction per event": (False, False),
        }
        for n, (name, (batched, hooks)) in enumerate(variants.items()):
            variant = settings.model_copy(update={"kafka_consumer_batch": batched})
            if args.database == "postgresql":
                async with fresh_postgres_database() as url:
                    results[name] = await replay_once(variant, url, args.events, hooks=hooks)
            else:
                url = f"sqlite+aiosqlite:///{data_dir / f'replay-{n}.sqlite3'}"
                results[name] = await replay_once(variant, url, args.events, hooks=hooks)
            print(
                f"replay {args.events} events ({args.database}), {name}: "
                f"{results[name]:,.0f} events/s",
                flush=True,
            )
        batched = results["one transaction per poll"]
        print(
            f"replay: batched / no batch hooks = "
            f"{batched / results['one transaction per poll, no batch hooks']:.1f}x, "
            f"batched / one by one = {batched / results['one transaction per event']:.1f}x "
            "(target >= 2,000 events/s batched)"
        )
    finally:
        broker.stop()


def percentile(values: list[float], fraction: float) -> float:
    if not values:
        return float("nan")
    ordered = sorted(values)
    return ordered[min(int(len(ordered) * fraction), len(ordered) - 1)]


def latency_once(args: argparse.Namespace, fetch_wait_ms: int, data_dir: Path) -> dict:
    config = SystemConfig.on_free_ports(
        data_dir,
        extra_env={
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_FETCH_MAX_WAIT_MS": str(fetch_wait_ms),
            "GATEWAY_RATE_LIMIT_QUOTA": "1000000",
        },
    )
    system = LocalSystem(config).start()
    try:
        token = system.mint_token("NO-HUB", "referrals:read referrals:write")
        created: dict[str, float] = {}
        errors = 0

        async def offer() -> None:
            nonlocal errors
            body = {
                "locality_code": "NO",
                "channel": "phone",
                "category_codes": ["anti_social_behaviour"],
                "summary": "Benchmark referral",
            }
            headers = {"Authorization": f"Bearer {token}"}
            async with httpx.AsyncClient(
                base_url=system.gateway_url,
                timeout=30,
                limits=httpx.Limits(max_connections=None, max_keepalive_connections=64),
            ) as client:

                async def one() -> None:
                    nonlocal errors
                    try:
                        response = await client.post(
                            "/api/v1/referrals", json=body, headers=headers
                        )
                    except httpx.HTTPError:
                        errors += 1
                        return
                    if response.status_code == 201:
                        created[response.json()["id"]] = time.time()
                    else:
                        errors += 1

                pending = []
                start = time.perf_counter()
                total = int(args.rate * args.seconds)
                for n in range(total):
                    delay = start + n / args.rate - time.perf_counter()
                    if delay > 0:
                        await asyncio.sleep(delay)
                    pending.append(asyncio.create_task(one()))
                await asyncio.gather(*pending)

        seen_at: dict[str, float] = {}
        metrics_db = sqlite3.connect(f"file:{data_dir / 'metrics.sqlite3'}?mode=ro", uri=True)
        started = time.perf_counter()

        async def watch(offering: asyncio.Task) -> None:
            while True:
                rows = metrics_db.execute("SELECT referral_id FROM referral_fact").fetchall()
                now = time.time()
                for (referral_id,) in rows:
                    seen_at.setdefault(referral_id, now)
                if offering.done() and set(created) <= set(seen_at):
                    return
                await asyncio.sleep(0.01)

        async def run() -> None:
            offering = asyncio.create_task(offer())
            await asyncio.wait_for(watch(offering), args.seconds + 120)
            await offering

        asyncio.run(run())
        elapsed = time.perf_counter() - started
        referrals_db = sqlite3.connect(f"file:{data_dir / 'referrals.sqlite3'}?mode=ro", uri=True)
        relay_lag = [
            (datetime.fromisoformat(published) - datetime.fromisoformat(made)).total_seconds()
            for made, published in referrals_db.execute(
                "SELECT created_at, published_at FROM outbox_event WHERE published_at IS NOT NULL"
            )
        ]
        to_metric = [seen_at[i] - created[i] for i in created if i in seen_at]
        return {
            "achieved": len(created) / args.seconds,
            "errors": errors,
            "relay_ms": [1000 * v for v in relay_lag],
            "metric_ms": [1000 * v for v in to_metric],
            "elapsed": elapsed,
        }
    finally:
        system.stop()


def latency(args: argparse.Namespace, root: Path) -> None:
    for fetch_wait in (int(v) for v in args.fetch_waits.split(",")):
        data_dir = root / f"latency-{fetch_wait}"
        data_dir.mkdir()
        result = latency_once(args, fetch_wait, data_dir)
        relay, metric = result["relay_ms"], result["metric_ms"]
        print(
            f"latency, fetch wait {fetch_wait} ms: offered {args.rate:.0f}/s, achieved "
            f"{result['achieved']:.0f}/s ({result['errors']} errors); "
            f"outbox row -> broker ack p50 {percentile(relay, 0.5):.0f} ms "
            f"p99 {percentile(relay, 0.99):.0f} ms; "
            f"201 -> metric p50 {percentile(metric, 0.5):.0f} ms "
            f"p99 {percentile(metric, 0.99):.0f} ms (mean {statistics.fmean(metric):.0f} ms)",
            flush=True,
        )


def main() -> None:
    args = parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        root = Path(scratch)
        if args.skip != "replay":
            asyncio.run(replay(args, root))
        if args.skip != "latency":
            latency(args, root)


if __name__ == "__main__":
    main()
