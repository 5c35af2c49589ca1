"""The contract is true: schemathesis fuzzes every OpenAPI document against the running system.

The gateway's merged document is fuzzed through the gateway, and each service's own document
against that service's port, with a valid token carrying every scope. The checks: no 5xx, only
documented statuses and content types, responses that match their schemas, and invalid input
refused. Generation is deterministic (`--generation-deterministic`, the same cases every run;
the seed is fixed as well) and the number of cases per operation is bounded, so the whole file
takes a few minutes. The system is this module's own (the fuzzer writes plenty of nonsense
that other e2e tests must not count), with a rate limit the fuzzer cannot reach.
"""

import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.system import DOMAIN_SERVICES, LocalSystem, SystemConfig
from shared.auth import KNOWN_SCOPES

pytestmark = pytest.mark.e2e

# The checks and what each accepts: not_a_server_error, status_code_conformance,
# content_type_conformance, response_schema_conformance, negative_data_rejection,
# unsupported_method and allow_header_conformance.
CONFIG = Path(__file__).with_name("schemathesis.toml")
SEED = 20261123
# Cases per operation and phase: enough to find what the issue found, small enough for CI.
MAX_EXAMPLES = {"gateway": 10, **dict.fromkeys(DOMAIN_SERVICES, 5)}
# Probes whose answers depend on the machine (readiness) and the OAuth endpoint, whose
# per-address attempt limit the fuzzer would use up (its contract is the client test's).
SKIPPED_PATHS = r"^/(livez|readyz|oauth/)"


@pytest.fixture(scope="module")
def fuzzed_system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    config = SystemConfig.on_free_ports(
        tmp_path_factory.mktemp("fuzzed"),
        extra_env={"KAFKA_SESSION_TIMEOUT_MS": "2000", "GATEWAY_RATE_LIMIT_QUOTA": "1000000"},
    )
    running = LocalSystem(config).start()
    try:
        yield running
    finally:
        running.stop()


def schemathesis(document_url: str, token: str, max_examples: int, workdir: Path) -> str:
    """Run schemathesis; return its output when it found nothing, fail with it otherwise."""
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(CONFIG),
        "run",
        document_url,
        "--header",
        f"Authorization: Bearer {token}",
        "--phases",
        "examples,coverage,fuzzing",
        "--max-examples",
        str(max_examples),
        "--seed",
        str(SEED),
        "--generation-deterministic",
        "--suppress-health-check",
        "all",
        "--workers",
        "1",
        # Generous: the machine is shared and loaded; a slow answer is not a contract breach.
        "--request-timeout",
        "60",
        "--exclude-path-regex",
        SKIPPED_PATHS,
        "--no-color",
        "--report",
        "junit",
        "--report-junit-path",
        str(workdir / "junit.xml"),
    ]
    # Run from a scratch folder: schemathesis keeps a cache where it runs.
    done = subprocess.run(
        command, capture_output=True, text=True, timeout=1200, cwd=workdir, check=False
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, f"schemathesis found contract breaches:\n{output[-20000:]}"
    return output


@pytest.mark.parametrize("document", ["gateway", *DOMAIN_SERVICES])
def test_the_fuzzer_finds_no_breach_of_the_contract(
    fuzzed_system: LocalSystem, document: str, tmp_path: Path
) -> None:
    token = fuzzed_system.mint_token("FUZZ-HUB", " ".join(sorted(KNOWN_SCOPES)))
    output = schemathesis(
        fuzzed_system.url(document) + "/openapi.json",
        token,
        MAX_EXAMPLES[document],
        tmp_path,
    )
    # A run that tested nothing would pass too: make sure the operations were reached.
    assert "Tested: 0" not in output
    assert "API Operations:" in output
