"""A query cancelled mid-flight on the embedded SQLite engine leaves nothing running behind it.

Found by a CI run that hung for 90 minutes: a realtime socket closing cancelled a task group while one of its
tasks was reading through aiosqlite. SQLAlchemy then invalidates the connection: it starts a graceful close in
a shielded task, and when the (anyio, level-triggered) cancellation interrupts that wait too it force-closes the
connection (aiosqlite ``stop()``), whose worker thread exits; the graceful close, still pending, then waits
forever on a future no thread will ever resolve, and the event loop's shutdown hangs on it.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

import anyio
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.db.engine import create_engine, dispose

# ~10^7 rows of a recursive CTE: long enough (hundreds of ms) to be cancelled while the worker thread runs it.
SLOW_QUERY = text(
    "WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 10000000) SELECT count(*) FROM n"
)


async def _cancel_mid_query(database: Path) -> set[asyncio.Task[object]]:
    engine = create_engine(f"sqlite+aiosqlite:///{database}")
    try:
        for _ in range(3):
            with anyio.move_on_after(0.05) as scope:
                async with AsyncSession(engine) as session:
                    await session.execute(SLOW_QUERY)
            assert scope.cancelled_caught
        async with AsyncSession(engine) as session:  # the pool still hands out working connections
            assert (await session.execute(text("SELECT 1"))).scalar_one() == 1
    finally:
        await dispose(engine)  # also waits for the terminated connections' worker threads to close them
    return {task for task in asyncio.all_tasks() if task is not asyncio.current_task()}


def test_a_cancelled_query_leaves_no_task_behind(tmp_path: Path) -> None:
    # not anyio.run: its shutdown cancels what is left, and would hang on the very task this test looks for
    loop = asyncio.new_event_loop()
    try:
        leftovers = loop.run_until_complete(_cancel_mid_query(tmp_path / "cancel.db"))
    finally:
        loop.close()
    assert leftovers == set()
