"""The AsyncAPI 3.0 catalogue of every topic and event, generated from `shared/contracts/` (the
payloads, their producer and each topic's key) and the services' ServiceSpecs (who consumes
which event types).

    python -m deploy.asyncapi          # rewrites services/gateway/asyncapi.json
    python -m deploy.asyncapi --check  # exit 1 when the committed file differs

The gateway serves the committed file at /asyncapi.json; tests/deploy/test_asyncapi.py fails when
a contract changes without it.
"""

import argparse
import importlib
import json
import pkgutil
import re
import sys
from collections.abc import Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import shared.contracts
from shared.contracts import EventPayload
from shared.events import topic_for
from shared.kafka import dead_letter_topic
from shared.settings import REPO_ROOT

DOCUMENT = REPO_ROOT / "services" / "gateway" / "asyncapi.json"
EVENT_TYPE = re.compile(r"^[a-z]+\.[a-z_]+\.[a-z_]+\.v\d+$")


def contract_modules() -> dict[str, ModuleType]:
    """`shared/contracts/<producer>.py`, by producing service."""
    return {
        info.name: importlib.import_module(f"shared.contracts.{info.name}")
        for info in pkgutil.iter_modules(shared.contracts.__path__)
    }


def event_types(module: ModuleType) -> Iterator[tuple[str, type[EventPayload]]]:
    """Each event type constant of a contract module with its payload class: the type
    `<service>.<entity>.<verb>.v<N>` is carried by `<Entity><Verb>V<N>`."""
    for name, value in sorted(vars(module).items()):
        if name.isupper() and isinstance(value, str) and EVENT_TYPE.match(value):
            _, entity, verb, version = value.split(".")
            class_name = _camel(entity) + _camel(verb) + version.upper()
            yield value, getattr(module, class_name)


def consumers() -> dict[str, tuple[str, set[str]]]:
    """Service -> (consumer group, event types it handles), from each service's ServiceSpec."""
    found = {}
    for service in contract_modules():
        main = importlib.import_module(f"services.{service}.main")
        handled = set(main.SPEC.handlers)
        if handled:
            config = importlib.import_module(f"services.{service}.config")
            group = config.Settings.model_fields.get("consumer_group")
            found[service] = (group.default if group else service, handled)
    return found


def build() -> dict[str, Any]:
    channels: dict[str, Any] = {}
    operations: dict[str, Any] = {}
    messages: dict[str, Any] = {}
    schemas: dict[str, Any] = {}
    consuming = consumers()
    for producer, module in contract_modules().items():
        for event_type, payload in event_types(module):
            topic = topic_for(event_type)
            key = module.KEYS[topic]
            schemas[payload.__name__] = _payload_schema(payload, schemas)
            messages[event_type] = _message(event_type, payload, module.SOURCE, key)
            channel = channels.setdefault(topic, _channel(topic, key, producer))
            channel["messages"][event_type] = {"$ref": f"#/components/messages/{event_type}"}
            _operation(operations, f"{producer}.send.{topic}", "send", topic, event_type, producer)
            for service, (_, handled) in consuming.items():
                if event_type in handled:
                    name = f"{service}.receive.{topic}"
                    _operation(operations, name, "receive", topic, event_type, service)
    for service, (group, _) in sorted(consuming.items()):
        topic = dead_letter_topic(group)
        channels[topic] = _dead_letter_channel(topic, service)
        messages["dead-letter"] = DEAD_LETTER_MESSAGE
    for topic, channel in channels.items():
        consumed_by = sorted(
            operation["x-service"]
            for operation in operations.values()
            if operation["action"] == "receive" and operation["channel"]["$ref"].endswith(topic)
        )
        channel.setdefault("x-consumers", consumed_by)
    return {
        "asyncapi": "3.0.0",
        "info": {
            "title": "Locality Hub events",
            "version": "1.0.0",
            "description": (
                "Every Kafka topic of the Locality Hub and the events on it. Events are "
                "CloudEvents 1.0 in binary content mode: the attributes are `ce_*` record "
                "headers, the value is the JSON payload, the key is the subject. Payloads carry "
                "ids, codes and timestamps, never personal data; consumers ignore fields they do "
                "not know. Generated from shared/contracts/ by `python -m deploy.asyncapi`."
            ),
        },
        "defaultContentType": "application/json",
        "servers": {
            "kafka": {
                "host": "kafka:9092",
                "protocol": "kafka",
                "description": "KAFKA_BOOTSTRAP_SERVERS of the deployment",
            }
        },
        "channels": dict(sorted(channels.items())),
        "operations": dict(sorted(operations.items())),
        "components": {
            "messages": dict(sorted(messages.items())),
            "schemas": dict(sorted(schemas.items())),
        },
    }


