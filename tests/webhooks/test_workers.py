"""Several workers on one database (SQLite and PostgreSQL) never send the same attempt twice.

Three :class:`~mediavault.runtime.VaultRuntime` instances (own engines, own workers) share a database;
events are raised before they start, so they also race on the fan-out. Against a receiver that fails
half the requests at random, every request the receiver saw must be exactly one recorded attempt, and
every event must succeed exactly once.
"""

from __future__ import annotations

import asyncio
import collections
import time
from pathlib import Path

import pytest
from sqlalchemy import func, select

from mediavault.config import WebhookEndpoint
from mediavault.db.models import WebhookDelivery
from mediavault.runtime import VaultRuntime
from mediavault.webhooks.signing import new_secret
from tests.backends import BACKENDS
from tests.conftest import make_config
from tests.webhooks.receiver import Receiver

EVENTS = 60


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Both engines on both legs: the test is about each one's claiming (a lease on SQLite, SKIP LOCKED)."""
    if request.param == "sqlite":
        return f"sqlite+aiosqlite:///{tmp_path / 'shared.db'}"
    return BACKENDS.postgres_url(tmp_path)  # fails loudly when PostgreSQL is down


def test_concurrent_workers_never_send_an_attempt_twice(database_url: str, tmp_path: Path) -> None:
    with Receiver(fail_ratio=0.5) as receiver:
        config = make_config(
            tmp_path,
            database_url=database_url,
            webhooks=(WebhookEndpoint(url=receiver.url, secret=new_secret()),),
            allow_private_webhook_targets=True,
            webhook_retry_schedule=(0.05,) * 30,
            webhook_timeout=10.0,  # a generous timeout: a timed-out accepted request is retried (at least once)
            webhook_poll_interval=0.05,
        )

        attempts: dict[str, int] = {}

        async def scenario() -> tuple[int, int]:
            runtimes = [VaultRuntime(config) for _ in range(3)]
            await runtimes[0].migrate()
            async with runtimes[0].session() as session:
                for i in range(EVENTS):
                    runtimes[0].events.publish(session, "media.uploaded", {"id": str(i)}, user_id=None)
                await session.commit()
            await asyncio.gather(*(r.webhooks.start() for r in runtimes))
            try:
                deadline = time.monotonic() + 60
                while True:
                    async with runtimes[0].session() as session:
                        succeeded = await session.scalar(
                            select(func.count()).where(WebhookDelivery.status == "succeeded")
                        )
                        made = await session.scalar(
                            select(func.count()).where(WebhookDelivery.status.in_(("succeeded", "failed")))
                        )
                        pending = await session.scalar(select(func.count()).where(WebhookDelivery.status == "pending"))
                    if succeeded == EVENTS and pending == 0:
                        async with runtimes[0].session() as session:
                            rows = await session.execute(
                                select(WebhookDelivery.event_id, func.count()).group_by(WebhookDelivery.event_id)
                            )
                            attempts.update({str(event_id): n for event_id, n in rows.all()})
                        return int(made or 0), int(succeeded)
                    assert time.monotonic() < deadline, (succeeded, pending)
                    await asyncio.sleep(0.1)
            finally:
                for r in runtimes:
                    await r.webhooks.stop()
                    await r.dispose()

        made, succeeded = asyncio.run(scenario())

    received = collections.Counter(r.id for r in receiver.requests)
    accepted = collections.Counter(r.id for r in receiver.requests if r.status < 300)
    assert succeeded == EVENTS and set(received) == set(attempts) and len(attempts) == EVENTS
    assert set(accepted.values()) == {1}  # each event taken exactly once: no attempt was sent by two workers
    assert all(received[e] <= attempts[e] for e in attempts)  # never more requests than recorded attempts
    assert made > EVENTS  # half the requests failed, so there were retries
