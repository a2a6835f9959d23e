"""The Python SDK's lifecycle and governance calls against a REAL ``mediavault serve`` process (with
``trash_retention_days`` on): trash, versions, custom metadata, usage, scoped API keys, the admin API and the audit
log, on the blocking and the asyncio client."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
from collections.abc import Iterator

import pytest
from mediavault_sdk import AsyncClient, Client, Forbidden, NotFound, Unauthorized, Usage, ValidationError

from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer, create_admin


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> VaultServer:
    return module_servers.start(env={"MEDIAVAULT_TRASH_RETENTION_DAYS": "7", "MEDIAVAULT_MAX_VERSIONS": "3"})


@pytest.fixture
def vault(server: VaultServer, request: pytest.FixtureRequest) -> Iterator[Client]:
    email = f"{request.node.name}@example.com"
    with Client(server.base_url) as client:
        client.register(email, PASSWORD)
        client.login(email, PASSWORD)
        yield client


def test_metadata_versions_and_trash(vault: Client) -> None:
    media = vault.upload(io.BytesIO(b"first"), filename="a.txt", metadata={"project": "apollo", "n": 1})
    assert (media.version, media.metadata) == (1, {"project": "apollo", "n": 1})
    assert [m.id for m in vault.list_media(metadata={"project": "apollo"}).items] == [media.id]
    changed = vault.update_media(media.id, metadata={"n": None, "stage": "review"})
    assert changed.metadata == {"project": "apollo", "stage": "review"}
    assert [m.id for m in vault.search("a", metadata={"stage": "review"}).items] == [media.id]
    album = vault.create_collection("album")
    unrelated = vault.upload(io.BytesIO(b"unrelated"), filename="b.txt", metadata={"stage": "draft"})
    vault.add_to_collection(album.id, [media.id, unrelated.id])
    assert [m.id for m in vault.list_collection_media(album.id, metadata={"stage": "review"}).items] == [media.id]
    assert vault.list_media(metadata={"stage": "review", "project": "gemini"}).items == []
    vault.delete_media(unrelated.id)
    vault.purge_media(unrelated.id)

    replaced = vault.replace_content(media.id, io.BytesIO(b"second"), filename="a.txt")
    assert (replaced.id, replaced.version, replaced.size) == (media.id, 2, 6)
    versions = vault.list_versions(media.id)
    assert [(v.version, v.current) for v in versions] == [(2, True), (1, False)]
    sink = io.BytesIO()
    assert vault.download_version(media.id, 1, sink) == 5 and sink.getvalue() == b"first"
    assert vault.restore_version(media.id, 1).version == 3

    vault.delete_media(media.id)
    with pytest.raises(NotFound):
        vault.get_media(media.id)
    trash = vault.list_trash()
    assert [(m.id, m.version) for m in trash.items] == [(media.id, 3)] and trash.items[0].purge_at > trash.items[
        0
    ].deleted_at
    assert vault.restore_media(media.id).id == media.id
    vault.delete_media(media.id)
    vault.purge_media(media.id)
    with pytest.raises(NotFound):
        vault.restore_media(media.id)
    others = [vault.upload(io.BytesIO(f"other {i}".encode()), filename=f"o{i}.txt") for i in range(3)]
    for other in others:
        vault.delete_media(other.id)
    assert [m.id for m in vault.iter_trash(per_page=2)] == [o.id for o in reversed(others)]  # two pages
    vault.empty_trash()
    assert vault.list_trash().items == []


def test_async_client_has_the_same_calls(server: VaultServer) -> None:
    async def scenario() -> None:
        async with AsyncClient(server.base_url) as vault:
            await vault.register("async-lifecycle@example.com", PASSWORD)
            await vault.login("async-lifecycle@example.com", PASSWORD)
            media = await vault.upload(io.BytesIO(b"one"), filename="a.txt", metadata={"k": "v"})
            assert [m.id for m in (await vault.list_media(metadata={"k": "v"})).items] == [media.id]
            assert [m.id async for m in vault.iter_search("a", metadata={"k": "v"})] == [media.id]
            assert (await vault.update_media(media.id, metadata={"k": None})).metadata == {}
            assert (await vault.replace_content(media.id, io.BytesIO(b"two"), filename="a.txt")).version == 2
            assert [v.version for v in await vault.list_versions(media.id)] == [2, 1]
            sink = io.BytesIO()
            assert await vault.download_version(media.id, 1, sink) == 3 and sink.getvalue() == b"one"
            assert (await vault.restore_version(media.id, 1)).size == 3
            # three versions of 3 bytes each (the restore stored a copy of the first), one media
            assert await vault.usage() == Usage(used_bytes=3 * 3, quota_bytes=None, media_count=1)
            await vault.delete_media(media.id)
            assert [m.id async for m in vault.iter_trash()] == [media.id]
            assert (await vault.restore_media(media.id)).id == media.id
            await vault.delete_media(media.id)
            await vault.purge_media(media.id)
            await vault.empty_trash()
            assert (await vault.list_trash()).items == []

    asyncio.run(scenario())


def test_async_client_scoped_keys_admin_and_audit(server: VaultServer) -> None:
    """Keys limited to a scope and expiring, listed and revoked; an admin (``users create --admin``) lists, reads
    and changes a user and reads the audit log, filtered; all through :class:`AsyncClient`."""
    create_admin(server, "async-chief@example.com")

    async def scenario() -> None:
        async with AsyncClient(server.base_url) as chief, AsyncClient(server.base_url) as member:
            await chief.login("async-chief@example.com", PASSWORD)
            await member.register("async-member@example.com", PASSWORD)
            await member.login("async-member@example.com", PASSWORD)
            member_id = (await member.me()).id

            frame = await member.create_api_key("frame", scopes=["media:read"], expires_in=600)
            camera = await member.create_api_key("camera", scopes=["media:write"])
            assert frame.scopes == ["media:read"] and frame.expires_at is not None and camera.expires_at is None
            assert [k.name async for k in member.iter_api_keys(per_page=1)] == ["camera", "frame"]
            with pytest.raises(ValidationError):
                await member.create_api_key("bad", scopes=["media:everything"])
            async with AsyncClient(server.base_url, api_key=frame.key) as keyed:
                assert (await keyed.list_media()).items == []
                with pytest.raises(Forbidden, match="media:write"):
                    await keyed.upload(io.BytesIO(b"x"), filename="x.bin")
                assert [k.last_used_at is not None for k in (await member.list_api_keys()).items] == [False, True]
                await member.delete_api_key(frame.id)
                with pytest.raises(Unauthorized):
                    await keyed.list_media()

            with pytest.raises(Forbidden):
                await member.list_users()
            assert [u.email async for u in chief.iter_users(q="async-member")] == ["async-member@example.com"]
            assert (await chief.get_user(member_id)).quota_bytes is None
            changed = await chief.update_user(member_id, quota_bytes=2048, role="admin")
            assert (changed.quota_bytes, changed.role, changed.used_bytes) == (2048, "admin", 0)
            assert (await chief.update_user(member_id, role="user", quota_bytes=None)).quota_bytes is None
            with pytest.raises(ValidationError):
                await chief.update_user((await chief.me()).id, disabled=True)
            assert (await chief.update_user(member_id, disabled=True)).disabled
            with pytest.raises(Unauthorized):
                await member.me()

            since = dt.datetime.now(dt.UTC) - dt.timedelta(hours=1)
            revoked = [e async for e in chief.iter_audit_events(action="api_key.revoked", since=since, per_page=1)]
            assert [(e.actor_id, e.target_id) for e in revoked] == [(member_id, frame.id)]
            updates = await chief.list_audit_events(action="admin.user_updated", actor_id=(await chief.me()).id)
            assert len(updates.items) == 3 and all(e.target_id == member_id for e in updates.items)
            assert (await chief.list_audit_events(action="api_key.revoked", until=since)).items == []

    asyncio.run(scenario())
