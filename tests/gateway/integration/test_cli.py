"""`python -m services.gateway clients create|list|rotate|revoke` and `token mint`."""

import json
from datetime import datetime, timedelta
from pathlib import Path

import jwt
import pytest

from services.gateway.cli import main

pytestmark = pytest.mark.integration


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("DATA_DIR", str(tmp_path))
    for name in ("AUTH_PRIVATE_KEY_FILE", "AUTH_PUBLIC_KEY_FILE", "GATEWAY_DATABASE_URL"):
        monkeypatch.delenv(name, raising=False)
    return tmp_path


def run(capsys: pytest.CaptureFixture[str], *argv: str) -> object:
    assert main(list(argv)) == 0
    return json.loads(capsys.readouterr().out)


def test_a_client_is_created_listed_rotated_and_revoked_without_showing_stored_secrets(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    created = run(
        capsys,
        "clients",
        "create",
        "--name",
        "Police RMS",
        "--org",
        "CLEVELAND-POLICE",
        "--scopes",
        "referrals:read referrals:write",
        "--rate-limit",
        "120/60",
    )
    assert isinstance(created, dict)
    client_id, secret = created["client_id"], created["client_secret"]
    assert created["rate_limit"] == "120/60"
    listed = run(capsys, "clients", "list")
    assert [c["client_id"] for c in listed] == [client_id]  # type: ignore[union-attr]
    assert secret not in json.dumps(listed)
    assert secret not in (data_dir / "gateway.sqlite3").read_bytes().decode("latin-1")

    rotated = run(capsys, "clients", "rotate", client_id)
    assert rotated["client_secret"] != secret  # type: ignore[index]
    revoked = run(capsys, "clients", "revoke", client_id)
    assert revoked["revoked_at"] is not None  # type: ignore[index]


def test_unknown_scopes_and_unknown_clients_are_refused(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["clients", "create", "--name", "X", "--org", "O", "--scopes", "everything"]) == 1
    assert "Unknown scopes: everything" in capsys.readouterr().err
    assert main(["clients", "revoke", "lh_nobody"]) == 1


def test_a_development_token_is_minted_with_the_dev_key(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "mint", "--org", "DEMO-HUB", "--scopes", "metrics:read"]) == 0
    token = capsys.readouterr().out.strip()
    public_key = (data_dir / "keys" / "signing-key.pub.pem").read_bytes()
    claims = jwt.decode(token, public_key, algorithms=["RS256"], audience="locality-hub-api")
    assert claims["org"] == "DEMO-HUB"
    assert claims["scope"] == "metrics:read"
    assert jwt.get_unverified_header(token)["typ"] == "at+jwt"


def minted_rows(data_dir: Path) -> list[tuple[str, ...]]:
    import sqlite3

    with sqlite3.connect(data_dir / "gateway.sqlite3") as connection:
        query = "SELECT jti, minted_by, organisation, scopes, expires_at FROM minted_token"
        return list(connection.execute(query))


