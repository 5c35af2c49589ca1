"""Loads the objectives action plans serve: config/objectives.json, or the file a service's
`<SERVICE>_OBJECTIVES_FILE` names. Action plans validate plans against it; the metrics report
reads the same file to print an objective's title for its code."""

import json
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from shared.settings import REPO_ROOT

DEFAULT_OBJECTIVES_FILE = REPO_ROOT / "config" / "objectives.json"


@dataclass(frozen=True, slots=True)
class Objective:
    code: str
    title: str


@lru_cache(maxsize=8)
def load_objectives(path: Path = DEFAULT_OBJECTIVES_FILE) -> dict[str, Objective]:
    """Objectives by code, in the file's order, read once per file."""
    document = json.loads(Path(path).read_text())
    return {
        item["code"]: Objective(code=item["code"], title=item["title"])
        for item in document["objectives"]
    }
