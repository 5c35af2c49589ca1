"""The broker goes away and comes back: referrals made meanwhile are each counted once."""

import asyncio
from collections.abc import Iterator

import pytest

from deploy.local.system import LocalSystem, SystemConfig
from tests.e2e.test_referral_counted import (
    count_for,
    create_referral,
    gateway_client,
    wait_for_count,
)
from tests.event_waits import event_matching, wait_for_event

# Whole system on real processes, but it stops the broker: a fault test, with a system of its own.
pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def system_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """A system whose broker this module may stop: not the one the other e2e tests share."""
    config = SystemConfig.on_free_ports(
        tmp_path_factory.mktemp("outage"), extra_env={"KAFKA_SESSION_TIMEOUT_MS": "2000"}
    )
    running = LocalSystem(config).start()
    try:
        yield running
    finally:
        running.stop()


def test_referrals_made_while_the_broker_is_down_are_each_counted_once_after_it_returns(
    system_of_its_own: LocalSystem,
) -> None:
    system = system_of_its_own
    with gateway_client(system) as client:
        assert system.broker is not None
        system.broker.stop()
        try:
            made = [create_referral(client, "DNE") for _ in range(3)]
            assert [r.status_code for r in made] == [201] * 3  # stored; events wait in outbox
            assert count_for(client, "DNE") == 0  # nothing can reach metrics without a broker
        finally:
            system.broker.start()

        for referral_id in (r.json()["id"] for r in made):
            received = asyncio.run(
                wait_for_event(
                    system.kafka_bootstrap_servers,
                    "referrals.referral",
                    match=event_matching(subject=referral_id),
                    deadline_s=90,
                )
            )
            assert received.type == "referrals.referral.received.v1"
        # A resend after the outage may put an event on the topic twice; counting it twice is
        # what must not happen (metrics' inbox, and facts keyed by referral id).
        assert wait_for_count(client, "DNE", 3, timeout_s=90) == 3
