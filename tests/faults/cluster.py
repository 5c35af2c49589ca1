"""Real processes for the fault suite: services started, killed with SIGKILL and restarted.

`ServiceProcess` runs one instance of a domain service (uvicorn, as `make run` does) against a
given database and broker. `load` sends referrals to the referrals instances and remembers
every id that was acknowledged; `Tally` counts them afterwards in the metrics database, on
the wire, and in the dead-letter topic, referral by referral.
"""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
import uuid
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

import httpx
from aiokafka import ConsumerRecord
from sqlalchemy import select

from deploy.local.broker import free_port
from services.metrics.models import ReferralFact
from shared.db import create_engine, create_session_factory
from shared.settings import REPO_ROOT
from tests.event_waits import TopicTail
from tests.harness import TEST_AUDIENCE, TEST_ISSUER, TokenMinter, wait_until

SCOPES = "referrals:read referrals:write referrals:triage metrics:read"


@dataclass
class ServiceProcess:
    """One instance of a service as a child process; restartable on the same port."""

    service: str
    name: str
    database_url: str
    kafka: str
    data_dir: Path
    public_key: Path
    env: dict[str, str] = field(default_factory=dict)
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.data_dir / f"{self.name}.log"

    def start(self) -> "ServiceProcess":
        prefix = self.service.upper()
        env = {
            **os.environ,
            "PYTHONPATH": str(REPO_ROOT),
            "DATA_DIR": str(self.data_dir),
            "KAFKA_BOOTSTRAP_SERVERS": self.kafka,
            "KAFKA_SESSION_TIMEOUT_MS": "2000",
            "KAFKA_REQUEST_TIMEOUT_MS": "3000",
            "AUTH_PUBLIC_KEY_FILE": str(self.public_key),
            "AUTH_ISSUER": TEST_ISSUER,
            "AUTH_AUDIENCE": TEST_AUDIENCE,
            f"{prefix}_DATABASE_URL": self.database_url,
            f"{prefix}_OUTBOX_POLL_INTERVAL_S": "0.2",
            f"{prefix}_KAFKA_CONSUMER_STALL_AFTER_S": "5",
            # Back within a second of a fault's end (10 s in production): the same retries, more
            # of them during the fault, and no wait for a backoff after it.
            f"{prefix}_RETRY_MAX_DELAY_S": "1",
            **self.env,
        }
        log = open(self.log_file, "ab")  # noqa: SIM115 - the child holds it
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                f"services.{self.service}.main:create_app",
                "--factory",
                "--port",
                str(self.port),
                "--no-access-log",
            ],
            cwd=REPO_ROOT,
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        return self

    async def ready(self, timeout_s: float = 60) -> "ServiceProcess":
        async def answers() -> bool:
            assert self.process is not None
            if self.process.poll() is not None:
                raise AssertionError(f"{self.name} exited:\n{self.log_tail()}")
            try:
                async with httpx.AsyncClient(timeout=2) as client:
                    response = await client.get(f"{self.url}/readyz")
                return response.status_code == 200
            except httpx.HTTPError:
                return False

        await wait_until(answers, timeout_s=timeout_s, interval_s=0.1)
        return self

    async def readiness(self) -> dict:
        async with httpx.AsyncClient(timeout=5) as client:
            return (await client.get(f"{self.url}/readyz")).json()

    def kill(self) -> None:
        """SIGKILL: no shutdown hook runs, as when a machine or container dies."""
        if self.process is not None and self.process.poll() is None:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        if not self.log_file.exists():
            return "(no log)"
        return "\n".join(self.log_file.read_text(errors="replace").splitlines()[-lines:])


