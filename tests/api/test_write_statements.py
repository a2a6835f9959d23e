"""execute_writes: the Core writes of one unit of work (an upload's item, tags, processing and outbox rows) go to the
database in one call (SQLite: one hop to aiosqlite's thread; PostgreSQL: one statement of data-modifying WITH
queries), in the session's transaction, foreign keys checked, and a refusal raised as SQLAlchemy's error."""

from __future__ import annotations

import datetime as dt
import uuid
from pathlib import Path
from typing import Any, cast

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Table, insert, select
from sqlalchemy.exc import IntegrityError

from mediavault import MediaVault
from mediavault.db.models import MediaTag, OutboxEvent
from mediavault.db.statements import WriteStatement, execute_writes
from tests.conftest import PREFIX, Account, make_config

OUTBOX = cast(Table, OutboxEvent.__table__)
TAGS = cast(Table, MediaTag.__table__)
INSERT_OUTBOX, INSERT_TAGS = WriteStatement(insert(OUTBOX)), WriteStatement(insert(TAGS))


def outbox_row(**values: Any) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"id": uuid.uuid4(), "created_at": now, "event": "media.uploaded", "user_id": None, "payload": {},
            "dispatched_at": None, **values}  # fmt: skip


def tag_row(media_id: uuid.UUID, tag: str, position: int) -> dict[str, Any]:
    now = dt.datetime.now(dt.UTC)
    return {"id": uuid.uuid4(), "created_at": now, "media_id": media_id, "tag": tag, "position": position}


def test_rows_of_several_statements_are_written_together(tmp_path: Path) -> None:
    vault = MediaVault(make_config(tmp_path))
    with TestClient(Litestar(plugins=[vault])) as client:
        owner = Account(client, "writes@example.com")
        media_id = uuid.UUID(owner.upload(b"tagged later", "t.txt")["id"])
        events = [outbox_row(payload={"n": n, "text": "a 'quoted' $1 value"}) for n in range(3)]

        async def write() -> tuple[list[Any], list[Any]]:
            async with vault.runtime.session() as session:
                tags = [tag_row(media_id, f"tag{n}", n) for n in range(2)]
                await execute_writes(session, [(INSERT_OUTBOX, events), (INSERT_TAGS, tags), (INSERT_OUTBOX, [])])
                await session.commit()
                ids = [row["id"] for row in events]
                stored = (await session.execute(select(OUTBOX.c.payload).where(OUTBOX.c.id.in_(ids)))).all()
                tag_rows = (await session.execute(select(TAGS.c.tag).where(TAGS.c.media_id == media_id))).all()
                return sorted(row[0]["n"] for row in stored), sorted(row[0] for row in tag_rows)

        payloads, tags = client.blocking_portal.call(write)
        assert payloads == [0, 1, 2]
        assert tags == ["tag0", "tag1"]
        assert client.get(f"{PREFIX}/media/{media_id}", headers=owner.headers).json()["data"]["tags"] == tags


def test_a_refused_row_leaves_none_of_the_others(tmp_path: Path) -> None:
    """A tag of an item that does not exist breaks its foreign key: IntegrityError, and after the rollback the
    outbox row sent with it is not there either."""
    vault = MediaVault(make_config(tmp_path))
    with TestClient(Litestar(plugins=[vault])) as client:
        event = outbox_row()

        async def write() -> int:
            async with vault.runtime.session() as session:
                with pytest.raises(IntegrityError):
                    writes = [(INSERT_OUTBOX, [event]), (INSERT_TAGS, [tag_row(uuid.uuid4(), "orphan", 0)])]
                    await execute_writes(session, writes)
                await session.rollback()
                found = await session.execute(select(OUTBOX.c.id).where(OUTBOX.c.id == event["id"]))
                return len(found.all())

        assert client.blocking_portal.call(write) == 0
