"""Deleting an endpoint while the delivery worker records an attempt and schedules its retry (PostgreSQL locks).

The worker's transaction updates the attempt's row, then inserts the next attempt (a key-share lock on the
endpoint's row). A DELETE of the endpoint that locked the endpoint first and then waited for the attempt's row
(its ``ON DELETE CASCADE``) deadlocked with it: PostgreSQL aborted one of them, and the API answered 500.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from pathlib import Path

import asyncpg
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy.engine import make_url

from mediavault import MediaVault
from tests.backends import BACKENDS
from tests.conftest import PREFIX, Account, make_config
from tests.files import make_png

INSERT_ATTEMPT = """
    INSERT INTO mediavault_webhook_delivery
        (id, webhook_id, event_id, event, attempt, status, next_attempt_at, created_at)
    VALUES ($1, $2, $3, 'media.uploaded', $4, 'pending', now(), now())
"""


def test_delete_while_the_worker_records_an_attempt_and_its_retry(tmp_path: Path) -> None:
    database_url = BACKENDS.postgres_url(tmp_path)
    url = make_url(database_url)
    config = make_config(tmp_path, database_url=database_url, webhook_worker=False, allow_private_webhook_targets=True)
    loop = asyncio.new_event_loop()

    def connect() -> asyncpg.Connection:
        return loop.run_until_complete(
            asyncpg.connect(
                host=url.host, port=url.port, user=url.username, password=url.password, database=url.database
            )
        )

    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        alice = Account(client, "alice@example.com")
        created = client.post(
            f"{PREFIX}/webhooks",
            headers=alice.headers,
            json={"url": "http://127.0.0.1:9/hook", "events": ["media.uploaded"]},
        )
        assert created.status_code == 201, created.text
        webhook_id = uuid.UUID(created.json()["data"]["id"])
        alice.upload(make_png(), "a.png")

        worker, watcher = connect(), connect()
        try:
            event_id = loop.run_until_complete(worker.fetchval("SELECT id FROM mediavault_outbox_event LIMIT 1"))
            first = uuid.uuid4()
            loop.run_until_complete(worker.execute(INSERT_ATTEMPT, first, webhook_id, event_id, 1))
            # The worker records the attempt: its row is locked until the worker commits.
            tx = worker.transaction()
            loop.run_until_complete(tx.start())
            loop.run_until_complete(
                worker.execute("UPDATE mediavault_webhook_delivery SET status = 'failed' WHERE id = $1", first)
            )

            answers: list[int] = []
            deleting = threading.Thread(
                target=lambda: answers.append(
                    client.delete(f"{PREFIX}/webhooks/{webhook_id}", headers=alice.headers).status_code
                )
            )
            deleting.start()
            deadline = time.monotonic() + 30
            while not loop.run_until_complete(
                watcher.fetchval(
                    "SELECT count(*) FROM pg_stat_activity WHERE wait_event_type = 'Lock' AND pid <> $1",
                    worker.get_server_pid(),
                )
            ):
                assert time.monotonic() < deadline, "the DELETE never waited for the attempt's row"
                time.sleep(0.02)
            # ... then schedules the retry for the same endpoint, and commits.
            loop.run_until_complete(worker.execute(INSERT_ATTEMPT, uuid.uuid4(), webhook_id, event_id, 2))
            loop.run_until_complete(tx.commit())
            deleting.join(30)
            assert answers == [204]
            left = loop.run_until_complete(
                worker.fetchval("SELECT count(*) FROM mediavault_webhook_delivery WHERE webhook_id = $1", webhook_id)
            )
            assert left == 0
        finally:
            for conn in (worker, watcher):
                loop.run_until_complete(conn.close())
            loop.close()
