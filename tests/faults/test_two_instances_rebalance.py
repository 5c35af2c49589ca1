"""Two referrals and two metrics instances on one broker; one metrics instance leaves mid-stream.

Also issue 13's scale-out check: 2,000 referrals through both referrals instances, both relays
running (one publishes at a time on PostgreSQL, elected by advisory lock), both metrics
consumers in one group, a rebalance when one stops; every referral counted exactly once and
each referral's events in order on the wire.

On SQLite two instances may share one database file on one machine: each relay publishes
(duplicates on the wire, which the inbox drops; first deliveries stay in order per key) and
writes are serialised by SQLite's lock. It works, slowly; PostgreSQL is the supported way to
run more than one instance.
"""

import asyncio
import os
from pathlib import Path

import pytest

from deploy.local.broker import TansuBroker
from tests.faults.cluster import Load, ServiceProcess, assert_every_referral_counted_once_in_order
from tests.harness import TokenMinter, wait_until

pytestmark = pytest.mark.faults

REFERRALS = int(os.environ.get("FAULTS_SCALE_OUT_REFERRALS", "2000"))


async def test_two_of_each_with_a_rebalance_count_every_referral_once_in_order(
    databases: dict[str, str],
    broker: TansuBroker,
    tmp_path: Path,
    public_key: Path,
    mint: TokenMinter,
) -> None:
    on_postgres = databases["referrals"].startswith("postgresql")
    count = REFERRALS if on_postgres else REFERRALS // 4
    common = {"kafka": broker.bootstrap_servers, "data_dir": tmp_path, "public_key": public_key}
    instances = [
        ServiceProcess(service, f"{service}-{n}", databases[service], **common)
        for service in ("referrals", "metrics")
        for n in (1, 2)
    ]
    referrals_1, referrals_2, metrics_1, metrics_2 = instances
    try:
        # The first of each migrates the shared database; two migrating at once would race.
        for pair in ((referrals_1, metrics_1), (referrals_2, metrics_2)):
            await asyncio.gather(*(instance.start().ready() for instance in pair))
        load = Load([referrals_1.url, referrals_2.url], mint)
        sending = asyncio.create_task(load.send(count, concurrency=8))
        await wait_until(lambda: len(load.acknowledged) >= count // 3, timeout_s=300)
        metrics_2.stop()  # its partitions move to metrics-1 (a rebalance mid-stream)
        await sending

        assert load.refused == 0
        assert len(load.acknowledged) == count
        await assert_every_referral_counted_once_in_order(
            load, databases["metrics"], broker.bootstrap_servers, timeout_s=300
        )
        relays = [(await r.readiness())["relay"] for r in (referrals_1, referrals_2)]
        if on_postgres:
            assert sorted(relay["leading"] for relay in relays) == [False, True]
    finally:
        for instance in instances:
            instance.stop()