def test_every_minted_token_is_recorded_with_who_for_whom_scopes_and_expiry(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    argv = ["token", "mint", "--org", "NP-HUB", "--scopes", "referrals:read", "--by", "ops-alice"]
    assert main([*argv, "--ttl", "600"]) == 0
    claims = jwt.decode(capsys.readouterr().out.strip(), options={"verify_signature": False})
    ((jti, minted_by, organisation, scopes, expires_at),) = minted_rows(data_dir)
    assert (jti, minted_by, organisation, scopes) == (
        claims["jti"], "ops-alice", "NP-HUB", "referrals:read",
    )  # fmt: skip
    assert claims["exp"] - claims["iat"] == 600
    assert expires_at.startswith("20")


def test_a_lifetime_past_the_maximum_is_refused_and_nothing_is_minted(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["token", "mint", "--org", "NP-HUB", "--ttl", str(8 * 3600 + 1)]) == 1
    assert "--ttl must be between 1 and 28800" in capsys.readouterr().err
    assert not (data_dir / "gateway.sqlite3").exists() or minted_rows(data_dir) == []


def test_minting_in_production_needs_explicit_permission(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    from shared.auth import ensure_signing_keypair

    private_key, public_key = ensure_signing_keypair(data_dir / "real-keys")
    password = data_dir / "password"
    password.write_text("not-a-placeholder")
    for name, value in {
        "ENVIRONMENT": "production",
        "AUTH_PRIVATE_KEY_FILE": str(private_key),
        "AUTH_PUBLIC_KEY_FILE": str(public_key),
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(
        "services.gateway.cli.Settings", lambda: production_settings_on_sqlite(data_dir, password)
    )
    assert main(["token", "mint", "--org", "NP-HUB"]) == 1
    assert "refused in production" in capsys.readouterr().err
    allowed = ["--by", "ops-bob", "--allow-in-production"]
    assert main(["token", "mint", "--org", "NP-HUB", *allowed]) == 0
    assert [row[1] for row in minted_rows(data_dir)] == ["ops-bob"]


def production_settings_on_sqlite(data_dir: Path, password: Path):  # type: ignore[no-untyped-def]
    """Valid production settings, then pointed at a SQLite file (PostgreSQL is not the point)."""
    from services.gateway.config import Settings

    settings = Settings(
        database_host="db.internal", database_user="gateway_owner", database_password_file=password
    )
    return settings.model_copy(
        update={"database_url": f"sqlite:///{data_dir / 'gateway.sqlite3'}", "database_host": None}
    )


def test_clients_need_an_organisation_code_and_at_least_one_scope(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    for org in ("cleveland police", "Cleveland-Police", "_POLICE", "P"):
        create = ["clients", "create", "--name", "X", "--org", org, "--scopes", "metrics:read"]
        assert main(create) == 1, org
        assert "is not an organisation code" in capsys.readouterr().err
        assert main(["token", "mint", "--org", org, "--scopes", "metrics:read"]) == 1, org
    empty = ["clients", "create", "--name", "X", "--org", "CLEVELAND-POLICE", "--scopes", " "]
    assert main(empty) == 1
    assert "at least one scope" in capsys.readouterr().err
    assert main(["token", "mint", "--org", "DEMO-HUB", "--scopes", ""]) == 1


def test_keys_rotate_makes_a_new_active_key_and_keeps_the_old_one_until_its_tokens_expire(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    [first] = run(capsys, "keys", "list", "--json")  # type: ignore[misc]
    assert first["state"] == "active"
    assert main(["token", "mint", "--org", "DEMO-HUB"]) == 0
    assert jwt.get_unverified_header(capsys.readouterr().out.strip())["kid"] == first["kid"]

    rotate = ["keys", "rotate", "--json", "--actor", "ops-alice", "--reason", "scheduled"]
    rotated = run(capsys, *rotate)
    assert isinstance(rotated, dict)
    [retired] = rotated["retired"]
    assert (retired["kid"], retired["state"]) == (first["kid"], "retired")
    assert rotated["active"]["kid"] != first["kid"]
    assert "private" not in json.dumps(rotated).lower()
    # The old key verifies until the longest-lived token it may have signed has expired.
    retired_at = datetime.fromisoformat(retired["retired_at"])
    verify_until = datetime.fromisoformat(retired["verify_until"])
    assert verify_until - retired_at == timedelta(seconds=8 * 3600 + 30)

    assert main(["token", "mint", "--org", "DEMO-HUB"]) == 0
    minted = capsys.readouterr().out.strip()
    assert jwt.get_unverified_header(minted)["kid"] == rotated["active"]["kid"]
    assert main(["keys", "list"]) == 0
    listing = capsys.readouterr().out
    assert f"{rotated['active']['kid']}  active" in listing
    assert f"{first['kid']}  retired" in listing
    # Who rotated, when and why is on the record, in the gateway's own database.
    [action, *_] = run(capsys, "actions", "list", "--json")  # type: ignore[misc]
    assert (action["action"], action["actor"], action["reason"]) == (
        "keys.rotate",
        "ops-alice",
        "scheduled",
    )
    assert action["target"] == rotated["active"]["kid"]
    assert action["details"]["retired"] == [first["kid"]]


def test_keys_rotate_needs_a_reason(data_dir: Path) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["keys", "rotate"])
    assert exit_.value.code == 2
