"""The objectives plans serve: configuration (objectives.json, or ACTIONPLANS_OBJECTIVES_FILE)."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path


@dataclass(frozen=True, slots=True)
class Objective:
    code: str
    title: str


@lru_cache(maxsize=8)
def load_objectives(path: Path) -> dict[str, Objective]:
    """Objectives by code, in the file's order, read once per file."""
    document = json.loads(Path(path).read_text())
    return {
        item["code"]: Objective(code=item["code"], title=item["title"])
        for item in document["objectives"]
    }
