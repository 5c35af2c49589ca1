"""Publishing events to the real broker the way producing services' relays do (binary mode)."""

from aiokafka import AIOKafkaProducer

from shared.events import EventEnvelope, encode_data, to_kafka_headers


async def publish(kafka: str, *envelopes: EventEnvelope) -> None:
    """Send each envelope to its topic, keyed by its subject, in order."""
    producer = AIOKafkaProducer(bootstrap_servers=kafka)
    await producer.start()
    try:
        for envelope in envelopes:
            await producer.send_and_wait(
                envelope.topic,
                value=encode_data(envelope),
                key=(envelope.subject or "").encode(),
                headers=to_kafka_headers(envelope),
            )
    finally:
        await producer.stop()
