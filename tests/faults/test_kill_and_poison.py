"""kill -9 of producer and consumer mid-stream; a 2 MB garbage record on a consumed topic."""

import asyncio
from pathlib import Path

import pytest
from aiokafka import AIOKafkaProducer

from deploy.local.broker import TansuBroker
from tests.faults.cluster import Load, ServiceProcess, assert_every_referral_counted_once_in_order
from tests.harness import TokenMinter, read_topic, wait_until

pytestmark = pytest.mark.faults


def start_pair(
    databases: dict[str, str], broker: TansuBroker, tmp_path: Path, public_key: Path
) -> tuple[ServiceProcess, ServiceProcess]:
    common = {"kafka": broker.bootstrap_servers, "data_dir": tmp_path, "public_key": public_key}
    return (
        ServiceProcess("referrals", "referrals", databases["referrals"], **common).start(),
        ServiceProcess("metrics", "metrics", databases["metrics"], **common).start(),
    )


async def test_producer_and_consumer_killed_mid_stream_lose_and_double_nothing(
    databases: dict[str, str],
    broker: TansuBroker,
    tmp_path: Path,
    public_key: Path,
    mint: TokenMinter,
) -> None:
    referrals, metrics = start_pair(databases, broker, tmp_path, public_key)
    try:
        await asyncio.gather(referrals.ready(), metrics.ready())
        load = Load([referrals.url], mint)
        sending = asyncio.create_task(load.send(200, concurrency=4, rate_per_s=20))
        await wait_until(lambda: len(load.acknowledged) >= 50, timeout_s=60)
        metrics.kill()
        await wait_until(lambda: len(load.acknowledged) >= 90, timeout_s=60)
        referrals.kill()  # requests in flight fail: not acknowledged, so not owed
        await asyncio.sleep(1)
        referrals.start()
        metrics.start()
        await sending
        await asyncio.gather(referrals.ready(), metrics.ready())
        await load.send(20)

        await assert_every_referral_counted_once_in_order(
            load, databases["metrics"], broker.bootstrap_servers
        )
    finally:
        referrals.stop()
        metrics.stop()


async def test_a_2mb_garbage_record_is_dead_lettered_and_never_stalls_the_consumer(
    databases: dict[str, str],
    broker: TansuBroker,
    tmp_path: Path,
    public_key: Path,
    mint: TokenMinter,
) -> None:
    referrals, metrics = start_pair(databases, broker, tmp_path, public_key)
    try:
        await asyncio.gather(referrals.ready(), metrics.ready())
        load = Load([referrals.url], mint)
        await load.send(20)
        producer = AIOKafkaProducer(
            bootstrap_servers=broker.bootstrap_servers, max_request_size=8 * 1024 * 1024
        )
        await producer.start()
        try:
            garbage = b"\x00garbage" * (256 * 1024)
            await producer.send_and_wait("referrals.referral", value=garbage, key=b"poison")
        finally:
            await producer.stop()
        await load.send(20)

        await assert_every_referral_counted_once_in_order(
            load, databases["metrics"], broker.bootstrap_servers
        )
        (dead,) = await read_topic(broker.bootstrap_servers, "metrics.dead-letter", count=1)
        headers = dict(dead.headers)
        assert headers["dlq_truncated"] == b"true"
        assert int(headers["dlq_source_size"]) >= len(garbage)
        assert headers["dlq_source_topic"] == b"referrals.referral"
        consumer = (await metrics.readiness())["consumers"][0]
        assert consumer["state"] == "running"
        assert consumer["dead_letters"]["truncated"] == 1
    finally:
        referrals.stop()
        metrics.stop()
