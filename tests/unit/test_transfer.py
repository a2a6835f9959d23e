"""mediavault.backup.transfer.for_each: a failure stops new actions but lets those under way end."""

from __future__ import annotations

import asyncio
import time

import anyio.to_thread
import pytest

from mediavault.backup.transfer import for_each


def test_a_failure_lets_the_actions_under_way_end() -> None:
    """An action in a worker thread is let finish when another fails: cancelled, its thread would store its object
    after the caller's clean-up (an import refused for a damaged file left another object stored)."""
    ended: list[str] = []
    started: list[str] = []

    async def action(item: str) -> None:
        started.append(item)
        if item == "damaged":
            await asyncio.sleep(0.01)  # the slow write is under way by now
            raise ValueError(item)
        await anyio.to_thread.run_sync(time.sleep, 0.2)
        ended.append(item)

    with pytest.raises(ValueError, match="damaged"):
        asyncio.run(for_each(["slow", "damaged", "never"], action, limit=2))
    assert ended == ["slow"]
    assert "never" not in started  # nothing starts after the failure
