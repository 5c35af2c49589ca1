"""The deploy tools' virtualenv (.venv-tools, made by deploy/local/ensure-deploy-tools.sh)."""

import os
import subprocess
from pathlib import Path

import pytest

from shared.settings import REPO_ROOT

TOOLS_BIN = REPO_ROOT / ".venv-tools" / "bin"


def tool(name: str) -> Path:
    """Path of a tool, or skip (fail under REQUIRE_DEPLOY_TOOLS=1, as in CI) when missing."""
    path = TOOLS_BIN / name
    if path.exists():
        return path
    message = f"{name} is not installed (bash deploy/local/ensure-deploy-tools.sh)"
    if os.environ.get("REQUIRE_DEPLOY_TOOLS") == "1":
        pytest.fail(message)
    pytest.skip(message)


def run_tool(name: str, *args: str, timeout: float = 300) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [str(tool(name)), *args],
        cwd=REPO_ROOT,
        capture_output=True,
        text=True,
        timeout=timeout,
        check=False,
        # checkov would otherwise try to download its mappings: this machine stays offline.
        env={**os.environ, "BC_SKIP_MAPPING": "TRUE"},
    )
