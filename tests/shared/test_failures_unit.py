"""Which failures are waited out and which are the record's fault."""

import logging

import asyncpg.exceptions as pg
import pytest
from aiokafka.errors import (
    KafkaConnectionError,
    KafkaTimeoutError,
    MessageSizeTooLargeError,
    NodeNotReadyError,
    RequestTimedOutError,
)
from sqlalchemy.dialects.postgresql.asyncpg import AsyncAdapt_asyncpg_dbapi
from sqlalchemy.exc import DBAPIError, IntegrityError, OperationalError

from shared.failures import RetryState, is_transient

pytestmark = pytest.mark.unit


def as_sqlalchemy_raises_it(asyncpg_error: Exception) -> DBAPIError:
    """Wrap an asyncpg error the way SQLAlchemy's asyncpg dialect does: a plain DBAPIError."""
    adapted = AsyncAdapt_asyncpg_dbapi(pg).Error(str(asyncpg_error))
    adapted.sqlstate = getattr(asyncpg_error, "sqlstate", None)  # type: ignore[attr-defined]
    adapted.__cause__ = asyncpg_error
    return DBAPIError("INSERT ...", {}, adapted)


@pytest.mark.parametrize(
    "error",
    [
        pg.CannotConnectNowError("the database system is starting up"),
        pg.TooManyConnectionsError("sorry, too many clients already"),
        pg.AdminShutdownError("terminating connection due to administrator command"),
        pg.SerializationError("could not serialize access"),
        pg.DeadlockDetectedError("deadlock detected"),
        pg.ConnectionDoesNotExistError("connection was closed in the middle of operation"),
    ],
    ids=lambda error: type(error).__name__,
)
def test_postgresql_refusing_or_conflicting_is_transient_even_as_a_plain_dbapi_error(
    error: Exception,
) -> None:
    wrapped = as_sqlalchemy_raises_it(error)
    assert type(wrapped) is DBAPIError
    assert is_transient(wrapped)


@pytest.mark.parametrize(
    "error",
    [
        OperationalError("SELECT 1", {}, Exception("database is locked")),
        ConnectionRefusedError(111, "Connection refused"),
        TimeoutError(),
        KafkaConnectionError("broker down"),
        KafkaTimeoutError(),
        NodeNotReadyError(),
        RequestTimedOutError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_unreachable_infrastructure_and_timeouts_are_transient(error: Exception) -> None:
    assert is_transient(error)


@pytest.mark.parametrize(
    "error",
    [
        ValueError("this payload can never be handled"),
        KeyError("indicator"),
        IntegrityError("INSERT", {}, Exception("UNIQUE constraint failed")),
        as_sqlalchemy_raises_it(pg.NotNullViolationError("null value in column")),
        as_sqlalchemy_raises_it(pg.DataError("value too long for type character varying(20)")),
        MessageSizeTooLargeError(),
    ],
    ids=lambda error: type(error).__name__,
)
def test_errors_of_the_input_itself_are_permanent(error: Exception) -> None:
    assert not is_transient(error)


def test_a_retry_loop_backs_off_counts_and_shows_its_state(
    caplog: pytest.LogCaptureFixture,
) -> None:
    state = RetryState("test loop", logging.getLogger("test"), initial_delay_s=0.5, max_delay_s=4)
    with caplog.at_level(logging.WARNING):
        delays = [state.failed(ConnectionRefusedError("refused")) for _ in range(6)]

    assert delays == [0.5, 1.0, 2.0, 4.0, 4.0, 4.0]
    assert len(caplog.records) == 1, "one log line per interval, not one per attempt"
    health = state.health()
    assert health["retrying"] is True
    assert health["attempts"] == 6
    assert "ConnectionRefusedError" in health["last_error"]

    state.succeeded()
    assert state.health() == {"retrying": False, "total_retries": 6}
