"""The broker stops mid-stream and comes back empty (topics, records and offsets all lost)."""

import asyncio
from pathlib import Path

import pytest

from deploy.local.broker import TansuBroker
from tests.faults.cluster import Load, ServiceProcess, assert_every_referral_counted_once_in_order
from tests.harness import TokenMinter

pytestmark = pytest.mark.faults


async def test_a_broker_restarted_empty_loses_no_acknowledged_referral(
    broker: TansuBroker,
    tmp_path: Path,
    public_key: Path,
    mint: TokenMinter,
) -> None:
    databases = {
        name: f"sqlite+aiosqlite:///{tmp_path / f'{name}.sqlite3'}"
        for name in ("referrals", "metrics")
    }
    common = {"kafka": broker.bootstrap_servers, "data_dir": tmp_path, "public_key": public_key}
    referrals = ServiceProcess("referrals", "referrals", databases["referrals"], **common).start()
    metrics = ServiceProcess("metrics", "metrics", databases["metrics"], **common).start()
    try:
        await asyncio.gather(referrals.ready(), metrics.ready())
        load = Load([referrals.url], mint)
        await load.send(40)
        metrics.kill()
        # Acknowledged by the broker but not yet consumed: the broker's restart loses them.
        await load.send(60)
        await asyncio.sleep(1)
        broker.stop()
        await load.send(40)  # acknowledged by referrals; the events wait in its outbox
        await asyncio.sleep(5)
        broker.start()  # same port, nothing in it: Tansu keeps everything in memory
        metrics.start()
        await load.send(40)

        await assert_every_referral_counted_once_in_order(
            load, databases["metrics"], broker.bootstrap_servers
        )
        health = await metrics.readiness()
        assert health["consumers"][0]["state"] == "running"
    finally:
        referrals.stop()
        metrics.stop()
