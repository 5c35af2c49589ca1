"""Webhook rules: which notifications exist, who receives them, where they may go, when to retry.

Pure rules, no I/O: the service layer resolves host names and sends; this module decides.
"""

import ipaddress
import random
from collections.abc import Collection, Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum
from urllib.parse import urlsplit

from services.referrals.domain.sharing import Involvement, may_access


class WebhookEventType(StrEnum):
    """What a partner may subscribe to (the `type` of a notification)."""

    TASK_ASSIGNED = "task.assigned"
    TASK_OVERDUE = "task.overdue"
    REFERRAL_OVERDUE = "referral.overdue"
    REFERRAL_SHARED = "referral.shared"
    REFERRAL_SHARE_WITHDRAWN = "referral.share_withdrawn"
    REFERRAL_RESOLVED = "referral.resolved"
    REFERRAL_CLOSED = "referral.closed"
    PLAN_ESCALATED = "plan.escalated"


# Notifications addressed to one organisation (the task holder, the organisation shared with);
# the others go to every subscriber entitled to read the referral.
ADDRESSED = frozenset(
    {
        WebhookEventType.TASK_ASSIGNED,
        WebhookEventType.TASK_OVERDUE,
        WebhookEventType.REFERRAL_SHARED,
        WebhookEventType.REFERRAL_SHARE_WITHDRAWN,
    }
)


def recipients(
    event_type: WebhookEventType,
    subscribers: Iterable[str],
    involvement: Involvement,
    addressee: str | None = None,
) -> set[str]:
    """The subscribing organisations told about a change, decided when it happens.

    Everyone must be entitled to read the referral (the rule of reads), except the organisation
    whose share was withdrawn: it is told exactly that it lost access, with ids only.
    """
    chosen = set(subscribers)
    if event_type in ADDRESSED:
        chosen &= {addressee} if addressee else set()
    if event_type == WebhookEventType.REFERRAL_SHARE_WITHDRAWN:
        return chosen
    return {organisation for organisation in chosen if may_access(organisation, involvement)}


def plan_recipients(
    subscribers: Iterable[str], lead_organisation: str | None, member_organisations: Iterable[str]
) -> set[str]:
    """The subscribing organisations told about an action plan: its lead and its members.

    An event that does not say who is on the plan (produced before it carried them) tells no one.
    """
    on_plan = {lead_organisation, *member_organisations} - {None, ""}
    return set(subscribers) & on_plan


class UnsafeTarget(ValueError):
    """A webhook URL or address the service refuses to call."""


@dataclass(frozen=True, slots=True)
class TargetPolicy:
    """Where webhooks may go: HTTPS and public addresses only, unless in development or tests."""

    require_https: bool = True
    allow_private: bool = False


# Names that never reach the public internet, whatever DNS says.
PRIVATE_SUFFIXES = (".localhost", ".local", ".internal", ".home.arpa", ".lan")


def check_url(url: str, policy: TargetPolicy) -> str:
    """The URL's host name, or UnsafeTarget saying why the URL is refused."""
    try:
        parts = urlsplit(url)
    except ValueError as error:  # e.g. an unclosed IPv6 bracket
        raise UnsafeTarget(f"not a URL ({error})") from error
    if parts.scheme not in ("https", "http"):
        raise UnsafeTarget("the URL must start with https://")
    if policy.require_https and parts.scheme != "https":
        raise UnsafeTarget("the URL must use https")
    host = (parts.hostname or "").lower().rstrip(".")
    if not host:
        raise UnsafeTarget("the URL has no host")
    if parts.username or parts.password:
        raise UnsafeTarget("the URL must not carry credentials")
    try:
        parts.port  # noqa: B018 - parsing the port is the check
    except ValueError as error:
        raise UnsafeTarget("the URL's port is not a number from 0 to 65535") from error
    if policy.allow_private:
        return host
    if host == "localhost" or host.endswith(PRIVATE_SUFFIXES):
        raise UnsafeTarget(f"'{host}' is a local name")
    try:
        address = ipaddress.ip_address(host)
    except ValueError:
        return host  # a name: its addresses are checked when resolved
    check_addresses([str(address)], policy)
    return host


def check_addresses(addresses: Collection[str], policy: TargetPolicy) -> None:
    """Refuse a target any of whose addresses is private, loopback, link-local or reserved."""
    if policy.allow_private:
        return
    if not addresses:
        raise UnsafeTarget("the host name does not resolve")
    for text in addresses:
        address = ipaddress.ip_address(text.split("%", 1)[0])
        if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped:
            address = address.ipv4_mapped
        if not address.is_global or address.is_multicast:
            raise UnsafeTarget(f"the host resolves to a non-public address ({address})")


@dataclass(frozen=True, slots=True)
class RetryPolicy:
    """Exponential backoff with jitter; a delivery is given up only after `give_up_after`."""

    first_delay: timedelta = timedelta(seconds=30)
    max_delay: timedelta = timedelta(hours=4)
    give_up_after: timedelta = timedelta(hours=26)
    jitter: float = 0.2  # each delay is stretched or shrunk by up to this fraction

    def next_attempt(
        self, *, attempts: int, first_queued_at: datetime, now: datetime, rng: random.Random
    ) -> datetime | None:
        """When to try again after `attempts` failed tries, or None: give up."""
        if now - first_queued_at >= self.give_up_after:
            return None
        base = min(self.first_delay * (2 ** max(attempts - 1, 0)), self.max_delay)
        return now + base * (1 + rng.uniform(-self.jitter, self.jitter))
