"""The domain services' own apps and OpenAPI documents, built in-process (no database needed)."""

import functools
import importlib
from pathlib import Path
from typing import Any

from fastapi import FastAPI

from tests import harness

SERVICES = ("referrals", "actionplans", "metrics")


@functools.cache
def service_app(name: str) -> FastAPI:
    """The service's app as `create_app` builds it; its lifespan is never run."""
    config = importlib.import_module(f"services.{name}.config")
    main = importlib.import_module(f"services.{name}.main")
    unused = Path("never-written")
    values = harness.test_settings_values(unused, "sqlite+aiosqlite://", "x:1", unused / "k.pem")
    app: FastAPI = main.create_app(config.Settings(**values))
    return app


def service_document(name: str) -> dict[str, Any]:
    """The service's `/openapi.json`, as the gateway reads it."""
    return service_app(name).openapi()
