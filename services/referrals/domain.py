"""Referral rules: channels, the category taxonomy, readable references. No I/O here."""

from enum import StrEnum


class Channel(StrEnum):
    PHONE = "phone"
    EMAIL = "email"
    WALK_IN = "walk_in"
    ONLINE = "online"
    SOCIAL_MEDIA = "social_media"
    COUNCILLOR = "councillor"
    PARTNER_SYSTEM = "partner_system"
    PROFESSIONAL = "professional"


class ReferralStatus(StrEnum):
    RECEIVED = "received"


def format_reference(locality_code: str, year: int, number: int) -> str:
    """A reference a resident can read out on the phone: `NO-2026-000123`."""
    return f"{locality_code}-{year}-{number:06d}"
