"""Readable references (`NP-2026-000123`) without serialising intakes on one counter row.

Each process reserves a block of numbers per locality and year in a short transaction of its
own (one `UPDATE ... RETURNING` on `reference_counter`, committed at once) and hands them out
from memory. The intake's own transaction never touches the counter row, so concurrent intakes
for one locality no longer wait on its lock; the counter row is locked for one statement per
block instead of for the whole of every intake.

The price, accepted by the issue: gaps. A number is never reused, but one is skipped when its
intake rolls back or turns out to be an idempotent retry, and the unused rest of a block is
lost when the process stops. With several
processes (uvicorn workers, instances) each holds its own block, so numbers are unique but not
in order of receipt across processes. References are identifiers a resident can read out, not
a count of referrals.
"""

import asyncio
from dataclasses import dataclass, field
from weakref import WeakKeyDictionary

from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession

from services.referrals import domain, repository

BLOCK_SIZE = 20


@dataclass
class _Block:
    next_number: int = 1
    last_number: int = 0  # an empty block: the first take reserves one


@dataclass
class ReferenceAllocator:
    """The blocks one process holds for one database."""

    engine: AsyncEngine
    block_size: int = BLOCK_SIZE
    _blocks: dict[tuple[str, int], _Block] = field(default_factory=dict)
    _lock: asyncio.Lock = field(default_factory=asyncio.Lock)

    async def take(self, locality_code: str, year: int) -> str:
        """The next free reference for a locality and year."""
        async with self._lock:  # one reservation at a time; every other take is from memory
            block = self._blocks.setdefault((locality_code, year), _Block())
            if block.next_number > block.last_number:
                block.last_number = await self._reserve(locality_code, year)
                block.next_number = block.last_number - self.block_size + 1
            number = block.next_number
            block.next_number += 1
        return domain.format_reference(locality_code, year, number)

    async def _reserve(self, locality_code: str, year: int) -> int:
        async with AsyncSession(self.engine) as session, session.begin():
            return await repository.reserve_reference_numbers(
                session, locality_code, year, self.block_size
            )


# One allocator per engine (per service instance and database), dropped with the engine.
_allocators: "WeakKeyDictionary[Engine, ReferenceAllocator]" = WeakKeyDictionary()


async def next_reference(session: AsyncSession, locality_code: str, year: int) -> str:
    """Take a reference; call it outside any transaction of the caller's.

    A reservation needs a connection of its own: callers that waited for it while holding one
    could take every connection of the pool and wait forever. On SQLite the reservation is
    also a write that must not queue behind the caller's own write lock.
    """
    bind = session.bind
    assert isinstance(bind, AsyncEngine), "the service's sessions are bound to its engine"
    allocator = _allocators.get(bind.sync_engine)
    if allocator is None:
        allocator = _allocators[bind.sync_engine] = ReferenceAllocator(bind)
    return await allocator.take(locality_code, year)
