"""Loads the configured localities: config/localities.json, or the file a service's
`<SERVICE>_LOCALITIES_FILE` names (its `localities_file` setting)."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shared.settings import REPO_ROOT

DEFAULT_LOCALITIES_FILE = REPO_ROOT / "config" / "localities.json"


@dataclass(frozen=True, slots=True)
class Locality:
    code: str
    name: str
    authority: str
    authority_gss_code: str | None = None


@lru_cache(maxsize=8)
def load_localities(path: Path = DEFAULT_LOCALITIES_FILE) -> dict[str, Locality]:
    """Localities by code, read once per file."""
    document = json.loads(Path(path).read_text())
    return {
        item["code"]: Locality(
            code=item["code"],
            name=item["name"],
            authority=item["authority"],
            authority_gss_code=item.get("authority_gss_code"),
        )
        for item in document["localities"]
    }
