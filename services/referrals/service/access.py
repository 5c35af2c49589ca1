"""What every use case on an existing referral checks first, and how it records a change."""

from datetime import datetime
from typing import Any

from sqlalchemy.ext.asyncio import AsyncSession

from services.referrals import repository
from services.referrals.domain import ReferralStatus
from services.referrals.domain.lifecycle import Action, IllegalTransition, next_status
from services.referrals.domain.sharing import may_access
from services.referrals.models import AuditRecord, HistoryEntry, Referral
from shared.auth import Caller
from shared.etag import check_if_match, claim_version, parse_if_match
from shared.problems import Conflict, NotFound

SYSTEM_SUBJECT = "system:referrals"


async def load_visible(
    session: AsyncSession, referral_id: str, caller: Caller, *, for_update: bool = False
) -> Referral:
    """The referral if the caller's organisation may see it; otherwise 404, as if absent."""
    referral = await repository.get(session, referral_id, for_update=for_update)
    if referral is None or not may_access(
        caller.organisation, await repository.involvement(session, referral)
    ):
        raise NotFound(f"No referral with id '{referral_id}'.")
    return referral


async def load_for_change(
    session: AsyncSession, referral_id: str, caller: Caller, if_match: str | None
) -> Referral:
    """A visible referral whose current ETag the caller names in `If-Match`, already moved to
    its next version: the check is a compare-and-set inside the write, so of concurrent changes
    naming one ETag exactly one gets here and the others get 412 (nothing of theirs is written).
    """
    referral = await load_visible(session, referral_id, caller, for_update=True)
    check_if_match(if_match, referral.version)  # 428, or 412 naming the ETag just read
    await claim_version(session, Referral, referral.id, parse_if_match(if_match))
    # Read the row again under the write lock the claim holds: a change that committed between
    # the first read and the claim (the overdue check, a partner's contact) is not overwritten.
    await session.refresh(referral)
    return referral


def move(referral: Referral, action: Action) -> tuple[str, str]:
    """Apply a lifecycle action; 409 problem when the state machine forbids it."""
    current = ReferralStatus(referral.status)
    try:
        target = next_status(current, action)
    except IllegalTransition as error:
        raise Conflict(str(error), status_now=current.value, allowed=error.allowed) from error
    referral.status = target.value
    return current.value, target.value


def record_change(
    session: AsyncSession,
    referral: Referral,
    caller: Caller | None,
    action: str,
    now: datetime,
    *,
    from_status: str | None = None,
    to_status: str | None = None,
    details: dict[str, Any] | None = None,
    new_version: bool = True,
) -> None:
    """Keep the change in the referral's history; `new_version` marks a change a caller made
    with If-Match, whose new ETag `load_for_change` has already claimed."""
    session.add(
        HistoryEntry(
            referral_id=referral.id,
            at=now,
            actor_subject=caller.subject if caller else SYSTEM_SUBJECT,
            actor_organisation=caller.organisation if caller else "system",
            action=action,
            from_status=from_status,
            to_status=to_status,
            details=details or {},
        )
    )
    if new_version:
        referral.updated_at = now


def audit_read(
    session: AsyncSession,
    referral_id: str,
    caller: Caller,
    action: str,
    purpose: str,
    now: datetime,
) -> None:
    """Record that personal fields of a referral were read, by whom and why."""
    session.add(
        AuditRecord(
            at=now,
            actor_subject=caller.subject,
            actor_organisation=caller.organisation,
            referral_id=referral_id,
            action=action,
            purpose=purpose,
        )
    )
