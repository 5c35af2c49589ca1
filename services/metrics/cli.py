"""`python -m services.metrics`: the commands of every domain service (`shared.cli`) and
`areas import-ons-lookup LOOKUP.csv --locality-map MAP.csv [--actor A] [--reason R]`, which
stores each locality's wards and LSOAs from the ONS lookup (recorded in `operator_action`).

Exit codes as `shared.ops_cli`: 0 done, 1 refused (a bad file; nothing stored), 2 usage error
(a file that cannot be read), 3 database unreachable.
"""

import argparse
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from services.metrics.areas import load_areas
from services.metrics.config import Settings
from services.metrics.domain.geography import GeographyFileError
from services.metrics.main import SPEC
from services.metrics.service import geography
from shared.cli import add_service_commands, configure_cli_logging, run_service_cli
from shared.clock import system_clock
from shared.db import create_engine, create_session_factory
from shared.migrations import upgrade_to_head
from shared.operator_audit import Operator, os_user
from shared.ops_cli import add_ops_commands, run_and_report
from shared.ops_commands import Refused, UsageError

APP_PATH = "services.metrics.main"


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m services.metrics")
    commands = add_service_commands(parser)
    add_ops_commands(commands)
    areas = commands.add_parser("areas", help="wards and LSOAs of the localities")
    sub = areas.add_subparsers(dest="areas_command", required=True)
    text = "store each locality's wards and LSOAs from the ONS LSOA/ward/LAD lookup CSV"
    ons = sub.add_parser("import-ons-lookup", help=text, description=text)
    ons.add_argument("lookup", type=Path, help="ONS lookup CSV (LSOA21CD, WD23CD, LAD23CD, ...)")
    ons.add_argument(
        "--locality-map",
        type=Path,
        required=True,
        help="CSV with header ward_code,locality_code: which ward belongs to which locality",
    )
    ons.add_argument("--json", action="store_true", help="print JSON instead of text")
    ons.add_argument("--actor", default=os_user(), help="who does this (default: OS user)")
    ons.add_argument("--reason", help="why (recorded)")
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    if args.command != "areas":
        return run_service_cli(SPEC, Settings, APP_PATH, argv)
    configure_cli_logging()
    return run_and_report(args, lambda: _import_ons_lookup(Settings(), args))


async def _import_ons_lookup(settings: Settings, args: argparse.Namespace) -> Any:
    try:
        lookup_text = args.lookup.read_text(encoding="utf-8-sig")
        map_text = args.locality_map.read_text(encoding="utf-8-sig")
    except (OSError, UnicodeDecodeError) as error:
        raise UsageError(f"cannot read {error}") from error
    localities = [
        code
        for code, area in load_areas(settings.areas_file, settings.localities_file).items()
        if area.kind == "locality"
    ]
    engine = create_engine(settings.resolved_database_url)
    try:
        await upgrade_to_head(engine, SPEC.migrations_dir)
        async with create_session_factory(engine)() as session:
            return await geography.import_ons_lookup(
                session,
                lookup_text=lookup_text,
                locality_map_text=map_text,
                locality_codes=localities,
                operator=Operator(args.actor, args.reason),
                now=system_clock(),
            )
    except GeographyFileError as error:
        raise Refused(f"nothing imported: {error}") from error
    finally:
        await engine.dispose()
