"""A service subscribes to exactly the topics its handlers' event types travel on."""

import pytest

from services.actionplans.main import SPEC as ACTIONPLANS
from services.metrics.main import SPEC as METRICS
from services.referrals.main import SPEC as REFERRALS

pytestmark = pytest.mark.unit


def test_consumed_topics_are_derived_from_the_handled_event_types() -> None:
    assert METRICS.consumed_topics == [
        "actionplans.action",
        "actionplans.plan",
        "actionplans.target",
        "referrals.referral",
    ]
    assert ACTIONPLANS.consumed_topics == ["metrics.indicator", "metrics.observation"]
    assert REFERRALS.consumed_topics == ["actionplans.plan"]


def test_a_new_handler_brings_its_topic_with_it() -> None:
    extended = {
        **METRICS.handlers,
        "audit.entry.recorded.v1": METRICS.handlers[next(iter(METRICS.handlers))],
    }
    spec = type(METRICS)(**{**METRICS.__dict__, "handlers": extended})
    assert "audit.entry" in spec.consumed_topics
