"""Partners are told, not made to poll: signed webhooks, retried in order, to those entitled."""

import uuid
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from services.referrals import webhook_repository
from services.referrals.config import Settings
from services.referrals.main import create_app
from shared.contracts.actionplans import PLAN_ESCALATED_V1, SOURCE, PlanEscalatedV1
from shared.events import new_event
from tests import harness
from tests.harness import TokenMinter, publish, running_app, wait_until
from tests.referrals.webhook_receiver import running_receiver
from tests.referrals.workflow import TASK_BASIS, Hub

pytestmark = pytest.mark.integration

HOUSING = "THIRTEEN-HOUSING"
POLICE = "DURHAM-POLICE"
MANAGE = "webhooks:manage"
SUBSCRIPTIONS = "/api/v1/webhooks/subscriptions"
SHARE = {"organisation": POLICE, "purpose": "Joint visit", "lawful_basis": "public_task"}


async def subscribe(hub: Hub, organisation: str, url: str, types: list[str]) -> dict[str, Any]:
    response = await hub.client.post(
        SUBSCRIPTIONS,
        json={"url": url, "event_types": types},
        headers=hub.as_(organisation, MANAGE),
    )
    assert response.status_code == 201, response.text
    return response.json()


async def subscription(hub: Hub, organisation: str, subscription_id: str) -> dict[str, Any]:
    response = await hub.client.get(
        f"{SUBSCRIPTIONS}/{subscription_id}", headers=hub.as_(organisation, MANAGE)
    )
    assert response.status_code == 200, response.text
    return response.json()


async def delivery_log(hub: Hub, organisation: str, subscription_id: str) -> list[dict[str, Any]]:
    """The subscription's deliveries, oldest first."""
    response = await hub.client.get(
        f"{SUBSCRIPTIONS}/{subscription_id}/deliveries", headers=hub.as_(organisation, MANAGE)
    )
    assert response.status_code == 200, response.text
    return list(reversed(response.json()["items"]))


def move_clock(hub: Hub, by: timedelta) -> None:
    """Business time passes; the worker looks at once instead of at its next idle poll."""
    hub.now += by
    hub.app.state.webhook_worker.wake()


async def referral_with_task(hub: Hub, holder: str = HOUSING) -> str:
    referral_id = (await hub.create())["id"]
    await hub.triage(referral_id, "multi_agency", lead_organisation="NO-LEAD")
    task = await hub.act(
        referral_id, "tasks", {"organisation": holder, "description": "Visit", **TASK_BASIS}
    )
    assert task.status_code == 201, task.text
    return referral_id


async def test_a_notification_is_thin_and_signed_with_the_current_secret(hub: Hub) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(hub, HOUSING, receiver.url, ["task.assigned"])
        assert created["secret"].startswith("whsec_")
        rotated = await hub.client.post(
            f"{SUBSCRIPTIONS}/{created['id']}/rotate-secret", headers=hub.as_(HOUSING, MANAGE)
        )
        assert rotated.status_code == 200, rotated.text
        assert rotated.json()["secret"] != created["secret"]
        receiver.secret = rotated.json()["secret"]
        referral_id = await referral_with_task(hub)

        await wait_until(lambda: receiver.accepted)
        (notice,) = receiver.accepted
        assert receiver.bad_signatures == 0
        assert notice["type"] == "task.assigned"
        data = notice["data"]
        assert data["referral_id"] == referral_id
        assert data["links"] == {"referral": f"/api/v1/referrals/{referral_id}"}
        # Ids and links only: the partner reads the rest with its own token (audited).
        assert set(data) == {"referral_id", "reference", "task_id", "links"}
        (logged,) = await delivery_log(hub, HOUSING, created["id"])
        assert logged["id"] == notice["webhook_id"]
        await wait_until(
            lambda: _first_status(hub, HOUSING, created["id"], "delivered"), timeout_s=30
        )


async def _first_status(hub: Hub, organisation: str, subscription_id: str, status: str) -> bool:
    log = await delivery_log(hub, organisation, subscription_id)
    return bool(log) and log[0]["status"] == status


