"""Caller identity: signed access tokens (JWT, RFC 9068 profile) verified by every service.

A token carries the caller's organisation (`org`) and scopes (`scope`, space separated). The
gateway issues them (and in development `python -m shared.auth mint` does); each service
verifies the signature and checks the route's scope itself, so going around the gateway gains
nothing. A route declares its scope once, with `require_scope`; that declaration is also the
operation's `security` entry in the service's OpenAPI document, from which the gateway derives
its own front-line scope check (services/gateway/scopes.py).
"""

import argparse
import base64
import hashlib
import secrets
import sys
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Protocol

import jwt
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from fastapi import Depends, Request, Security
from fastapi.openapi.models import OAuthFlowClientCredentials, OAuthFlows
from fastapi.security import OAuth2

from shared import tracing
from shared.jwks import ExternalIssuer
from shared.problems import Forbidden, Unauthorized

ALGORITHMS = ["RS256"]
ACCESS_TOKEN_TYPE = "at+jwt"
SECURITY_SCHEME = "OAuth2"

# Every scope a token may carry; `admin` passes every check.
KNOWN_SCOPES = frozenset(
    {
        "referrals:read",
        "referrals:write",
        "referrals:triage",
        "actionplans:read",
        "actionplans:write",
        "metrics:read",
        "metrics:write",
        "audit:read",
        "webhooks:manage",
        "admin",
    }
)


