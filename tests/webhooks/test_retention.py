"""Bounded tables (issue 13): dispatched outbox events and finished webhook attempts older than their retention
(``outbox_retention``, ``webhook_delivery_retention``) are pruned by the webhook worker; pending attempts, and the
events they still point at, are never pruned."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import func, select, update

from mediavault import MediaVault
from mediavault.db.models import OutboxEvent, WebhookDelivery
from tests.conftest import PREFIX, Account, make_config


def test_worker_prunes_old_dispatched_events_and_finished_attempts(tmp_path: Path) -> None:
    config = make_config(
        tmp_path,
        webhook_worker=False,
        allow_private_webhook_targets=True,
        outbox_retention=3600,
        webhook_delivery_retention=7200,
    )
    vault = MediaVault(config)
    runtime = vault.runtime
    with TestClient(Litestar(plugins=[vault])) as client:
        alice = Account(client, "alice@example.com")
        made = client.post(
            f"{PREFIX}/webhooks",
            headers=alice.headers,
            json={"url": "http://127.0.0.1:9/hook", "events": ["media.uploaded"]},
        )
        assert made.status_code == 201, made.text
        for name in ("a.txt", "b.txt", "c.txt"):
            alice.upload(name.encode(), name)

        async def scenario() -> None:
            await runtime.webhooks.fan_out()
            now = dt.datetime.now(dt.UTC)
            async with runtime.session() as session:
                attempts = list(await session.scalars(select(WebhookDelivery).order_by(WebhookDelivery.created_at)))
                assert len(attempts) == 3
                old_done, old_pending, recent_done = attempts
                for attempt, status, age in (
                    (old_done, "succeeded", 3),
                    (old_pending, "pending", 3),
                    (recent_done, "failed", 1),
                ):
                    await session.execute(
                        update(WebhookDelivery)
                        .where(WebhookDelivery.id == attempt.id)
                        .values(status=status, created_at=now - dt.timedelta(hours=age))
                    )
                # every event was dispatched two hours ago (the registration's went to no endpoint)
                await session.execute(update(OutboxEvent).values(dispatched_at=now - dt.timedelta(hours=2)))
                await session.commit()

            pruned = await runtime.webhooks.prune()
            assert pruned == (2, 1)  # the registration's and old_done's events; old_done's attempt

            async with runtime.session() as session:
                left = set(await session.scalars(select(WebhookDelivery.id)))
                events = await session.scalar(select(func.count()).select_from(OutboxEvent))
            assert left == {old_pending.id, recent_done.id}
            assert events == 2  # those of the pending and the recent attempt

        client.blocking_portal.call(scenario)