async def test_a_failing_endpoint_gets_every_notification_in_order_once_it_recovers(
    hub: Hub,
) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(
            hub, HOUSING, receiver.url, ["task.assigned", "referral.resolved", "referral.closed"]
        )
        receiver.secret, receiver.failing = created["secret"], True
        referral_id = await referral_with_task(hub)
        assert (await hub.act(referral_id, "resolve", {"outcome_code": "resolved"})).is_success
        assert (await hub.act(referral_id, "close")).is_success
        first, *later = await delivery_log(hub, HOUSING, created["id"])

        async def first_attempt_failed() -> bool:
            log = await delivery_log(hub, HOUSING, created["id"])
            return log[0]["attempts"] >= 1 and log[0]["last_status_code"] == 503

        await wait_until(first_attempt_failed, timeout_s=30)
        # The later notifications about the referral wait behind the first: never sent yet.
        assert set(receiver.attempts) == {first["id"]}
        assert [d["status"] for d in later] == ["pending", "pending"]
        # Waiting ones are not "due" to the worker (it would spin): it sleeps until the retry.
        async with hub.app.state.runtime.sessions() as session:
            next_due = await webhook_repository.next_due_at(session)
        assert next_due is not None and next_due > hub.now

        receiver.failing = False
        move_clock(hub, timedelta(hours=1))
        await wait_until(lambda: len(receiver.accepted) == 3, timeout_s=30)
        assert receiver.types() == ["task.assigned", "referral.resolved", "referral.closed"]
        assert [n["webhook_id"] for n in receiver.accepted] == [first["id"]] + [
            d["id"] for d in later
        ]
        assert receiver.bad_signatures == 0


async def test_an_endpoint_failing_for_a_day_is_disabled_saying_why_and_catches_up(
    hub: Hub,
) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(hub, HOUSING, receiver.url, ["task.assigned"])
        receiver.secret, receiver.failing = created["secret"], True
        started = hub.now
        await referral_with_task(hub)

        async def attempts() -> int:
            return int((await delivery_log(hub, HOUSING, created["id"]))[0]["attempts"])

        await wait_until(attempts, timeout_s=30)
        for _ in range(30):
            if not (await subscription(hub, HOUSING, created["id"]))["enabled"]:
                break
            before = await attempts()

            async def tried_again(before: int = before) -> bool:
                return await attempts() > before

            move_clock(hub, timedelta(hours=3))
            await wait_until(tried_again, timeout_s=30)
        disabled = await subscription(hub, HOUSING, created["id"])
        assert disabled["enabled"] is False
        assert "failed" in disabled["disabled_reason"] and "HTTP 503" in disabled["disabled_reason"]
        (failed,) = await delivery_log(hub, HOUSING, created["id"])
        assert failed["status"] == "failed"
        # Retried with backoff for more than a day, not hammered.
        assert datetime.fromisoformat(failed["last_attempt_at"]) - started >= timedelta(hours=24)
        assert 5 <= failed["attempts"] <= 20

        receiver.failing = False
        enabled = await hub.client.patch(
            f"{SUBSCRIPTIONS}/{created['id']}",
            json={"enabled": True},
            headers=hub.as_(HOUSING, MANAGE),
        )
        assert enabled.status_code == 200, enabled.text
        assert enabled.json()["disabled_reason"] is None
        await wait_until(lambda: receiver.types() == ["task.assigned"], timeout_s=30)


async def test_manual_redelivery_sends_the_same_webhook_id_again(hub: Hub) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(hub, HOUSING, receiver.url, ["task.assigned"])
        receiver.secret = created["secret"]
        await referral_with_task(hub)
        await wait_until(lambda: receiver.attempts)
        await wait_until(
            lambda: _first_status(hub, HOUSING, created["id"], "delivered"), timeout_s=30
        )
        (delivered,) = await delivery_log(hub, HOUSING, created["id"])
        again = await hub.client.post(
            f"{SUBSCRIPTIONS}/{created['id']}/deliveries/{delivered['id']}/redeliver",
            headers=hub.as_(HOUSING, MANAGE),
        )
        assert again.status_code == 202, again.text
        await wait_until(lambda: len(receiver.attempts) == 2, timeout_s=30)
        assert receiver.attempts == [delivered["id"], delivered["id"]]
        assert len(receiver.accepted) == 1  # the receiver dropped the repeat by its id


