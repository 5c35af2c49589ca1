"""`clients update` and the audit trail of every client change (`actions list`), exit codes."""

import json
from pathlib import Path

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
    code = main(list(argv))
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return json.loads(captured.out)


def created_client(capsys: pytest.CaptureFixture[str]) -> str:
    created = run(
        capsys,
        "clients", "create", "--name", "Police RMS", "--org", "CLEVELAND-POLICE",
        "--scopes", "referrals:read", "--actor", "ops-ann", "--reason", "onboarding",
    )  # fmt: skip
    assert isinstance(created, dict)
    return str(created["client_id"])


def test_a_client_update_changes_scopes_rate_limit_and_contact_and_is_recorded(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client_id = created_client(capsys)
    updated = run(
        capsys,
        "clients", "update", client_id, "--scopes", "referrals:read referrals:write",
        "--rate-limit", "10/s", "--contact", "rms-oncall@police.example",
        "--actor", "ops-bob", "--reason", "ticket 42: write access agreed",
    )  # fmt: skip
    assert updated == {
        **updated,  # type: ignore[dict-item]
        "scopes": "referrals:read referrals:write",
        "rate_limit": "10/1",
        "contact": "rms-oncall@police.example",
    }
    listed = run(capsys, "clients", "list")
    assert listed[0]["scopes"] == "referrals:read referrals:write"  # type: ignore[index]
    run(capsys, "clients", "update", client_id, "--rate-limit", "default", "--reason", "back")
    run(capsys, "clients", "rotate", client_id, "--actor", "ops-bob", "--reason", "leaked")
    run(capsys, "clients", "revoke", client_id, "--actor", "ops-bob", "--reason", "contract ended")

    actions = run(capsys, "actions", "list", "--json")
    assert isinstance(actions, list)
    assert [(a["action"], a["target"]) for a in actions] == [
        ("clients.revoke", client_id),
        ("clients.rotate", client_id),
        ("clients.update", client_id),
        ("clients.update", client_id),
        ("clients.create", client_id),
    ]
    update = actions[3]
    assert (update["actor"], update["reason"]) == ("ops-bob", "ticket 42: write access agreed")
    assert update["details"]["scopes"] == ["referrals:read", "referrals:read referrals:write"]
    assert update["details"]["rate_limit_quota"] == [None, 10]
    assert actions[1]["reason"] == "leaked"
    assert "client_secret" not in json.dumps(actions)
    assert len(run(capsys, "actions", "list", "--limit", "2", "--json")) == 2  # type: ignore[arg-type]


def test_refused_changes_exit_1_and_record_nothing(
    data_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    client_id = created_client(capsys)
    assert (
        main(["clients", "update", "lh_nobody", "--scopes", "metrics:read", "--reason", "x"]) == 1
    )
    assert main(["clients", "update", client_id, "--scopes", "everything", "--reason", "x"]) == 1
    assert main(["clients", "update", client_id, "--reason", "nothing given"]) == 1
    assert "Nothing to change" in capsys.readouterr().err
    actions = run(capsys, "actions", "list", "--json")
    assert [a["action"] for a in actions] == ["clients.create"]  # type: ignore[union-attr]


def test_usage_errors_exit_2(data_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    client_id = created_client(capsys)
    with pytest.raises(SystemExit) as no_reason:
        main(["clients", "update", client_id, "--scopes", "metrics:read"])
    assert no_reason.value.code == 2
    assert main(["clients", "update", client_id, "--rate-limit", "lots", "--reason", "x"]) == 2
    assert "--rate-limit must be" in capsys.readouterr().err


def test_an_unreachable_database_exits_3(
    data_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("GATEWAY_DATABASE_URL", "postgresql+asyncpg://nobody@127.0.0.1:1/gateway")
    assert main(["actions", "list"]) == 3
    assert main(["clients", "revoke", "lh_nobody", "--reason", "x"]) == 3
    assert "unreachable" in capsys.readouterr().err
