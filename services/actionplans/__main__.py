import sys

from services.actionplans.config import Settings
from services.actionplans.main import SPEC
from shared.cli import run_service_cli

sys.exit(run_service_cli(SPEC, Settings, "services.actionplans.main"))
