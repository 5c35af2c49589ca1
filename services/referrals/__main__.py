import sys

from services.referrals.config import Settings
from services.referrals.main import SPEC
from shared.cli import run_service_cli

sys.exit(run_service_cli(SPEC, Settings, "services.referrals.main"))
