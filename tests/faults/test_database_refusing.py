"""A service's PostgreSQL refuses connections for 20 s mid-stream ("starting up", 57P03)."""

import asyncio
from pathlib import Path

import pytest

from deploy.local.broker import TansuBroker
from tests.faults.cluster import Load, ServiceProcess, assert_every_referral_counted_once_in_order
from tests.faults.postgres_proxy import RefusingPostgresProxy
from tests.harness import POSTGRES_HOST, POSTGRES_PORT, TokenMinter, wait_until

pytestmark = pytest.mark.faults

REFUSAL_S = 20


@pytest.mark.parametrize("refusing", ["metrics", "referrals"])
async def test_a_database_refusing_connections_for_20s_loses_and_dead_letters_nothing(
    refusing: str,
    broker: TansuBroker,
    postgres_databases: dict[str, str],
    tmp_path: Path,
    public_key: Path,
    mint: TokenMinter,
) -> None:
    proxy = await RefusingPostgresProxy(POSTGRES_HOST, POSTGRES_PORT).start()
    urls = dict(postgres_databases)
    urls[refusing] = proxy.url_for(urls[refusing])
    common = {"kafka": broker.bootstrap_servers, "data_dir": tmp_path, "public_key": public_key}
    referrals = ServiceProcess("referrals", "referrals", urls["referrals"], **common).start()
    metrics = ServiceProcess("metrics", "metrics", urls["metrics"], **common).start()
    try:
        await asyncio.gather(referrals.ready(), metrics.ready())
        load = Load([referrals.url], mint)
        sending = asyncio.create_task(load.send(240, concurrency=4, rate_per_s=8))
        await wait_until(lambda: len(load.acknowledged) >= 40, timeout_s=60)
        proxy.refuse()
        refused_at = asyncio.get_running_loop().time()
        if refusing == "metrics":
            # The consumer says it is stuck, as data in /readyz, while it waits.
            async def stalled() -> bool:
                consumers = (await metrics.readiness())["consumers"]
                return consumers[0]["state"] == "stalled"

            await wait_until(stalled, timeout_s=REFUSAL_S)
        await asyncio.sleep(refused_at + REFUSAL_S - asyncio.get_running_loop().time())
        proxy.accept()
        await sending

        assert proxy.refused > 0, "the fault never happened"
        await assert_every_referral_counted_once_in_order(
            load, postgres_databases["metrics"], broker.bootstrap_servers
        )
        consumer = (await metrics.readiness())["consumers"][0]
        assert consumer["dead_letters"]["sent"] == 0
    finally:
        referrals.stop()
        metrics.stop()
        await proxy.stop()
