"""Trash, versions, custom metadata, usage and the admin calls through the in-process API (``MediaVault.api``), on
the vault's own sessions and inside a host's transaction: the services the HTTP routes call, with their rules."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.pool import NullPool

from mediavault import MediaVault, MediaVaultConfig
from mediavault.db.engine import create_engine
from mediavault.errors import Forbidden, NotFound, QuotaExceeded, Unauthorized, ValidationError
from tests.backends import stored_objects
from tests.conftest import make_config

pytestmark = pytest.mark.anyio
PASSWORD = "correct horse battery"


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, trash_retention_days=30, max_versions=1, webhook_worker=False)


@pytest.fixture
async def vault(config: MediaVaultConfig) -> AsyncIterator[MediaVault]:
    async with MediaVault(config).running() as running:
        yield running


async def test_metadata_versions_and_trash(vault: MediaVault, config: MediaVaultConfig) -> None:
    user = await vault.api().users.create("alice@example.com", PASSWORD)
    alice = vault.api(user=user.id)
    media = await alice.media.upload(b"first", filename="a.txt", metadata={"project": "apollo", "n": 1})
    assert (media.version, media.metadata) == (1, {"project": "apollo", "n": 1})
    assert [m.id for m in (await alice.media.list(metadata={"n": "1"})).items] == [media.id]
    updated = await alice.media.update(media.id, metadata={"n": None})
    assert updated.metadata == {"project": "apollo"}
    with pytest.raises(ValidationError):
        await alice.media.update(media.id, metadata={"big": "x" * 17_000})

    replaced = await alice.media.replace(media.id, b"second", filename="a.txt")
    assert (replaced.id, replaced.version, replaced.size) == (media.id, 2, 6)
    assert [(v.version, v.current) for v in await alice.media.versions(media.id)] == [(2, True), (1, False)]
    assert (await alice.media.restore_version(media.id, 1)).version == 3
    # max_versions=1: version 1 went with its bytes; the current copy of "first" and version 2 stay
    assert [v.version for v in await alice.media.versions(media.id)] == [3, 2]
    assert sorted(stored_objects(config).values()) == [b"first", b"second"]

    await alice.media.delete(media.id)
    with pytest.raises(NotFound):
        await alice.media.get(media.id)
    trash = await alice.trash.list()
    assert [m.id for m in trash.items] == [media.id] and trash.items[0].purge_at > trash.items[0].deleted_at
    assert (await alice.trash.restore(media.id)).id == media.id
    await alice.media.delete(media.id)
    await alice.trash.purge(media.id)
    with pytest.raises(NotFound):
        await alice.trash.restore(media.id)
    other = await alice.media.upload(b"other", filename="b.txt")
    await alice.media.delete(other.id)
    await alice.trash.empty()
    assert (await alice.trash.list()).total == 0
    assert stored_objects(config) == {}


async def test_inside_a_host_transaction_a_rollback_keeps_the_item_out_of_the_trash(
    vault: MediaVault, config: MediaVaultConfig
) -> None:
    user = await vault.api().users.create("bob@example.com", PASSWORD)
    media = await vault.api(user=user.id).media.upload(b"kept", filename="k.txt")
    host = create_engine(config.database_url, poolclass=NullPool)
    try:
        async with AsyncSession(host) as session:
            await vault.api(user=user.id, session=session).media.delete(media.id)
            await session.rollback()
    finally:
        await host.dispose()
    assert (await vault.api(user=user.id).media.get(media.id)).id == media.id
    assert (await vault.api(user=user.id).trash.list()).total == 0


async def test_usage_and_the_admin_calls_follow_the_http_rules(vault: MediaVault) -> None:
    chief_user = await vault.api().users.create("chief@example.com", PASSWORD, role="admin")
    member_user = await vault.api().users.create("member@example.com", PASSWORD)
    chief, member = vault.api(user=chief_user.id), vault.api(user=member_user.id)
    await member.media.upload(b"twelve bytes", filename="a.txt")
    usage = await member.users.usage()
    assert (usage.used_bytes, usage.quota_bytes, usage.media_count) == (12, None, 1)

    for call in (member.admin.users(), member.admin.update_user(chief_user.id, disabled=True), member.admin.audit()):
        with pytest.raises(Forbidden):
            await call
    with pytest.raises(Unauthorized):
        await vault.api().admin.users()

    listed = await chief.admin.users(q="MEMBER@")
    assert [(u.email, u.used_bytes) for u in listed.items] == [("member@example.com", 12)] and listed.total == 1
    assert (await chief.admin.update_user(member_user.id, quota_bytes=20)).quota_bytes == 20
    assert (await member.users.usage()).quota_bytes == 20
    with pytest.raises(QuotaExceeded):
        await member.media.upload(b"nine more bytes", filename="b.txt")
    for bad in ({"role": "owner"}, {"quota_bytes": -1}):
        with pytest.raises(ValidationError):
            await chief.admin.update_user(member_user.id, **bad)
    with pytest.raises(ValidationError):
        await chief.admin.update_user(chief_user.id, disabled=True)  # not yourself
    with pytest.raises(NotFound):
        await chief.admin.update_user("00000000-0000-4000-8000-000000000000", disabled=True)
    assert (await chief.admin.update_user(member_user.id, disabled=True)).disabled
    with pytest.raises(Unauthorized):
        await member.users.usage()

    audit = await chief.admin.audit(actor_id=chief_user.id, per_page=1)
    assert [e.action for e in audit.items] == ["admin.user_updated"] and audit.total == 2
    assert (await chief.admin.audit(action="admin.user_updated")).total == 2
    with pytest.raises(ValidationError):
        await chief.admin.audit(action="no.such")
    with pytest.raises(ValidationError):
        await chief.admin.audit(per_page=101)
