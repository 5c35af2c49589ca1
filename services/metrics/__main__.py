import sys

from services.metrics.config import Settings
from services.metrics.main import SPEC
from shared.cli import run_service_cli

sys.exit(run_service_cli(SPEC, Settings, "services.metrics.main"))
