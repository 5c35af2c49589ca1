"""ETag and If-Match, one format for every service: the row's version number, `"7"`.

Every update names the version it read (`If-Match: "7"`; `*` means any), and the use case
replaces only that version: 428 without If-Match, 412 when the row has moved on. The check is
part of the write (`claim_version`: `UPDATE ... WHERE id = :id AND version = :expected`), so
concurrent changes naming one ETag cannot both win.
"""

from typing import Annotated, Any

from fastapi import Depends, Header, Response
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession

from shared.problems import PreconditionFailed, PreconditionRequired


def etag(version: int) -> str:
    """The strong entity tag of a row at `version`."""
    return f'"{version}"'


def set_etag(response: Response, version: int) -> None:
    response.headers["ETag"] = etag(version)


def parse_if_match(header: str | None) -> int | None:
    """The version an If-Match header names; None for `*`. 428 without one; 412 for a tag this
    API never issued, or a weak one (If-Match compares strongly, RFC 9110 13.1.1)."""
    if header is None or not header.strip():
        raise PreconditionRequired(
            "Send If-Match with the ETag of your last read, so a change made meanwhile is not "
            "overwritten."
        )
    tags = [tag.strip() for tag in header.split(",")]
    if "*" in tags:
        return None
    versions = {int(tag[1:-1]) for tag in tags if _is_version_tag(tag)}
    if len(versions) != 1:
        raise PreconditionFailed(
            f"If-Match {header.strip()} does not name one current ETag; send the ETag of your "
            "last read."
        )
    return versions.pop()


def ensure_version(current: int, expected: int | None) -> None:
    """412 unless the row is still at the version the caller read (None: any version)."""
    if expected is not None and current != expected:
        raise PreconditionFailed(
            "The resource changed since you read it; read it again and retry with its ETag.",
            etag=etag(current),
        )


def check_if_match(header: str | None, current: int) -> int:
    """Parse and check in one step, for a use case that has read the row: returns the version
    the update replaces; a 412 names the row's current ETag."""
    try:
        expected = parse_if_match(header)
    except PreconditionFailed as refused:
        raise PreconditionFailed(refused.detail, etag=etag(current)) from refused
    ensure_version(current, expected)
    return current


async def claim_version(
    session: AsyncSession, model: type[Any], row_id: Any, expected: int | None
) -> int:
    """Compare-and-set: move the row from the version the caller read to the next one, in one
    guarded UPDATE (`WHERE id = :id AND version = :expected`), and return the new version.

    The check and the write are one statement, so of N concurrent changes naming the same ETag
    exactly one matches a row; the others update nothing and get 412 with the current ETag. On
    PostgreSQL the UPDATE also takes the row lock until commit; on SQLite it is the first write
    of the transaction, so it takes the service's write turn (shared/sqlite_writes.py).
    `model` is a mapped class with `id` and `version` columns. `expected` None (`If-Match: *`)
    still bumps the version, under the same lock.
    """
    guard = [model.id == row_id]
    if expected is not None:
        guard.append(model.version == expected)
    # The caller refreshes its object after the claim; nothing in the session to synchronise.
    claim = update(model).where(*guard).values(version=model.version + 1).returning(model.version)
    claimed = await session.scalar(claim.execution_options(synchronize_session=False))
    if claimed is not None:
        return int(claimed)
    current = await session.scalar(select(model.version).where(model.id == row_id))
    refused = "The resource changed since you read it; read it again and retry with its ETag."
    if current is None:  # deleted meanwhile
        raise PreconditionFailed(refused)
    raise PreconditionFailed(refused, etag=etag(current))


def _is_version_tag(tag: str) -> bool:
    return len(tag) > 2 and tag.startswith('"') and tag.endswith('"') and tag[1:-1].isdigit()


def _expected_version(
    if_match: Annotated[
        str | None,
        Header(
            alias="If-Match",
            description="The ETag from your last read; required on every update (`*`: any).",
        ),
    ] = None,
) -> int | None:
    return parse_if_match(if_match)


# A route parameter: the version the caller read (428/412 before the use case runs).
ExpectedVersion = Annotated[int | None, Depends(_expected_version)]
