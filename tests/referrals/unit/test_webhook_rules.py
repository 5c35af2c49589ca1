"""Webhook rules: who is told, which targets are refused, how long retries go on."""

import itertools
import random
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given
from hypothesis import strategies as st
from pydantic import ValidationError

from services.referrals.config import Settings
from services.referrals.domain.sharing import Involvement
from services.referrals.domain.webhooks import (
    RetryPolicy,
    TargetPolicy,
    UnsafeTarget,
    WebhookEventType,
    check_addresses,
    check_url,
    plan_recipients,
    recipients,
)
from services.referrals.webhook_schemas import SubscriptionUpdate

pytestmark = pytest.mark.unit

STRICT = TargetPolicy(require_https=True, allow_private=False)
RELAXED = TargetPolicy(require_https=False, allow_private=True)
INVOLVED = Involvement(
    created_by="NO-HUB",
    coordinated_by="NO-HUB",
    led_by="POLICE",
    task_holders={"HOUSING"},
    shared_with={"YOUTH"},
)
SUBSCRIBERS = {"NO-HUB", "POLICE", "HOUSING", "YOUTH", "STRANGER"}


def test_broadcast_notices_go_to_every_subscriber_entitled_to_read() -> None:
    told = recipients(WebhookEventType.REFERRAL_RESOLVED, SUBSCRIBERS, INVOLVED)
    assert told == {"NO-HUB", "POLICE", "HOUSING", "YOUTH"}


def test_a_task_notice_goes_to_its_holder_only() -> None:
    told = recipients(WebhookEventType.TASK_ASSIGNED, SUBSCRIBERS, INVOLVED, addressee="HOUSING")
    assert told == {"HOUSING"}
    # An addressee that may not read the referral (a declined task) is not told.
    assert (
        recipients(WebhookEventType.TASK_ASSIGNED, SUBSCRIBERS, INVOLVED, addressee="STRANGER")
        == set()
    )


def test_the_organisation_whose_share_ended_is_told_although_it_lost_access() -> None:
    told = recipients(
        WebhookEventType.REFERRAL_SHARE_WITHDRAWN, SUBSCRIBERS, INVOLVED, addressee="STRANGER"
    )
    assert told == {"STRANGER"}


def test_a_plan_notice_goes_to_the_subscribers_on_the_plan_only() -> None:
    assert plan_recipients(SUBSCRIBERS, "POLICE", ["HOUSING", "COUNCIL"]) == {"POLICE", "HOUSING"}
    # Not knowing who is on the plan (an event from before it said so), no one is told.
    assert plan_recipients(SUBSCRIBERS, None, []) == set()


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hook",
        "https://127.0.0.1/",
        "https://127.1.2.3/",
        "https://0.0.0.0/",
        "https://localhost/",
        "https://api.localhost/",
        "https://printer.local/",
        "https://169.254.169.254/",
        "https://100.64.0.1/",
        "https://[fe80::1]/",
        "https://[fd00::1]/",
        "https://user:pass@partner.example/",
        "https://partner.example:99999/",
        "javascript:alert(1)",
        "https:///nohost",
        "https://[::1",
        "",
    ],
)
def test_unsafe_urls_are_refused_under_the_production_policy(url: str) -> None:
    with pytest.raises(UnsafeTarget):
        check_url(url, STRICT)


def test_development_allows_local_http_receivers() -> None:
    assert check_url("http://127.0.0.1:8080/hook", RELAXED) == "127.0.0.1"
    check_addresses(["127.0.0.1"], RELAXED)
    assert check_url("https://Partner.Example./hook", STRICT) == "partner.example"


@pytest.mark.parametrize(
    "addresses",
    [[], ["10.1.1.1"], ["93.184.216.34", "127.0.0.1"], ["::ffff:192.168.1.1"], ["224.0.0.1"]],
)
def test_resolved_addresses_must_all_be_public(addresses: list[str]) -> None:
    with pytest.raises(UnsafeTarget):
        check_addresses(addresses, STRICT)


def production(tmp_path: Path, **overrides: Any) -> Settings:
    (tmp_path / "public.pem").write_text("public")
    (tmp_path / "db-password").write_text("s3cr3t")
    return Settings(
        environment="production",
        data_dir=tmp_path / "data",
        database_host="db.internal",
        database_user="referrals_app",
        database_password_file=tmp_path / "db-password",
        auth_public_key_file=tmp_path / "public.pem",
        forwarded_allow_ips="10.0.0.0/8",
        **overrides,
    )


def test_the_policy_is_strict_unless_in_development_or_tests(tmp_path: Path) -> None:
    assert Settings(environment="test").webhook_target_policy() == RELAXED
    assert Settings(environment="development").webhook_target_policy() == RELAXED
    assert production(tmp_path).webhook_target_policy() == STRICT


@pytest.mark.parametrize(
    "unsafe", [{"webhooks_require_https": False}, {"webhooks_allow_private_targets": True}]
)
def test_production_refuses_to_relax_the_webhook_targets(
    tmp_path: Path, unsafe: dict[str, bool]
) -> None:
    with pytest.raises(ValidationError, match="WEBHOOKS"):
        production(tmp_path, **unsafe)


@given(seed=st.integers(min_value=0, max_value=2**32))
def test_retries_back_off_with_jitter_for_more_than_a_day_then_stop(seed: int) -> None:
    policy, rng = RetryPolicy(), random.Random(seed)
    queued = now = datetime(2026, 6, 1, tzinfo=UTC)
    attempts, gaps = 0, []
    while True:
        attempts += 1
        retry_at = policy.next_attempt(attempts=attempts, first_queued_at=queued, now=now, rng=rng)
        if retry_at is None:
            break
        gaps.append(retry_at - now)
        now = retry_at
    assert now - queued >= timedelta(hours=24)
    assert attempts < 30
    assert min(gaps) >= policy.first_delay * (1 - policy.jitter)
    assert max(gaps) <= policy.max_delay * (1 + policy.jitter)
    # Backing off: each early gap is longer than the one before, jitter notwithstanding.
    assert all(later > earlier for earlier, later in itertools.pairwise(gaps[:5]))


def test_an_update_may_leave_the_event_types_as_they_are() -> None:
    # Found by the contract fuzzer: a null list reached the uniqueness check (a 500).
    assert SubscriptionUpdate.model_validate({"event_types": None, "url": None}).event_types is None
    with pytest.raises(ValidationError):
        SubscriptionUpdate.model_validate({"event_types": ["referral.shared", "referral.shared"]})
