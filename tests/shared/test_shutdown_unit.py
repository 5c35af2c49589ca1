"""Shutdown is bounded: a background task that ignores the stop signal, a producer or a database
pool whose peer no longer answers must not keep a SIGTERM'd service from exiting."""

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest

from shared import app as service_app

pytestmark = pytest.mark.unit


class _Hanging:
    """A producer or engine whose close never returns (a peer that stopped answering)."""

    def __init__(self) -> None:
        self.asked = False

    async def _forever(self) -> None:
        self.asked = True
        await asyncio.Event().wait()

    def stop(self) -> Any:
        return self._forever()

    def dispose(self) -> Any:
        return self._forever()


async def test_a_stuck_task_and_hanging_connections_do_not_stop_the_shutdown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(service_app, "TASK_GRACE_S", 0.2)
    monkeypatch.setattr(service_app, "CLOSE_GRACE_S", 0.2)
    ignores_stop = asyncio.create_task(asyncio.Event().wait(), name="stuck")
    finishes = asyncio.create_task(asyncio.sleep(0), name="prompt")
    producer, engine = _Hanging(), _Hanging()
    runtime = SimpleNamespace(
        stopping=asyncio.Event(),
        relay=SimpleNamespace(stop=lambda: None),
        consumers=[],
        tasks=[ignores_stop, finishes],
        producer=producer,
        engine=engine,
    )
    await asyncio.wait_for(service_app.stop_runtime(runtime), timeout=30)  # type: ignore[arg-type]
    assert runtime.stopping.is_set()
    assert ignores_stop.cancelled() and finishes.done()
    assert producer.asked and engine.asked  # both were asked to close, neither held it up