@dataclass
class Load:
    """Referrals sent to referrals instances; each is created, then triaged (two events)."""

    urls: list[str]
    mint: TokenMinter
    locality: str = "NO"
    acknowledged: set[str] = field(default_factory=set)
    triaged: set[str] = field(default_factory=set)
    refused: int = 0

    async def send(self, count: int, *, concurrency: int = 8, rate_per_s: float = 0) -> None:
        """Send `count` referrals round-robin over the instances; errors are counted, not fatal.

        With `rate_per_s`, referral n leaves at its own slot, n / rate after the start (or as
        soon as one of `concurrency` senders is free): the rate holds however long each
        request takes, rather than a pause between requests slowing it down as they slow.
        """
        headers = self.mint.headers("NO-HUB", SCOPES)
        queue: asyncio.Queue[int] = asyncio.Queue()
        for n in range(count):
            queue.put_nowait(n)
        loop = asyncio.get_running_loop()
        start = loop.time()

        async def worker(client: httpx.AsyncClient) -> None:
            while not queue.empty():
                n = queue.get_nowait()
                if rate_per_s:
                    await asyncio.sleep(max(0.0, start + n / rate_per_s - loop.time()))
                await self._one(client, self.urls[n % len(self.urls)], headers)

        async with httpx.AsyncClient(timeout=15) as client:
            await asyncio.gather(*(worker(client) for _ in range(concurrency)))

    async def _one(self, client: httpx.AsyncClient, url: str, headers: dict[str, str]) -> None:
        body = {
            "locality_code": self.locality,
            "channel": "partner_system",
            "category_codes": ["anti_social_behaviour"],
            "summary": "Reported by the police partner system",
        }
        try:
            created = await client.post(
                f"{url}/api/v1/referrals",
                json=body,
                headers={**headers, "Idempotency-Key": str(uuid.uuid4())},
            )
        except httpx.HTTPError:
            self.refused += 1
            return
        if created.status_code != 201:
            self.refused += 1
            return
        referral_id = created.json()["id"]
        self.acknowledged.add(referral_id)
        with contextlib.suppress(httpx.HTTPError):
            triaged = await client.post(
                f"{url}/api/v1/referrals/{referral_id}/triage",
                json={"track": "see_and_solve", "rationale": "Fault suite"},
                headers={**headers, "If-Match": created.headers["ETag"]},
            )
            if triaged.status_code == 200:
                self.triaged.add(referral_id)


async def counted_referrals(metrics_database_url: str, ids: set[str]) -> dict[str, ReferralFact]:
    """The metrics facts of these referrals (one row per referral, by primary key)."""
    engine = create_engine(metrics_database_url)
    try:
        async with create_session_factory(engine)() as session:
            facts = (await session.scalars(select(ReferralFact))).all()
    finally:
        await engine.dispose()
    return {fact.referral_id: fact for fact in facts if fact.referral_id in ids}


async def records_now(kafka: str, topic: str) -> list[ConsumerRecord]:
    """Every raw record on `topic` as it stands now (the tests call it once the effects are in)."""
    async with TopicTail(kafka, topic) as tail:
        return await tail.records_to_current_end()


async def wire_order(kafka: str, ids: set[str]) -> dict[str, list[str]]:
    """Event types per referral in the order they first appear on `referrals.referral`."""
    records = await records_now(kafka, "referrals.referral")
    seen: set[bytes] = set()
    order: dict[str, list[str]] = defaultdict(list)
    for record in records:
        headers = dict(record.headers)
        subject = headers.get("ce_subject", b"").decode()
        if subject in ids and headers["ce_id"] not in seen:
            seen.add(headers["ce_id"])
            order[subject].append(headers["ce_type"].decode().split(".")[2])
    return order


async def dead_lettered(kafka: str, group: str) -> set[str]:
    """Subjects (referral ids) of the records in a consumer group's dead-letter topic."""
    records = await records_now(kafka, f"{group}.dead-letter")
    return {dict(r.headers).get("ce_subject", b"").decode() for r in records}


async def assert_every_referral_counted_once_in_order(
    load: Load, metrics_database_url: str, kafka: str, *, timeout_s: float = 120
) -> None:
    """0 lost, 0 dead-lettered, triage seen after receipt for every acknowledged referral."""
    assert load.acknowledged, "no referral was acknowledged"

    async def all_counted() -> dict[str, ReferralFact] | None:
        facts = await counted_referrals(metrics_database_url, load.acknowledged)
        triaged = {i for i, fact in facts.items() if fact.triaged_at is not None}
        return facts if len(facts) == len(load.acknowledged) and load.triaged <= triaged else None

    try:
        await wait_until(all_counted, timeout_s=timeout_s, interval_s=0.2)
    except AssertionError:
        facts = await counted_referrals(metrics_database_url, load.acknowledged)
        lost = load.acknowledged - set(facts)
        raise AssertionError(
            f"acknowledged {len(load.acknowledged)}, counted {len(facts)}, lost {len(lost)}"
        ) from None
    order = await wire_order(kafka, load.acknowledged)
    out_of_order = {
        i: types for i, types in order.items() if types[:2] != ["received", "triaged"][: len(types)]
    }
    assert not out_of_order, f"{len(out_of_order)} referrals out of order on the wire"
    assert not (await dead_lettered(kafka, "metrics")) & load.acknowledged
