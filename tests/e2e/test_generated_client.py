"""A client generated from the gateway's merged OpenAPI document works, errors included.

openapi-python-client turns the document into a typed client with `--fail-on-warning`, so any
operation it cannot express (an unknown content type, an unnamed schema, a broken `$ref`)
fails here. The client then creates a referral, reads it, and gets a 404, a 412 and a 422,
each parsed into the `Problem` model rather than `None` or an exception.
"""

import importlib
import json
import os
import subprocess
import sys
import uuid
from collections.abc import Iterator
from datetime import date
from pathlib import Path
from types import ModuleType
from typing import Any

import httpx
import pytest

from deploy.local.system import LocalSystem

pytestmark = pytest.mark.e2e

PACKAGE = "locality_hub_client"
# The CSV import's body is a file: the generator sends it as bytes with its own content type.
GENERATOR_CONFIG = (
    "content_type_overrides:\n  text/csv: application/octet-stream\n"
    f"package_name_override: {PACKAGE}\n"
)
SCOPES = "referrals:read referrals:write referrals:triage"


@pytest.fixture(scope="module")
def client_package(system: LocalSystem, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """The generated client package, imported from a temporary folder."""
    folder = tmp_path_factory.mktemp("generated")
    document = httpx.get(system.gateway_url + "/openapi.json", timeout=60).json()
    assert "x-unavailable-services" not in document, document.get("x-unavailable-services")
    (folder / "openapi.json").write_text(json.dumps(document))
    (folder / "config.yaml").write_text(GENERATOR_CONFIG)
    generator = Path(sys.executable).with_name("openapi-python-client")
    # The generator formats its output with ruff, which it looks for on PATH.
    env = {**os.environ, "PATH": f"{generator.parent}{os.pathsep}{os.environ.get('PATH', '')}"}
    done = subprocess.run(
        [
            str(generator),
            "generate",
            "--path",
            str(folder / "openapi.json"),
            "--config",
            str(folder / "config.yaml"),
            "--output-path",
            str(folder / PACKAGE),
            "--meta",
            "none",
            "--fail-on-warning",
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    sys.path.insert(0, str(folder))
    try:
        yield importlib.import_module(PACKAGE)
    finally:
        sys.path.remove(str(folder))
        for name in [name for name in sys.modules if name.split(".")[0] == PACKAGE]:
            del sys.modules[name]


def module(package: ModuleType, name: str) -> Any:
    return importlib.import_module(f"{package.__name__}.{name}")


def test_a_generated_client_creates_reads_and_parses_every_problem(
    system: LocalSystem, client_package: ModuleType
) -> None:
    models = module(client_package, "models")
    create = module(client_package, "api.referrals.create_referral_api_v1_referrals_post")
    read = module(client_package, "api.referrals.get_referral_api_v1_referrals_referral_id_get")
    triage = module(
        client_package, "api.lifecycle.triage_referral_api_v1_referrals_referral_id_triage_post"
    )
    token = system.mint_token("CLEVELAND-POLICE", SCOPES)
    client = client_package.AuthenticatedClient(
        base_url=system.gateway_url, token=token, timeout=httpx.Timeout(60)
    )
    with client:
        created = create.sync_detailed(
            client=client,
            body=models.ReferralCreate.from_dict(
                {
                    "locality_code": "NP",
                    "channel": "partner_system",
                    "category_codes": ["anti_social_behaviour"],
                    "summary": "Reported through a generated client",
                }
            ),
            idempotency_key=str(uuid.uuid4()),
        )
        assert created.status_code == 201, created.content
        referral = created.parsed
        assert isinstance(referral, models.ReferralRead)

        found = read.sync_detailed(referral.id, client=client)
        assert found.status_code == 200, found.content
        assert isinstance(found.parsed, models.ReferralRead)
        assert found.parsed.id == referral.id

        missing = read.sync_detailed(str(uuid.uuid4()), client=client)
        assert missing.status_code == 404
        assert isinstance(missing.parsed, models.Problem)
        assert missing.parsed.status == 404

        stale = triage.sync_detailed(
            referral.id,
            client=client,
            body=models.TriageRequest.from_dict(
                {"track": "see_and_solve", "rationale": "Handled at the hub"}
            ),
            if_match=f'"{referral.version + 1}"',
        )
        assert stale.status_code == 412, stale.content
        assert isinstance(stale.parsed, models.Problem)
        assert stale.parsed.additional_properties["etag"] == f'"{referral.version}"'

        unborn = models.ReferralCreate.from_dict(
            {
                "locality_code": "NP",
                "channel": "partner_system",
                "category_codes": ["anti_social_behaviour"],
                "summary": "A subject born in the future",
                "subject": {"person": {"name": "X", "date_of_birth": date(2999, 1, 1).isoformat()}},
            }
        )
        refused = create.sync_detailed(client=client, body=unborn)
        assert refused.status_code == 422, refused.content
        problem = refused.parsed
        assert isinstance(problem, models.Problem)
        assert [error.field for error in problem.errors] == ["subject.person.date_of_birth"]
