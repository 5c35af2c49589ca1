"""The broker goes away and comes back: referrals made meanwhile are each counted once."""

from collections.abc import Iterator

import pytest

from deploy.local.system import LocalSystem, SystemConfig
from tests.e2e.test_referral_counted import (
    count_for,
    create_referral,
    gateway_client,
    wait_for_count,
)

# Whole system on real processes, but it stops the broker: a fault test, with a system of its own.
pytestmark = pytest.mark.faults


@pytest.fixture(scope="module")
def system_of_its_own(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """A system whose broker this module may stop: not the one the other e2e tests share."""
    # Tansu restarts empty and auto-creates a topic with 4 partitions on the first send; the
    # services create theirs with KAFKA_TOPIC_PARTITIONS at start. Equal counts make the topics
    # after the restart the shape the consumers were assigned before it (Kafka keeps topics).
    extra_env = {"KAFKA_SESSION_TIMEOUT_MS": "2000", "KAFKA_TOPIC_PARTITIONS": "4"}
    config = SystemConfig.on_free_ports(tmp_path_factory.mktemp("outage"), extra_env=extra_env)
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

        # The wait is on metrics' own count for this locality, not on the topic: Tansu restarts
        # empty, and a reader asking for the topic first would auto-create it before the relay.
        # A resend after the outage may put an event on the topic twice; counting it twice is
        # what must not happen (metrics' inbox, and facts keyed by referral id).
        assert wait_for_count(client, "DNE", 3, timeout_s=90) == 3
