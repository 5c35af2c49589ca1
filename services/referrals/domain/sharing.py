"""Who may see a referral, and the keys that link referrals about the same person."""

import hashlib
import re
import unicodedata
from collections.abc import Collection
from dataclasses import dataclass
from datetime import date


@dataclass(frozen=True, slots=True)
class Involvement:
    """The organisations with a part in one referral."""

    created_by: str
    coordinated_by: str | None
    led_by: str | None
    task_holders: Collection[str]
    shared_with: Collection[str]


def may_access(organisation: str, involvement: Involvement) -> bool:
    """It made the referral, leads or coordinates it, holds a task on it, or it was shared."""
    return (
        organisation in (involvement.created_by, involvement.coordinated_by, involvement.led_by)
        or organisation in involvement.task_holders
        or organisation in involvement.shared_with
    )


def normalise_name(name: str) -> str:
    folded = unicodedata.normalize("NFKD", name).encode("ascii", "ignore").decode().lower()
    return re.sub(r"[^a-z]+", " ", folded).strip()


def person_key(name: str | None, date_of_birth: date | None) -> str | None:
    """A one-way key for matching repeat referrals about a person (name and date of birth).

    Only a hash is stored in the matching column, so the index itself reveals nobody; a name
    alone is too common to match on, so without a date of birth there is no key.
    """
    if not name or date_of_birth is None:
        return None
    material = f"{normalise_name(name)}|{date_of_birth.isoformat()}"
    return hashlib.sha256(material.encode()).hexdigest()


def normalise_uprn(uprn: str | None) -> str | None:
    """UPRNs are up to 12 digits; partners send them with or without leading zeros."""
    if uprn is None:
        return None
    return uprn.strip().lstrip("0") or "0"