async def test_a_partner_is_told_only_about_referrals_it_may_read(hub: Hub) -> None:
    async with running_receiver() as receiver:
        every_type = [
            "task.assigned",
            "referral.overdue",
            "referral.shared",
            "referral.share_withdrawn",
            "referral.resolved",
            "referral.closed",
        ]
        created = await subscribe(hub, POLICE, receiver.url, every_type)
        receiver.secret = created["secret"]
        # Not the police's: another partner's task, resolved and closed.
        hidden = await referral_with_task(hub, holder=HOUSING)
        await hub.act(hidden, "resolve", {"outcome_code": "resolved"})
        await hub.act(hidden, "close")
        # Shared with the police, then withdrawn, then resolved: told of the first two only.
        shared = (await hub.create())["id"]
        await hub.triage(shared, "multi_agency", lead_organisation="NO-LEAD")
        assert (await hub.act(shared, "shares", SHARE)).status_code == 201
        withdrawn = await hub.client.delete(
            f"/api/v1/referrals/{shared}/shares/{POLICE}",
            headers={**hub.as_("NO-HUB"), "If-Match": await hub.etag(shared)},
        )
        assert withdrawn.status_code == 204, withdrawn.text
        await hub.act(shared, "resolve", {"outcome_code": "resolved"})
        # The police's own task.
        tasked = await referral_with_task(hub, holder=POLICE)

        log = await delivery_log(hub, POLICE, created["id"])
        assert [(d["referral_id"], d["event_type"]) for d in log] == [
            (shared, "referral.shared"),
            (shared, "referral.share_withdrawn"),
            (tasked, "task.assigned"),
        ]
        await wait_until(lambda: len(receiver.accepted) == 3, timeout_s=30)
        assert hidden not in {n["data"]["referral_id"] for n in receiver.accepted}


async def test_an_escalated_plan_is_told_to_its_members_once(hub: Hub, kafka: str) -> None:
    # The topic is shared by every test on this broker, and this service reads it from the
    # start: an organisation of this test's own is on the plan.
    housing = f"HOUSING-{uuid.uuid4().hex[:8].upper()}"
    async with running_receiver() as receiver:
        member = await subscribe(hub, housing, receiver.url, ["plan.escalated"])
        outsider = await subscribe(hub, POLICE, receiver.url, ["plan.escalated"])
        receiver.secret = member["secret"]
        # The consumer queues at the wall clock's time: business time is set past it.
        hub.now = datetime.now(UTC) + timedelta(hours=1)
        plan_id = str(uuid.uuid4())
        payload = PlanEscalatedV1(
            plan_id=plan_id,
            locality_code="NP",
            organisation="CLEVELAND-POLICE",
            review_id=str(uuid.uuid4()),
            escalated_at=datetime.now(UTC),
            lead_organisation="CLEVELAND-POLICE",
            member_organisations=[housing],
        )
        event = new_event(SOURCE, PLAN_ESCALATED_V1, plan_id, payload)
        again = new_event(SOURCE, PLAN_ESCALATED_V1, plan_id, payload)  # a later escalation
        # The broker may deliver an event twice; the later one follows on the plan's partition.
        await publish(kafka, event, event, again)

        await wait_until(lambda: len(receiver.accepted) == 2, timeout_s=60)
        assert receiver.bad_signatures == 0
        assert receiver.types() == ["plan.escalated", "plan.escalated"]
        notice = receiver.accepted[0]
        assert notice["data"]["links"] == {"plan": f"/api/v1/action-plans/{plan_id}"}
        log = await delivery_log(hub, housing, member["id"])
        assert [(d["plan_id"], d["referral_id"]) for d in log] == [(plan_id, None)] * 2
        assert [d["id"] for d in log] == [n["webhook_id"] for n in receiver.accepted]
        assert await delivery_log(hub, POLICE, outsider["id"]) == []


async def test_subscriptions_belong_to_their_organisation_and_need_the_scope(hub: Hub) -> None:
    url = "http://127.0.0.1:9/hook"
    created = await subscribe(hub, HOUSING, url, ["task.assigned"])
    other = await hub.client.get(
        f"{SUBSCRIPTIONS}/{created['id']}", headers=hub.as_(POLICE, MANAGE)
    )
    assert other.status_code == 404
    listed = await hub.client.get(SUBSCRIPTIONS, headers=hub.as_(POLICE, MANAGE))
    assert listed.json()["items"] == []
    own = (await hub.client.get(SUBSCRIPTIONS, headers=hub.as_(HOUSING, MANAGE))).json()
    assert [s["id"] for s in own["items"]] == [created["id"]]
    assert "secret" not in own["items"][0]
    unscoped = await hub.client.get(SUBSCRIPTIONS, headers=hub.as_(HOUSING, "referrals:read"))
    assert unscoped.status_code == 403
    unknown_type = await hub.client.post(
        SUBSCRIPTIONS,
        json={"url": url, "event_types": ["referral.viewed"]},
        headers=hub.as_(HOUSING, MANAGE),
    )
    assert unknown_type.status_code == 422
    assert unknown_type.headers["content-type"] == "application/problem+json"
    gone = await hub.client.delete(
        f"{SUBSCRIPTIONS}/{created['id']}", headers=hub.as_(HOUSING, MANAGE)
    )
    assert gone.status_code == 204


