"""aiokafka producer, consumer and admin helpers configured from ServiceSettings."""

import asyncio
import contextlib
import logging
from collections.abc import Iterable

from aiokafka import AIOKafkaConsumer, AIOKafkaProducer, TopicPartition
from aiokafka.admin import AIOKafkaAdminClient, NewTopic
from aiokafka.errors import KafkaError, TopicAlreadyExistsError

from shared.settings import ServiceSettings

log = logging.getLogger(__name__)


def dead_letter_topic(consumer_group: str) -> str:
    """Records a consumer group cannot decode or handle go to `<group>.dead-letter`."""
    return f"{consumer_group}.dead-letter"


def create_producer(settings: ServiceSettings) -> AIOKafkaProducer:
    return AIOKafkaProducer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-producer",
        acks="all",
        enable_idempotence=settings.kafka_enable_idempotence,
        linger_ms=5,
        request_timeout_ms=settings.kafka_request_timeout_ms,
        retry_backoff_ms=200,
    )


def create_consumer(
    settings: ServiceSettings, topics: Iterable[str], group_id: str
) -> AIOKafkaConsumer:
    """A consumer that never auto-commits: offsets move only after the database commit."""
    session_timeout = settings.kafka_session_timeout_ms
    return AIOKafkaConsumer(
        *topics,
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group_id,
        client_id=f"{settings.service_name}-consumer",
        enable_auto_commit=False,
        auto_offset_reset="earliest",
        session_timeout_ms=session_timeout,
        heartbeat_interval_ms=max(session_timeout // 4, 100),
        rebalance_timeout_ms=session_timeout,
        metadata_max_age_ms=30_000,
        max_poll_records=500,
        fetch_max_wait_ms=settings.kafka_fetch_max_wait_ms,
    )


async def ensure_topics(settings: ServiceSettings, topics: Iterable[str]) -> set[str]:
    """Create the topics a service reads or writes that are missing; returns those created.

    Run at start and again after the broker failed: a broker that lost its topics (Tansu keeps
    them in memory) gets them back with the configured partition count, before anything
    auto-creates them with the broker's default.
    """
    admin = AIOKafkaAdminClient(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        client_id=f"{settings.service_name}-admin",
        request_timeout_ms=10_000,
    )
    await admin.start()
    try:
        existing = set(await admin.list_topics())
        missing = sorted(set(topics) - existing)
        wanted = [
            NewTopic(
                name,
                num_partitions=settings.kafka_topic_partitions,
                replication_factor=settings.kafka_replication_factor,
            )
            for name in missing
        ]
        if wanted:
            log.info("creating topics %s", ", ".join(missing))
            with contextlib.suppress(TopicAlreadyExistsError):
                await admin.create_topics(wanted)
        return set(missing)
    finally:
        await admin.close()


async def start_with_retry(
    client: AIOKafkaProducer | AIOKafkaConsumer, what: str, stop: asyncio.Event
) -> bool:
    """Start a client, retrying while the broker is down; False if asked to stop first."""
    delay = 0.5
    while not stop.is_set():
        try:
            await client.start()
            return True
        except KafkaError as error:
            log.warning("%s cannot reach Kafka yet (%s); retrying in %.1fs", what, error, delay)
            await _sleep_or_stop(stop, delay)
            delay = min(delay * 2, 10.0)
    return False


async def broker_reachable(producer: AIOKafkaProducer, timeout_s: float = 2.0) -> bool:
    """Whether the broker answers a metadata request now (for /readyz)."""
    try:
        await asyncio.wait_for(producer.client.fetch_all_metadata(), timeout_s)
        return True
    except (TimeoutError, KafkaError, AttributeError, AssertionError):
        return False


async def _sleep_or_stop(stop: asyncio.Event, seconds: float) -> None:
    with contextlib.suppress(TimeoutError):
        await asyncio.wait_for(stop.wait(), seconds)


async def partition_lag(consumer: AIOKafkaConsumer) -> dict[tuple[str, int], int]:
    """Per assigned partition, how many records the broker holds beyond the consumer's position
    (the high-water mark is the one seen in the last fetch; unknown ones are left out)."""
    lag: dict[tuple[str, int], int] = {}
    for partition in consumer.assignment():
        high = consumer.highwater(partition)
        if high is None:
            continue
        position = await consumer.position(partition)
        lag[(partition.topic, partition.partition)] = max(high - position, 0)
    return lag


async def committed_lag(
    settings: ServiceSettings, group: str, topics: Iterable[str]
) -> list[dict[str, int | str | None]]:
    """Per partition of `topics`: end offset, the group's committed offset, and the lag between.

    Read from the broker, not from a running consumer, so it works with the service down. A
    partition the group never committed counts from its beginning offset.
    """
    # A consumer in the group that never subscribes: it reads the group's committed offsets
    # without joining it, so the running consumers are not rebalanced.
    consumer = AIOKafkaConsumer(
        bootstrap_servers=settings.kafka_bootstrap_servers,
        group_id=group,
        enable_auto_commit=False,
        request_timeout_ms=10_000,
    )
    try:
        await consumer.start()
        await consumer.topics()  # refreshes the metadata partitions_for_topic answers from
        partitions = [
            TopicPartition(topic, number)
            for topic in sorted(set(topics))
            for number in sorted(consumer.partitions_for_topic(topic) or ())
        ]
        ends = await consumer.end_offsets(partitions) if partitions else {}
        starts = await consumer.beginning_offsets(partitions) if partitions else {}
        committed = {partition: await consumer.committed(partition) for partition in partitions}
    finally:
        await consumer.stop()
    rows: list[dict[str, int | str | None]] = []
    for partition in partitions:
        done = committed[partition]
        offset = done if done is not None and done >= 0 else None
        rows.append(
            {
                "group": group,
                "topic": partition.topic,
                "partition": partition.partition,
                "end_offset": ends[partition],
                "committed_offset": offset,
                "lag": max(ends[partition] - (starts[partition] if offset is None else offset), 0),
            }
        )
    return rows