@dataclass(frozen=True, slots=True)
class Caller:
    """Who is calling: the client (or user), its organisation and what it may do."""

    subject: str
    organisation: str
    scopes: frozenset[str]
    client_id: str | None = None
    token_id: str | None = None

    def has_scope(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes


class KeySource(Protocol):
    """Our own verification keys that change while we run (the gateway's key set)."""

    def get(self, kid: str) -> Any | None: ...

    async def refresh_for_unknown_kid(self) -> bool:
        """Fetch the keys again now, unless that was done too recently; True when it did."""
        ...


class RevokedClients(Protocol):
    """Clients whose unexpired tokens must be refused (revoked at the gateway)."""

    def is_revoked(self, client_id: str) -> bool: ...


class TokenVerifier:
    """Verifies access tokens: RS256 ones signed by our own keys (looked up by `kid`: fixed ones
    and those of a changing `key_source`), and those of trusted external identity providers
    (JWKS) when any are configured. With `revoked`, tokens of revoked clients are refused."""

    def __init__(
        self,
        public_keys_pem: list[bytes],
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 30,
        external_issuers: Sequence[ExternalIssuer] = (),
        key_source: KeySource | None = None,
        revoked: RevokedClients | None = None,
    ):
        self._keys = {
            key_id(pem): serialization.load_pem_public_key(pem) for pem in public_keys_pem
        }
        self._issuer = issuer
        self._audience = audience
        self._leeway_s = leeway_s
        self._external = list(external_issuers)
        self._key_source = key_source
        self._revoked = revoked

    @classmethod
    def from_file(
        cls,
        path: Path,
        *,
        issuer: str,
        audience: str,
        leeway_s: int = 30,
        external_issuers: Sequence[ExternalIssuer] = (),
    ) -> "TokenVerifier":
        """Load every PEM public key in the file (several during a key rotation)."""
        text = path.read_bytes()
        marker = b"-----END PUBLIC KEY-----"
        pems = [
            part.strip() + b"\n" + marker + b"\n" for part in text.split(marker) if part.strip()
        ]
        return cls(
            pems,
            issuer=issuer,
            audience=audience,
            leeway_s=leeway_s,
            external_issuers=external_issuers,
        )

    def verify(self, token: str) -> Caller:
        """Return the caller, or raise Unauthorized saying why the token is refused."""
        header = _unverified_header(token)
        kid = header.get("kid", "")
        own_key = self._own_key(kid)
        if own_key is not None:
            if str(header.get("typ", "")).lower() not in (ACCESS_TOKEN_TYPE, "application/at+jwt"):
                raise Unauthorized("The token is not an access token (typ must be at+jwt).")
            return self._decode(token, own_key, ALGORITHMS, self._issuer, self._audience)
        for external in self._external:
            key = external.keys.get(kid)
            if key is not None:
                return self._decode(
                    token, key, external.algorithms, external.issuer, external.audience
                )
        raise Unauthorized("The access token was signed by an unknown key.")

    async def verify_async(self, token: str) -> Caller:
        """As `verify`, fetching key sets when stale or when a token names a new key, and
        refusing the tokens of revoked clients."""
        for external in self._external:
            if external.keys.is_stale() and external.keys.may_refresh():
                await external.keys.refresh()
        try:
            caller = self.verify(token)
        except Unauthorized:
            if not await self._refresh_for(_unverified_header(token).get("kid", "")):
                raise
            caller = self.verify(token)
        revoked = self._revoked
        if revoked is not None and caller.client_id and revoked.is_revoked(caller.client_id):
            raise Unauthorized("The client this token was issued to has been revoked.")
        return caller

    def _own_key(self, kid: str) -> Any | None:
        key = self._keys.get(kid)
        if key is None and self._key_source is not None:
            key = self._key_source.get(kid)
        return key

    async def _refresh_for(self, kid: str) -> bool:
        """Fetch the key sets again when none knows `kid` (bounded by each set); True if any was."""
        if self._own_key(kid) is not None:
            return False
        if any(external.keys.get(kid) is not None for external in self._external):
            return False
        refreshed = False
        if self._key_source is not None:
            refreshed = await self._key_source.refresh_for_unknown_kid()
        for external in self._external:
            if external.keys.may_refresh():
                await external.keys.refresh()
                refreshed = True
        return refreshed

    def _decode(
        self, token: str, key: Any, algorithms: list[str], issuer: str, audience: str
    ) -> Caller:
        try:
            claims = jwt.decode(
                token,
                key,
                algorithms=algorithms,
                audience=audience,
                issuer=issuer,
                leeway=self._leeway_s,
                options={"require": ["exp", "iat", "iss", "aud", "sub", "org"]},
            )
        except jwt.ExpiredSignatureError as error:
            raise Unauthorized("The access token has expired.") from error
        except jwt.PyJWTError as error:
            raise Unauthorized(f"The access token is not valid: {error}.") from error
        return caller_from_claims(claims)


def _unverified_header(token: str) -> dict[str, Any]:
    try:
        return jwt.get_unverified_header(token)
    except jwt.PyJWTError as error:
        raise Unauthorized(f"The access token is malformed: {error}.") from error


def caller_from_claims(claims: dict[str, Any]) -> Caller:
    organisation = claims.get("org")
    if not isinstance(organisation, str) or not organisation:
        raise Unauthorized("The access token names no organisation.")
    scope = claims.get("scope", "")
    return Caller(
        subject=str(claims["sub"]),
        organisation=organisation,
        scopes=frozenset(scope.split() if isinstance(scope, str) else scope),
        client_id=claims.get("client_id"),
        token_id=claims.get("jti"),
    )


def bearer_token(request: Request) -> str:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Send an access token in the Authorization header: 'Bearer <token>'.")
    return token.strip()


# Only describes the bearer token in OpenAPI (and carries each route's scope there); it reads
# nothing itself (auto_error=False): `authenticate` does the checking.
bearer_scheme = OAuth2(
    flows=OAuthFlows(
        clientCredentials=OAuthFlowClientCredentials(
            tokenUrl="/oauth/token",
            scopes={scope: scope.replace(":", " ") for scope in sorted(KNOWN_SCOPES)},
        )
    ),
    scheme_name=SECURITY_SCHEME,
    auto_error=False,
)


async def authenticate(
    request: Request, _token: Annotated[str | None, Depends(bearer_scheme)] = None
) -> Caller:
    """FastAPI dependency: the verified caller of this request."""
    caller = getattr(request.state, "caller", None)
    if caller is None:
        caller = await request.app.state.token_verifier.verify_async(bearer_token(request))
        request.state.caller = caller
        tracing.annotate_caller(caller.organisation, caller.client_id)
    return caller


CurrentCaller = Annotated[Caller, Depends(authenticate)]


def require_scope(scope: str) -> Any:
    """FastAPI dependency that refuses a caller without `scope` (403).

    Declared with `Security`, so the scope is listed on the operation in the OpenAPI document:
    the one place the gateway learns it from.
    """
    if scope not in KNOWN_SCOPES:
        raise ValueError(f"unknown scope {scope!r}")

    async def check(caller: CurrentCaller) -> Caller:
        if not caller.has_scope(scope):
            raise Forbidden(f"This operation needs the scope '{scope}'.", required_scope=scope)
        return caller

    return Security(check, scopes=[scope])


def key_id(public_pem: bytes) -> str:
    """RFC 7638-style thumbprint, short enough for a `kid` header."""
    key = serialization.load_pem_public_key(public_pem)
    der = key.public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return base64.urlsafe_b64encode(hashlib.sha256(der).digest()[:16]).rstrip(b"=").decode()


def ensure_signing_keypair(directory: Path) -> tuple[Path, Path]:
    """The development signing key: generated on first run, kept in the data folder."""
    private_path = directory / "signing-key.pem"
    public_path = directory / "signing-key.pub.pem"
    if private_path.exists() and public_path.exists():
        return private_path, public_path
    directory.mkdir(parents=True, exist_ok=True)
    private_key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private_path.write_bytes(
        private_key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    private_path.chmod(0o600)
    public_path.write_bytes(
        private_key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
        )
    )
    return private_path, public_path


def mint_token(
    private_key_pem: bytes,
    *,
    organisation: str,
    scopes: list[str] | str,
    issuer: str,
    audience: str,
    subject: str | None = None,
    client_id: str | None = None,
    ttl_s: int = 3600,
    extra_claims: dict[str, Any] | None = None,
) -> str:
    """Sign an RFC 9068 access token for an organisation and its scopes."""
    private_key = serialization.load_pem_private_key(private_key_pem, password=None)
    public_pem = private_key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    now = int(time.time())
    scope = scopes if isinstance(scopes, str) else " ".join(scopes)
    claims = {
        "iss": issuer,
        "aud": audience,
        "sub": subject or client_id or f"dev:{organisation}",
        "client_id": client_id or subject or f"dev:{organisation}",
        "org": organisation,
        "scope": scope,
        "iat": now,
        "exp": now + ttl_s,
        "jti": secrets.token_hex(16),
        **(extra_claims or {}),
    }
    headers = {"typ": ACCESS_TOKEN_TYPE, "kid": key_id(public_pem)}
    return jwt.encode(claims, private_key, algorithm="RS256", headers=headers)  # type: ignore[arg-type]


# Every scope but `admin`: what a development token gets by default.
ALL_SCOPES = " ".join(sorted(KNOWN_SCOPES - {"admin"}))


def main(argv: list[str] | None = None) -> None:
    """`python -m shared.auth mint --org NO-HUB` prints a development token; `keygen` makes keys."""
    from shared.settings import ServiceSettings

    settings = ServiceSettings()
    parser = argparse.ArgumentParser(prog="python -m shared.auth")
    commands = parser.add_subparsers(dest="command", required=True)
    mint = commands.add_parser("mint", help="mint a development access token")
    mint.add_argument("--org", required=True, help="organisation code, e.g. CLEVELAND-POLICE")
    mint.add_argument("--scopes", default=ALL_SCOPES, help="space-separated scopes")
    mint.add_argument("--subject", default=None)
    mint.add_argument("--ttl", type=int, default=3600, help="lifetime in seconds")
    mint.add_argument("--key-dir", type=Path, default=settings.data_dir / "keys")
    keygen = commands.add_parser("keygen", help="create the token signing key pair if missing")
    keygen.add_argument("--dir", type=Path, default=settings.data_dir / "keys")
    args = parser.parse_args(argv)
    if args.command == "keygen":
        private_path, public_path = ensure_signing_keypair(args.dir)
        sys.stdout.write(f"private key: {private_path}\npublic key:  {public_path}\n")
        return
    private_path, _ = ensure_signing_keypair(args.key_dir)
    token = mint_token(
        private_path.read_bytes(),
        organisation=args.org,
        scopes=args.scopes,
        subject=args.subject,
        issuer=settings.auth_issuer,
        audience=settings.auth_audience,
        ttl_s=args.ttl,
    )
    sys.stdout.write(token + "\n")


if __name__ == "__main__":
    main()