def _channel(topic: str, key: str, producer: str) -> dict[str, Any]:
    return {
        "address": topic,
        "title": topic,
        "description": f"Produced by {producer} through its outbox. Record key: {key}.",
        "messages": {},
        "x-producer": producer,
        "x-key": key,
    }


def _operation(
    operations: dict[str, Any], name: str, action: str, topic: str, event_type: str, service: str
) -> None:
    operation = operations.setdefault(
        name,
        {
            "action": action,
            "channel": {"$ref": f"#/channels/{topic}"},
            "summary": f"{service} {'publishes to' if action == 'send' else 'consumes'} {topic}",
            "messages": [],
            "x-service": service,
        },
    )
    operation["messages"].append({"$ref": f"#/channels/{topic}/messages/{event_type}"})


def _message(event_type: str, payload: type[EventPayload], source: str, key: str) -> dict[str, Any]:
    return {
        "name": payload.__name__,
        "title": event_type,
        "summary": (payload.__doc__ or event_type).strip().splitlines()[0],
        "contentType": "application/json",
        "headers": _cloudevents_headers(event_type, source, key),
        "payload": {"$ref": f"#/components/schemas/{payload.__name__}"},
        "bindings": {"kafka": {"key": {"type": "string", "description": key}}},
    }


def _cloudevents_headers(event_type: str, source: str, key: str) -> dict[str, Any]:
    text = {"type": "string"}
    return {
        "type": "object",
        "required": ["ce_specversion", "ce_id", "ce_source", "ce_type", "ce_time"],
        "properties": {
            "ce_specversion": {"type": "string", "const": "1.0"},
            "ce_id": {**text, "description": "event id (UUID): consumers' inbox key"},
            "ce_source": {**text, "const": source},
            "ce_type": {**text, "const": event_type},
            "ce_time": {**text, "format": "date-time"},
            "ce_subject": {**text, "description": f"the record key: {key}"},
            "ce_traceparent": {**text, "description": "W3C trace context of the cause"},
            "ce_requestid": {**text, "description": "X-Request-ID of the causing request"},
            "content-type": {**text, "const": "application/json"},
        },
    }


def _payload_schema(payload: type[EventPayload], schemas: dict[str, Any]) -> dict[str, Any]:
    schema = payload.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(schema.pop("$defs", {}))
    return schema


def _dead_letter_channel(topic: str, service: str) -> dict[str, Any]:
    return {
        "address": topic,
        "title": topic,
        "description": (
            f"Records {service} could not decode or handle, unchanged, with dlq_* headers "
            "saying why. Read by people, replayed by hand."
        ),
        "messages": {"dead-letter": {"$ref": "#/components/messages/dead-letter"}},
        "x-producer": service,
        "x-consumers": [],
    }


DEAD_LETTER_MESSAGE = {
    "name": "DeadLetter",
    "title": "dead letter",
    "summary": "The original record (key, value, ce_* headers) plus why it was set aside.",
    "headers": {
        "type": "object",
        "properties": {
            name: {"type": "string"}
            for name in (
                "dlq_reason",
                "dlq_source_topic",
                "dlq_source_partition",
                "dlq_source_offset",
                "dlq_consumer_group",
            )
        },
    },
    "payload": {},
}


def _camel(snake: str) -> str:
    return "".join(part.title() for part in snake.split("_"))


def render() -> str:
    return json.dumps(build(), indent=2) + "\n"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m deploy.asyncapi", description=__doc__)
    parser.add_argument("--check", action="store_true", help="compare, do not write")
    args = parser.parse_args(argv)
    text = render()
    if args.check:
        if DOCUMENT.read_text() != text:
            print(f"{DOCUMENT} is out of date: run python -m deploy.asyncapi", file=sys.stderr)
            return 1
        return 0
    Path(DOCUMENT).write_text(text)
    print(f"wrote {DOCUMENT.relative_to(REPO_ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