# Production rules (HTTPS, public addresses only) with a resolver the test controls.
PUBLIC_ADDRESS = "93.184.216.34"


@pytest.fixture
async def strict_hub(
    sqlite_url: str, kafka: str, public_key: Path, tmp_path: Path, mint: TokenMinter
) -> AsyncIterator[tuple[Hub, dict[str, list[str]]]]:
    settings = Settings(
        **harness.test_settings_values(tmp_path, sqlite_url, kafka, public_key),
        overdue_check_interval_s=0,
        webhooks_require_https=True,
        webhooks_allow_private_targets=False,
    )
    dns: dict[str, list[str]] = {
        "partner.example": [PUBLIC_ADDRESS],
        "intranet.example": ["192.168.10.4"],
        "mixed.example": [PUBLIC_ADDRESS, "127.0.0.1"],
    }

    async def resolve(host: str, port: int) -> list[str]:
        return dns.get(host, [])

    app = create_app(settings)
    app.state.clock = lambda: hub.now
    app.state.webhook_resolver = resolve
    async with running_app(app) as client:
        hub = Hub(app, client, mint, datetime(2026, 6, 1, 9, 0, tzinfo=UTC))
        yield hub, dns


@pytest.mark.parametrize(
    "url",
    [
        "http://partner.example/hook",
        "https://127.0.0.1/hook",
        "https://localhost:8443/hook",
        "https://metadata.google.internal/",
        "https://169.254.169.254/latest/meta-data",
        "https://10.0.0.7/hook",
        "https://[::1]/hook",
        "https://[::ffff:127.0.0.1]/hook",
        "https://intranet.example/hook",
        "https://mixed.example/hook",
        "https://nowhere.example/hook",
        "ftp://partner.example/hook",
    ],
)
async def test_unsafe_webhook_urls_are_refused(
    strict_hub: tuple[Hub, dict[str, list[str]]], url: str
) -> None:
    hub, _ = strict_hub
    refused = await hub.client.post(
        SUBSCRIPTIONS,
        json={"url": url, "event_types": ["task.assigned"]},
        headers=hub.as_(HOUSING, MANAGE),
    )
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"
    assert [e["field"] for e in refused.json()["errors"]] == ["url"]


async def test_a_name_that_later_resolves_to_loopback_is_refused_at_delivery(
    strict_hub: tuple[Hub, dict[str, list[str]]],
) -> None:
    hub, dns = strict_hub
    created = await subscribe(hub, HOUSING, "https://partner.example/hook", ["task.assigned"])
    dns["partner.example"] = ["127.0.0.1"]  # rebound after the check at creation
    await referral_with_task(hub)

    async def refused() -> dict[str, Any] | None:
        log = await delivery_log(hub, HOUSING, created["id"])
        return log[0] if log and log[0]["attempts"] >= 1 else None

    attempt = await wait_until(refused, timeout_s=30)
    assert attempt["status"] == "pending"  # retried later, in case the name is fixed
    assert attempt["last_status_code"] is None  # no request was made
    assert attempt["last_error"] == "refused: the host resolves to a non-public address (127.0.0.1)"


async def test_the_holder_of_a_task_past_due_is_told_once(hub: Hub) -> None:
    async with running_receiver() as receiver:
        created = await subscribe(hub, HOUSING, receiver.url, ["task.overdue"])
        receiver.secret = created["secret"]
        referral_id = (await hub.create())["id"]
        await hub.triage(referral_id, "multi_agency", lead_organisation="NO-LEAD")
        due = hub.now + timedelta(days=2)
        task = await hub.act(
            referral_id,
            "tasks",
            {
                "organisation": HOUSING,
                "description": "Visit",
                "due_at": due.isoformat(),
                **TASK_BASIS,
            },
        )
        assert task.status_code == 201, task.text

        async def overdue_check() -> dict[str, Any]:
            response = await hub.client.post(
                "/api/v1/referrals/overdue-checks", headers=hub.as_("NO-HUB")
            )
            assert response.status_code == 200, response.text
            return dict(response.json())

        assert (await overdue_check())["tasks_notified"] == 0
        hub.now = due + timedelta(minutes=1)
        assert (await overdue_check())["tasks_notified"] == 1
        assert (await overdue_check())["tasks_notified"] == 0
        await wait_until(lambda: receiver.accepted, timeout_s=30)
        (notice,) = receiver.accepted
        assert notice["type"] == "task.overdue"
        assert notice["data"]["task_id"] == task.json()["id"]
