"""The Python SDK's trash, versions and custom metadata calls against a REAL ``mediavault serve`` process (with
``trash_retention_days`` on)."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Iterator

import pytest
from mediavault_sdk import AsyncClient, Client, NotFound

from tests.e2e.conftest import PASSWORD, ServerFactory, VaultServer


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
    other = vault.upload(io.BytesIO(b"other"), filename="b.txt")
    vault.delete_media(other.id)
    vault.empty_trash()
    assert vault.list_trash().items == []


def test_async_client_has_the_same_calls(server: VaultServer) -> None:
    async def scenario() -> None:
        async with AsyncClient(server.base_url) as vault:
            await vault.register("async-lifecycle@example.com", PASSWORD)
            await vault.login("async-lifecycle@example.com", PASSWORD)
            media = await vault.upload(io.BytesIO(b"one"), filename="a.txt")
            assert (await vault.replace_content(media.id, io.BytesIO(b"two"), filename="a.txt")).version == 2
            assert [v.version for v in await vault.list_versions(media.id)] == [2, 1]
            await vault.delete_media(media.id)
            assert [m.id for m in (await vault.list_trash()).items] == [media.id]
            await vault.empty_trash()

    asyncio.run(scenario())
