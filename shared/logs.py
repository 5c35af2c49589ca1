"""Process-wide logging: timestamped lines on stderr, level from LOG_LEVEL (default INFO)."""

import logging
import os

FORMAT = "%(asctime)s %(levelname)s %(name)s %(message)s"


def configure_logging() -> None:
    """Configure the root logger once; a host that configured logging already keeps its own."""
    root = logging.getLogger()
    if root.handlers:
        return
    logging.basicConfig(level=os.environ.get("LOG_LEVEL", "INFO").upper(), format=FORMAT)
    # aiokafka logs every retry of a broker outage at WARNING; one line per state change is enough.
    logging.getLogger("aiokafka").setLevel(os.environ.get("KAFKA_LOG_LEVEL", "ERROR").upper())
