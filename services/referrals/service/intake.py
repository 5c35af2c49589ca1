"""Intake: a new referral, its suggested track, repeat demand and the idempotent retry."""

import hashlib
import uuid
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import domain, events, repository, shapes
from services.referrals.config import Settings
from services.referrals.domain.sharing import normalise_uprn, person_key
from services.referrals.domain.taxonomy import UnknownCategories
from services.referrals.domain.triage import ReferralFacts
from services.referrals.models import (
    IdempotencyRecord,
    OutboxEvent,
    Referral,
    ReferralCategory,
)
from services.referrals.schemas import ReferralCreate
from services.referrals.service import references
from services.referrals.service.access import audit_read, record_change
from services.referrals.service.reading import RepeatDemand
from shared.auth import Caller
from shared.localities import load_localities
from shared.outbox import add_event
from shared.problems import Unprocessable


@dataclass(frozen=True)
class IntakeOutcome:
    """A new referral with its repeat demand, or the first answer to an earlier request with
    the same Idempotency-Key (`replayed_body`, returned verbatim). A new referral with a key
    also carries the answer kept for its retries (`kept_body`), shaped once."""

    referral_id: str
    referral: Referral | None = None
    repeats: RepeatDemand | None = None
    replayed_body: dict[str, Any] | None = None
    kept_body: dict[str, Any] | None = None  # the answer kept for retries: the route sends it


def request_fingerprint(request: ReferralCreate) -> str:
    canonical = orjson.dumps(request.model_dump(mode="json"), option=orjson.OPT_SORT_KEYS)
    return hashlib.sha256(canonical).hexdigest()


async def create_referral(
    session: AsyncSession,
    *,
    settings: Settings,
    caller: Caller,
    request: ReferralCreate,
    now: datetime,
    idempotency_key: str | None = None,
) -> IntakeOutcome:
    """Record a new referral and its `received` event in one transaction (or replay a retry)."""
    category_codes = _validated(settings, request)
    fingerprint = request_fingerprint(request)
    # Before the transaction (a block is reserved in a short one of its own). A replayed
    # retry leaves its number unused: one more documented gap, for one transaction per intake.
    reference = await references.next_reference(session, request.locality_code, now.year)
    body = None
    try:
        async with session.begin():
            # A retry is not looked for first: the key's primary key refuses a second record
            # (IntegrityError below, the first answer replayed), which saves a query on every
            # intake and costs a retry, the rare case, one rolled-back transaction.
            referral, repeats = await _new_referral(
                session, settings, caller, request, category_codes, now, reference
            )
            if idempotency_key:
                # The first answer, kept in the same transaction for the retries.
                body = shapes.full(referral, repeats, now).model_dump(mode="json")
                session.add(
                    IdempotencyRecord(
                        organisation=caller.organisation,
                        key=idempotency_key,
                        request_hash=fingerprint,
                        referral_id=referral.id,
                        response_body=body,
                        created_at=now,
                    )
                )
    except IntegrityError:
        # A retry, or a concurrent request with the same key that committed first: answer as
        # the first request did.
        if idempotency_key:
            async with session.begin():
                replay = await _replay(session, caller, idempotency_key, fingerprint, now)
            if replay:
                return replay
        raise
    return IntakeOutcome(referral.id, referral=referral, repeats=repeats, kept_body=body)


def _validated(settings: Settings, request: ReferralCreate) -> list[str]:
    localities = load_localities(settings.localities_file)
    if request.locality_code not in localities:
        raise Unprocessable(
            f"Unknown locality '{request.locality_code}'.",
            errors=[
                {
                    "field": "locality_code",
                    "message": f"known localities: {', '.join(sorted(localities))}",
                }
            ],
        )
    try:
        return settings.taxonomy().validate(request.category_codes)
    except UnknownCategories as error:
        raise Unprocessable(
            f"Unknown category codes: {', '.join(error.codes)}.",
            errors=[
                {
                    "field": "category_codes",
                    "message": "see GET /api/v1/referral-categories for the taxonomy",
                }
            ],
        ) from error


async def _replay(
    session: AsyncSession, caller: Caller, key: str, fingerprint: str, now: datetime
) -> IntakeOutcome | None:
    record = await repository.idempotency_record(session, caller.organisation, key)
    if record is None:
        return None
    if record.request_hash != fingerprint:
        raise Unprocessable(
            "This Idempotency-Key was used with a different request body.",
            errors=[{"field": "Idempotency-Key", "message": "reuse a key only for retries"}],
        )
    # The replayed answer is the full referral, personal fields included: a read like any other.
    audit_read(session, record.referral_id, caller, "replay_intake", "idempotent_replay", now)
    return IntakeOutcome(record.referral_id, replayed_body=record.response_body)


async def _new_referral(
    session: AsyncSession,
    settings: Settings,
    caller: Caller,
    request: ReferralCreate,
    category_codes: list[str],
    now: datetime,
    reference: str,
) -> tuple[Referral, RepeatDemand]:
    policy = settings.triage_policy().for_locality(request.locality_code)
    person = request.subject.person if request.subject else None
    place = request.subject.place if request.subject else None
    uprn = normalise_uprn(place.uprn if place else None)
    key = person_key(person.name, person.date_of_birth) if person else None
    repeats = await repository.earlier_referrals_for(
        session,
        uprn=uprn,
        person_key=key,
        since=now - timedelta(days=policy.repeat_window_days),
        before=now,
    )
    risk_flags = list(dict.fromkeys(flag.value for flag in request.risk_flags))
    suggestion = policy.suggest(
        ReferralFacts(
            locality_code=request.locality_code,
            channel=request.channel.value,
            category_codes=frozenset(settings.taxonomy().with_parents(category_codes)),
            risk_flags=frozenset(risk_flags),
            repeat_count=len(repeats),
        )
    )
    referral = Referral(
        id=str(uuid.uuid4()),
        reference=reference,
        locality_code=request.locality_code,
        channel=request.channel.value,
        category_codes=category_codes,
        summary=request.summary,
        description=request.description,
        status=domain.ReferralStatus.RECEIVED.value,
        received_at=now,
        created_by_organisation=caller.organisation,
        created_by_subject=caller.subject,
        external_ref=request.external_ref,
        version=1,
        referrer=request.referrer.model_dump(mode="json") if request.referrer else None,
        subject_person=person.model_dump(mode="json") if person else None,
        person_key=key,
        place_address=place.address if place else None,
        place_postcode=place.postcode if place else None,
        uprn=uprn,
        latitude=place.latitude if place else None,
        longitude=place.longitude if place else None,
        risk_flags=risk_flags,
        lawful_basis=request.lawful_basis.value,
        sharing_agreement_ref=request.sharing_agreement_ref,
        repeat_of=repeats,
        coordinating_organisation=policy.hub_organisation,
        suggested_track=suggestion.track.value,
        suggestion_rule=suggestion.rule_id,
    )
    repository.add(session, referral)
    await session.flush()  # the referral row first: the rows below point at it
    repository.add(
        session,
        *(
            ReferralCategory(referral_id=referral.id, category_code=code)
            for code in settings.taxonomy().with_parents(category_codes)
        ),
    )
    record_change(
        session,
        referral,
        caller,
        "received",
        now,
        to_status=referral.status,
        details={"suggested_track": suggestion.track.value, "repeat_of": repeats},
        new_version=False,
    )
    add_event(session, OutboxEvent, events.referral_received(referral))
    return referral, RepeatDemand(repeats, policy.repeat_window_days)
