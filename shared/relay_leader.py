"""One active outbox relay per service database, elected with a PostgreSQL advisory lock.

Several instances of a service share one database; if each relayed, two relays could send
different rows of the same key and reorder them on the wire. The instance holding the
advisory lock relays; the others try again on each poll and take over within one poll
interval when the holder dies (its connection closes and PostgreSQL releases the lock).

The lock lives on a connection of its own, outside any transaction, so no row lock is held
while the relay waits on the broker. SQLite has one writer process by design: there every
relay leads (two processes relaying one SQLite file send duplicates, which inboxes drop, but
never reorder a key: each relay sends rows in sequence order).
"""

import logging
import zlib

from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

log = logging.getLogger(__name__)


def lock_id(name: str) -> int:
    """A stable 32-bit advisory lock key for a relay's name (its outbox table)."""
    return zlib.crc32(f"outbox-relay:{name}".encode())


class RelayLeadership:
    """Whether this relay may publish now; acquires and keeps the lock on PostgreSQL."""

    def __init__(self, engine: AsyncEngine, name: str) -> None:
        self._engine = engine
        self._lock_id = lock_id(name)
        self._connection: AsyncConnection | None = None
        self.is_postgresql = engine.dialect.name == "postgresql"
        self.leading = not self.is_postgresql

    async def ensure(self) -> bool:
        """True when this relay leads: it holds the lock, or just took it, or there is none."""
        if not self.is_postgresql:
            return True
        if self._connection is not None and await self._still_held():
            return True
        self.leading = await self._try_acquire()
        return self.leading

    async def _still_held(self) -> bool:
        assert self._connection is not None
        try:
            await self._connection.execute(text("SELECT 1"))
            await self._connection.commit()
            return True
        except Exception as error:
            # The connection is gone, and with it the lock: another relay may lead now.
            log.warning("outbox relay lost its leadership connection (%r)", error)
            await self.release()
            return False

    async def _try_acquire(self) -> bool:
        connection = await self._engine.connect()
        try:
            got = await connection.scalar(
                text("SELECT pg_try_advisory_lock(:id)"), {"id": self._lock_id}
            )
            # A session-level lock outlives the transaction; end it so nothing stays open.
            await connection.commit()
        except Exception:
            await connection.close()
            raise
        if not got:
            await connection.close()
            return False
        log.info("this instance now relays the outbox (advisory lock %d)", self._lock_id)
        self._connection = connection
        return True

    async def release(self) -> None:
        connection, self._connection = self._connection, None
        self.leading = not self.is_postgresql
        if connection is None:
            return
        try:
            await connection.execute(text("SELECT pg_advisory_unlock(:id)"), {"id": self._lock_id})
            await connection.commit()
        except Exception:
            await connection.invalidate()
        finally:
            await connection.close()
