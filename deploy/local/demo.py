"""Demo data from the seed documents, loaded through the gateway on a system's first run.

Each service has a module `deploy/local/demo_<service>.py` with `load(client, act_as)`, which
calls the public API like any client. The client speaks as the demo organisation; `act_as`
gives the headers of another organisation, for the steps only that organisation may take
(a plan's lead creates it; a locality hub gives partners tasks). Each runs once per data
folder (a marker file records it), so a second `make run` reuses the data instead of duplicating it.
"""

import importlib
from collections.abc import Callable
from pathlib import Path

import httpx

# Metrics first: action plan targets name the indicators it defines.
DEMO_ORDER = ("referrals", "metrics", "actionplans")

# Headers that make a request on behalf of an organisation.
ActAs = Callable[[str], dict[str, str]]


def as_the_client(organisation: str) -> dict[str, str]:
    """No extra headers: the client's own token (for tests that mint one per organisation)."""
    return {}


def load_demo_data(
    gateway_url: str, token: str, marker_dir: Path, act_as: ActAs = as_the_client
) -> list[str]:
    """Run the demo steps not yet run against this data folder; returns the ones run now."""
    marker_dir.mkdir(parents=True, exist_ok=True)
    ran = []
    headers = {"Authorization": f"Bearer {token}"}
    with httpx.Client(base_url=gateway_url, timeout=60.0, headers=headers) as client:
        for name in DEMO_ORDER:
            marker = marker_dir / f"{name}.done"
            if marker.exists() or not _has_step(name):
                continue
            importlib.import_module(f"deploy.local.demo_{name}").load(client, act_as)
            marker.touch()
            ran.append(name)
    return ran


def _has_step(name: str) -> bool:
    return (Path(__file__).parent / f"demo_{name}.py").exists()
