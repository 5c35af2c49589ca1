from services.referrals.config import Settings
from services.referrals.main import SPEC
from shared.cli import run_service_cli

run_service_cli(SPEC, Settings, "services.referrals.main")
