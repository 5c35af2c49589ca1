"""The write assignments (writers.json): read once per file, like the areas."""

import json
from functools import lru_cache
from pathlib import Path

from services.metrics.domain.write_ownership import WriteAssignments

DEFAULT_WRITERS_FILE = Path(__file__).parent / "writers.json"


@lru_cache(maxsize=8)
def load_write_assignments(path: Path = DEFAULT_WRITERS_FILE) -> WriteAssignments:
    document = json.loads(Path(path).read_text())
    return WriteAssignments(
        indicator_stewards=frozenset(document.get("indicator_stewards", [])),
        by_area={code: frozenset(orgs) for code, orgs in document.get("areas", {}).items()},
        by_indicator={
            code: frozenset(orgs) for code, orgs in document.get("indicators", {}).items()
        },
    )
