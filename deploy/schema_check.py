"""Validate docker-compose.yml against the official Compose Specification JSON schema.

Runs in the deploy tools' virtualenv (it has jsonschema): `.venv-tools/bin/python -m
deploy.schema_check docker-compose.yml`. The schema is vendored from compose-spec/compose-spec
(schema/compose-spec.json, Apache-2.0) in deploy/schemas/, so the check works offline.
"""

import json
import sys
from pathlib import Path

import jsonschema
import yaml

SCHEMA = Path(__file__).parent / "schemas" / "compose-spec.json"


def compose_schema_errors(compose_file: Path) -> list[str]:
    document = yaml.safe_load(compose_file.read_text())
    validator = jsonschema.Draft7Validator(json.loads(SCHEMA.read_text()))
    return [
        f"{'/'.join(map(str, error.absolute_path)) or '<root>'}: {error.message}"
        for error in validator.iter_errors(document)
    ]


def main(argv: list[str]) -> int:
    errors = [error for name in argv for error in compose_schema_errors(Path(name))]
    for error in errors:
        print(error)
    print(f"Compose Specification schema: {'OK' if not errors else f'{len(errors)} error(s)'}")
    return 1 if errors else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
