"""Tables of the gateway: the partner systems (OAuth2 clients) it issues tokens to, and the keys
it signs those tokens with."""

from datetime import datetime

from sqlalchemy import DateTime, Integer, String, Text
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from shared.columns import UtcDateTime
from shared.db import new_metadata
from shared.operator_audit import OperatorActionMixin


class Base(DeclarativeBase):
    metadata = new_metadata()


class Client(Base):
    """A partner system's credentials: the secret is stored only as a salted scrypt hash."""

    __tablename__ = "client"

    client_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100))
    scopes: Mapped[str] = mapped_column(String(1000))
    secret_hash: Mapped[str] = mapped_column(String(300))
    rate_limit_quota: Mapped[int | None] = mapped_column(Integer)
    rate_limit_window_s: Mapped[int | None] = mapped_column(Integer)
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    secret_rotated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    revoked_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Whom to call about this partner's integration (kept here only, never in events).
    contact: Mapped[str | None] = mapped_column(String(300))


class MintedToken(Base):
    """A token an operator minted with `token mint`, outside OAuth: who, for whom, until when."""

    __tablename__ = "minted_token"

    jti: Mapped[str] = mapped_column(String(64), primary_key=True)
    minted_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    minted_by: Mapped[str] = mapped_column(String(200))
    organisation: Mapped[str] = mapped_column(String(100))
    subject: Mapped[str] = mapped_column(String(200))
    scopes: Mapped[str] = mapped_column(String(1000))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    environment: Mapped[str] = mapped_column(String(20))


class OperatorAction(OperatorActionMixin, Base):
    """The audit trail of operator commands (clients create/update/rotate/revoke)."""


class SigningKey(Base):
    """A token signing key pair. One is `active` (signs new tokens); a `retired` one is still
    published for verification until `verify_until`, when the last token it signed expires."""

    __tablename__ = "signing_key"

    kid: Mapped[str] = mapped_column(String(64), primary_key=True)
    private_key_pem: Mapped[str] = mapped_column(Text)
    public_jwk: Mapped[str] = mapped_column(Text)
    state: Mapped[str] = mapped_column(String(10))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UtcDateTime)
    verify_until: Mapped[datetime | None] = mapped_column(UtcDateTime)
