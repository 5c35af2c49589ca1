"""One writer at a time inside the process, so SQLite never answers "database is locked".

SQLite allows one write transaction per database. When several of a service's connections
try to write at once, all but one get SQLITE_BUSY and sleep in the busy handler's growing
back-off (1, 2, 5, ... 100 ms), which under load gives second-long tails and, past the
timeout, errors. Every writer of a service's database lives in its process, so an asyncio lock
queues them fairly instead: a connection takes the lock before its first write statement
(pysqlite opens the transaction there too; plain reads run outside transactions and never
wait) and gives it back once its commit or rollback has finished. The wait is bounded;
SQLite's busy timeout stays as the backstop for writers from other processes (migrations).
"""

import asyncio
from typing import Any

from sqlalchemy import event
from sqlalchemy.engine import Connection
from sqlalchemy.exc import OperationalError
from sqlalchemy.ext.asyncio import AsyncEngine
from sqlalchemy.util import await_only

HOLDS_LOCK = "holds_sqlite_write_lock"
WRITE_VERBS = ("INSERT", "UPDATE", "DELETE", "REPLACE")


def serialise_writes(engine: AsyncEngine, *, wait_s: float) -> None:
    """Queue the engine's write transactions on one in-process lock (at most `wait_s` each)."""
    lock = asyncio.Lock()

    def take_before_first_write(conn: Connection, _cursor: Any, statement: str, *_: Any) -> None:
        if conn.info.get(HOLDS_LOCK) or not statement.lstrip().upper().startswith(WRITE_VERBS):
            return
        try:
            await_only(asyncio.wait_for(lock.acquire(), wait_s))
        except TimeoutError as error:
            raise OperationalError(
                statement, None, TimeoutError(f"no write turn on SQLite within {wait_s}s")
            ) from error
        conn.info[HOLDS_LOCK] = True

    def end_then_release(conn: Connection, end: str) -> None:
        # The event fires before SQLAlchemy ends the transaction; end it here first, so the
        # next writer never meets this one's still-open transaction. SQLAlchemy's own
        # commit or rollback that follows finds nothing to do.
        if not conn.info.pop(HOLDS_LOCK, False):
            return
        try:
            dbapi_connection = conn.connection.dbapi_connection
            if dbapi_connection is not None:
                getattr(dbapi_connection, end)()
        finally:
            lock.release()

    def on_commit(conn: Connection) -> None:
        end_then_release(conn, "commit")

    def on_rollback(conn: Connection) -> None:
        end_then_release(conn, "rollback")

    def on_checkin(_dbapi_connection: Any, record: Any) -> None:
        # A connection returned or invalidated in the middle of a write: never keep the turn.
        if record is not None and record.info.pop(HOLDS_LOCK, False):
            lock.release()

    sync_engine = engine.sync_engine
    event.listen(sync_engine, "before_cursor_execute", take_before_first_write)
    event.listen(sync_engine, "commit", on_commit)
    event.listen(sync_engine, "rollback", on_rollback)
    event.listen(sync_engine.pool, "checkin", on_checkin)
