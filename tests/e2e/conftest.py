from collections.abc import Iterator
from pathlib import Path

import pytest

from deploy.local.system import LocalSystem, SystemConfig


@pytest.fixture(scope="module")
def system(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalSystem]:
    """The whole system started the way `make run` starts it: own broker, SQLite files."""
    data_dir: Path = tmp_path_factory.mktemp("system")
    config = SystemConfig.on_free_ports(data_dir, extra_env={"KAFKA_SESSION_TIMEOUT_MS": "2000"})
    running = LocalSystem(config).start()
    try:
        yield running
    finally:
        running.stop()
