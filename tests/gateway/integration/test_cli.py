"""`python -m services.gateway clients create|list|rotate|revoke` and `token mint`."""

import json
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
