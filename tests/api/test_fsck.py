"""``fsck`` (issue 13, finding 3 and the contract's Operations section): a delete killed after its row was committed
away leaves the item's bytes with no row; fsck finds them, ``repair`` removes them and re-queues processing; rows
whose bytes vanished are reported. Runs on local files (embedded leg) and S3 (full leg)."""

from __future__ import annotations

import os
import time
import uuid
from pathlib import Path

from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import delete, select

from mediavault import MediaVault
from mediavault.db.models import Media, MediaProcessing
from mediavault.fsck import fsck
from tests.conftest import Account, make_config


def test_fsck_finds_and_repairs_bytes_without_rows(tmp_path: Path) -> None:
    vault = MediaVault(make_config(tmp_path))
    runtime = vault.runtime
    with TestClient(Litestar(plugins=[vault])) as client:
        alice = Account(client, "alice@example.com")
        kept = alice.upload(b"kept bytes", "kept.txt")
        orphan = alice.upload(b"bytes whose row was deleted by a delete killed mid-way", "gone.txt")
        lost = alice.upload(b"bytes that vanished", "lost.txt")

        async def scenario() -> None:
            clean = await fsck(runtime.storage, runtime.session, max_age=0)
            assert clean.consistent, clean.summary()
            async with runtime.session() as session:
                orphan_key = await session.scalar(select(Media.storage_key).where(Media.id == uuid.UUID(orphan["id"])))
                lost_key = await session.scalar(select(Media.storage_key).where(Media.id == uuid.UUID(lost["id"])))
                await session.execute(delete(Media).where(Media.id == uuid.UUID(orphan["id"])))
                await session.execute(
                    MediaProcessing.__table__.update()
                    .where(MediaProcessing.media_id == uuid.UUID(kept["id"]))
                    .values(status="failed")
                )
                await session.commit()
            await runtime.storage.delete(lost_key)

            found = await fsck(runtime.storage, runtime.session, max_age=0)
            assert not found.consistent
            assert [o.key for o in found.orphaned] == [orphan_key]
            assert found.missing == [f"media {lost['id']}: {lost_key}"]
            assert uuid.UUID(kept["id"]) in found.unfinished
            assert await runtime.storage.exists(orphan_key)  # without repair nothing changes

            young = await fsck(runtime.storage, runtime.session, max_age=3600)
            assert young.orphaned == []  # an object younger than max_age may be an upload about to commit its row

            repaired = await fsck(runtime.storage, runtime.session, max_age=0, repair=True)
            assert repaired.repaired
            assert not await runtime.storage.exists(orphan_key)
            async with runtime.session() as session:
                status = await session.scalar(
                    select(MediaProcessing.status).where(MediaProcessing.media_id == uuid.UUID(kept["id"]))
                )
            assert status == "pending"

            after = await fsck(runtime.storage, runtime.session, max_age=0)
            assert after.orphaned == []
            assert after.missing == [f"media {lost['id']}: {lost_key}"]  # reported, never invented

        client.blocking_portal.call(scenario)  # on the app's event loop, where its pooled connections live


def test_periodic_fsck_repairs_in_the_background_when_configured(tmp_path: Path) -> None:
    media = tmp_path / "media"
    orphan = media / "media" / "nobody" / "left-by-a-killed-delete"
    orphan.parent.mkdir(parents=True)
    orphan.write_bytes(b"bytes no row points at")
    os.utime(orphan, (time.time() - 7200, time.time() - 7200))
    assert make_config(tmp_path / "defaults").fsck_interval is None  # off by default
    config = make_config(tmp_path, storage_url=media.as_uri(), fsck_interval=3600)
    with TestClient(Litestar(plugins=[MediaVault(config)])):
        deadline = time.monotonic() + 30  # a bound for a hang only
        while orphan.exists():
            assert time.monotonic() < deadline, "the periodic fsck did not remove the orphan"
            time.sleep(0.05)
