"""The in-process API (``MediaVault.api``, issue 14 item 1): host code calls the vault without HTTP, with HTTP's
rules, on a session of the vault's own or inside the host's transaction; and the docs' examples run as written.
"""

from __future__ import annotations

import importlib
import io
import sys
import uuid
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import Column, Integer, MetaData, String, Table, insert, select
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, create_async_engine
from sqlalchemy.pool import NullPool

from mediavault import MediaVault, MediaVaultConfig, VaultAPI
from mediavault.db.engine import create_engine
from mediavault.errors import Conflict, NotFound, PayloadTooLarge, Unauthorized, ValidationError
from mediavault.events import Event
from tests.backends import query, stored_objects
from tests.conftest import make_config
from tests.files import make_png
from tests.unit.test_docs_examples import python_blocks

pytestmark = pytest.mark.anyio

PASSWORD = "correct horse battery"  # a test account's


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


# ------------------------------------------------------------------------------------------------ helpers


class Started:
    """A running vault (``MediaVault.running``), the events it delivered, and a host engine on its database."""

    def __init__(self, vault: MediaVault, host: AsyncEngine) -> None:
        self.vault = vault
        self.host = host
        self.events: list[Event] = []
        vault.runtime.events.subscribe(self.events.append)

    async def delivered(self) -> list[str]:
        """The names of the events delivered so far (after waiting for those under way)."""
        await self.vault.runtime.events.drain()
        return [event.name for event in self.events]

    async def user(self, email: str) -> VaultAPI:
        """A new user's API (no host session)."""
        created = await self.vault.api().users.create(email, PASSWORD)
        return self.vault.api(user=created.id)


HOST = MetaData()
host_note = Table("host_note", HOST, Column("id", Integer, primary_key=True), Column("body", String(200)))
"""A table of the host's own, in the vault's database."""


async def _host_tables(engine: AsyncEngine) -> None:
    async with engine.begin() as connection:
        await connection.run_sync(HOST.create_all)


@pytest.fixture
def config(tmp_path: Path) -> MediaVaultConfig:
    return make_config(tmp_path, max_upload_size=64 * 1024, webhook_worker=False)


@pytest.fixture
async def started(config: MediaVaultConfig) -> AsyncIterator[Started]:
    host = create_engine(config.database_url, poolclass=NullPool)
    await _host_tables(host)
    try:
        async with MediaVault(config).running() as vault:
            yield Started(vault, host)
    finally:
        await host.dispose()


def media_rows(config: MediaVaultConfig) -> list[tuple[Any, ...]]:
    return query(config, "SELECT filename FROM mediavault_media ORDER BY filename")


def media_objects(config: MediaVaultConfig) -> dict[str, bytes]:
    return {key: data for key, data in stored_objects(config).items() if key.startswith("media/")}


# ------------------------------------------------------------------------------------------- own sessions


async def test_each_call_commits_on_its_own_with_the_rules_of_http(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")
    png = make_png(3, 2)
    media = await alice.media.upload(png, filename="../../etc/Holiday photo.txt", title="Beach", tags=["Sea", "sea"])
    assert (media.content_type, media.type, media.width, media.height) == ("image/png", "image", 3, 2)  # sniffed
    assert media.filename == "Holiday photo.txt"  # sanitised
    assert media.tags == ["sea"]
    assert media.content_url == f"/api/v1/media/{media.id}/content"
    assert (await alice.media.get(media.id)).title == "Beach"
    assert b"".join([chunk async for chunk in alice.media.content(media.id)]) == png
    assert media_objects(config) == {f"media/{(await alice.users.me()).id}/{key}": png for key in _keys(config)}
    assert await started.delivered() == ["user.registered", "media.uploaded"]
    processing = query(config, "SELECT status FROM mediavault_media_processing")
    assert processing == [("pending",)]  # owed to the processing worker, as over HTTP

    updated = await alice.media.update(media.id, title=None, tags=["a", "b"])
    assert (updated.title, updated.tags) == (None, ["a", "b"])
    page = await alice.media.list(tag="a")
    assert (page.total, [m.id for m in page.items], page.total_pages) == (1, [media.id], 1)
    await alice.media.delete(media.id)
    assert media_objects(config) == {}
    assert (await alice.media.list()).total == 0
    assert await started.delivered() == ["user.registered", "media.uploaded", "media.updated", "media.deleted"]


def _keys(config: MediaVaultConfig) -> list[str]:
    return [key.rsplit("/", 1)[1] for key in media_objects(config)]


async def test_upload_sources_bytes_path_file_object_and_async_iterator(started: Started, tmp_path: Path) -> None:
    alice = await started.user("alice@example.com")
    path = tmp_path / "from-disk.txt"
    path.write_bytes(b"a path")

    async def chunks() -> AsyncIterator[bytes]:
        yield b"an async "
        yield b"iterator"

    from_bytes = await alice.media.upload(b"some bytes", filename="b.txt")
    from_path = await alice.media.upload(path)
    from_file = await alice.media.upload(io.BytesIO(b"a file object"), filename="f.txt")
    with path.open("rb") as opened:
        from_open_file = await alice.media.upload(opened)
    from_iterator = await alice.media.upload(chunks(), filename="i.txt")
    assert [m.size for m in (from_bytes, from_path, from_file, from_open_file, from_iterator)] == [10, 6, 13, 6, 17]
    assert (from_path.filename, from_open_file.filename) == ("from-disk.txt", "from-disk.txt")
    with pytest.raises(TypeError, match=r"pathlib\.Path"):
        await alice.media.upload(str(path))  # type: ignore[arg-type]


async def test_size_limit_and_empty_files_leave_nothing(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")

    async def endless() -> AsyncIterator[bytes]:
        while True:
            yield b"x" * 4096

    with pytest.raises(PayloadTooLarge, match="65536 byte limit"):
        await alice.media.upload(b"x" * (64 * 1024 + 1), filename="big.bin")
    with pytest.raises(PayloadTooLarge):
        await alice.media.upload(endless(), filename="endless.bin")  # reading stops at the limit
    with pytest.raises(ValidationError, match="file: must not be empty"):
        await alice.media.upload(b"", filename="empty.bin")
    assert media_rows(config) == []
    assert media_objects(config) == {}
    assert (await alice.media.upload(b"x" * 64 * 1024, filename="exactly.bin")).size == 64 * 1024


async def test_dedup_stores_the_bytes_once(tmp_path: Path) -> None:
    config = make_config(tmp_path, dedup=True, webhook_worker=False)
    async with MediaVault(config).running() as vault:
        created = await vault.api().users.create("alice@example.com", PASSWORD)
        alice = vault.api(user=created.id)
        first = await alice.media.upload(b"the same bytes", filename="one.txt")
        second = await alice.media.upload(b"the same bytes", filename="two.txt")
        assert first.id != second.id and first.checksum_sha256 == second.checksum_sha256
        assert list(media_objects(config).values()) == [b"the same bytes"]
        await alice.media.delete(first.id)
        assert list(media_objects(config).values()) == [b"the same bytes"]  # still used by the second


async def test_another_users_things_are_not_found(started: Started) -> None:
    alice = await started.user("alice@example.com")
    bob = await started.user("bob@example.com")
    media = await alice.media.upload(b"alice's", filename="a.txt")
    album = await alice.collections.create("Alice's")
    bobs_album = await bob.collections.create("Bob's")
    for attempt in (
        bob.media.get(media.id),
        bob.media.update(media.id, title="mine now"),
        bob.media.delete(media.id),
        bob.collections.get(album.id),
        bob.collections.add_media(bobs_album.id, [media.id]),
        bob.shares.create(media_id=media.id),
        bob.shares.create(collection_id=album.id),
        bob.media.get("not-an-id"),
    ):
        with pytest.raises(NotFound):
            await attempt
    with pytest.raises(NotFound):
        await anext(bob.media.content(media.id))
    assert (await alice.media.get(media.id)).title is None
    assert (await bob.media.list()).total == 0


async def test_the_acting_user_must_exist(started: Started) -> None:
    with pytest.raises(Unauthorized, match="No acting user"):
        await started.vault.api().media.list()
    with pytest.raises(Unauthorized, match="User no longer exists"):
        await started.vault.api(user=uuid.uuid4()).media.upload(b"x", filename="x.txt")
    with pytest.raises(Unauthorized, match=r"'1' is not a vault user id \(a UUID\).*HostIdentity\(external_id='1'\)"):
        await started.vault.api(user="1").media.upload(b"x", filename="x.txt")  # a host's own id, given as is


async def test_collections_shares_and_users(started: Started) -> None:
    alice = await started.user("alice@example.com")
    media = await alice.media.upload(b"shared", filename="s.txt")
    album = await alice.collections.create("  Trip  ", description="June")
    assert (album.name, album.media_count) == ("Trip", 0)
    assert (await alice.collections.add_media(album.id, [media.id, media.id])).media_count == 1
    assert [m.id for m in (await alice.collections.media(album.id)).items] == [media.id]
    assert (await alice.collections.update(album.id, description=None)).description is None
    link = await alice.shares.create(collection_id=album.id, password="link password")
    assert link.token and link.url == f"/api/v1/s/{link.token}" and link.has_password
    listed = await alice.shares.list()
    assert [(s.id, s.token) for s in listed.items] == [(link.id, None)]
    await alice.shares.delete(link.id)
    guests = await alice.shares.create(collection_id=album.id, allow_upload=True)
    assert guests.allow_upload
    signed = await alice.uploads.sign(expires_in=600, max_size=1000, collection_id=album.id)
    assert signed.url == f"/api/v1/uploads/signed/{signed.token}" and signed.max_size == 1000
    with pytest.raises(ValidationError, match="expires_in"):
        await alice.uploads.sign(expires_in=59)
    with pytest.raises(NotFound):
        await alice.uploads.sign(collection_id=uuid.uuid4())
    await alice.collections.remove_media(album.id, media.id)
    await alice.collections.delete(album.id)
    assert (await alice.collections.list()).total == 0

    me = await alice.users.update(display_name="Alice")
    assert (me.display_name, me.email, me.role) == ("Alice", "alice@example.com", "user")
    with pytest.raises(ValidationError, match="current_password"):
        await alice.users.update(email="new@example.com")
    with pytest.raises(Conflict):
        await started.vault.api().users.create("ALICE@example.com", PASSWORD)
    admin = await started.vault.api().users.create("root@example.com", PASSWORD, role="admin")
    assert admin.role == "admin"


async def test_input_is_checked_as_a_json_body_is(started: Started) -> None:
    alice = await started.user("alice@example.com")
    media = await alice.media.upload(b"x", filename="x.txt")
    checks = [
        (alice.media.update(media.id, title="t" * 10_001), "title"),
        (alice.collections.create("bad\x00name"), "name"),
        (alice.collections.create("   "), "name"),
        (alice.media.list(per_page=101), "per_page"),
        (alice.media.list(sort="size; DROP TABLE"), "sort"),  # type: ignore[arg-type]
        (alice.shares.create(media_id=media.id, expires_in=0), "expires_in"),
        (alice.shares.create(), "media_id"),
        (started.vault.api().users.create("not an email", PASSWORD), "email"),
        (started.vault.api().users.create("x@example.com", PASSWORD, role="root"), "role"),
    ]
    for call, field in checks:
        with pytest.raises(ValidationError) as raised:
            await call
        assert raised.value.details[0]["field"] == field, raised.value


# --------------------------------------------------------------------------------- the host's transaction


async def test_rolled_back_with_the_host_no_rows_no_bytes_no_events(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    before = await started.delivered()
    async with AsyncSession(started.host) as session:
        await session.execute(insert(host_note).values(body="order 1"))
        api = started.vault.api(user=user_id, session=session)
        await api.media.upload(make_png(2, 2), filename="a.png")
        await api.media.upload(b"second photo", filename="b.txt")
        await api.collections.create("Order 1")
        assert len(media_objects(config)) == 2  # written, not yet decided
        await session.rollback()
    assert query(config, "SELECT count(*) FROM host_note") == [(0,)]
    assert media_rows(config) == []
    assert query(config, "SELECT count(*) FROM mediavault_collection") == [(0,)]
    assert media_objects(config) == {}
    assert await started.delivered() == before


async def test_committed_with_the_host_events_only_after_the_commit(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    before = await started.delivered()
    async with AsyncSession(started.host) as session:
        api = started.vault.api(user=user_id, session=session)
        media = await api.media.upload(b"photo", filename="a.txt")
        await session.execute(insert(host_note).values(body=media.id))
        assert (await api.media.get(media.id)).id == media.id  # the host's transaction sees its own work
        assert await started.delivered() == before  # not committed: nothing delivered
        outbox = query(config, "SELECT count(*) FROM mediavault_outbox_event WHERE event = 'media.uploaded'")
        assert outbox == [(0,)]  # the outbox row waits in the host's transaction
        await session.commit()
    assert await started.delivered() == [*before, "media.uploaded"]
    assert query(config, "SELECT body FROM host_note") == [(media.id,)]
    assert (await alice.media.get(media.id)).filename == "a.txt"
    assert list(media_objects(config).values()) == [b"photo"]


async def test_one_host_session_many_transactions(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    async with AsyncSession(started.host) as session:
        api = started.vault.api(user=user_id, session=session)
        await api.media.upload(b"first", filename="first.txt")
        await session.commit()
        await api.media.upload(b"second", filename="second.txt")
        await session.rollback()
        await api.media.upload(b"third", filename="third.txt")
        await session.commit()
    assert media_rows(config) == [("first.txt",), ("third.txt",)]
    assert sorted(media_objects(config).values()) == [b"first", b"third"]
    assert await started.delivered() == ["user.registered", "media.uploaded", "media.uploaded"]


async def test_closing_the_host_session_without_commit_removes_the_bytes(
    started: Started, config: MediaVaultConfig
) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    async with AsyncSession(started.host) as session:
        await started.vault.api(user=user_id, session=session).media.upload(b"never committed", filename="a.txt")
    assert media_rows(config) == []
    assert media_objects(config) == {}


async def test_a_failed_call_undoes_only_itself(started: Started, config: MediaVaultConfig) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    async with AsyncSession(started.host) as session:
        await session.execute(insert(host_note).values(body="kept"))
        api = started.vault.api(user=user_id, session=session)
        kept = await api.media.upload(b"kept", filename="kept.txt")
        with pytest.raises(PayloadTooLarge):
            await api.media.upload(b"x" * (64 * 1024 + 1), filename="big.bin")
        with pytest.raises(NotFound):
            await api.media.get(str(uuid.uuid4()))
        await session.commit()
    assert query(config, "SELECT body FROM host_note") == [("kept",)]
    assert media_rows(config) == [("kept.txt",)]
    assert list(media_objects(config).values()) == [b"kept"]
    assert (await alice.media.get(kept.id)).size == 4


async def test_a_host_connection_without_foreign_keys_is_refused_on_sqlite(
    started: Started, config: MediaVaultConfig
) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    plain = create_async_engine(config.database_url, poolclass=NullPool)  # SQLite: foreign keys off
    try:
        async with AsyncSession(plain) as session:
            api = started.vault.api(user=user_id, session=session)
            if plain.dialect.name == "sqlite":
                with pytest.raises(RuntimeError, match="does not enforce foreign keys"):
                    await api.media.upload(b"x", filename="x.txt")
            else:  # PostgreSQL always enforces them
                await api.media.upload(b"x", filename="x.txt")
            await session.commit()
    finally:
        await plain.dispose()
    assert len(media_rows(config)) == (0 if plain.dialect.name == "sqlite" else 1)


async def test_a_host_savepoint_rolled_back_undoes_the_vault_work_inside_it(
    started: Started, config: MediaVaultConfig
) -> None:
    alice = await started.user("alice@example.com")
    user_id = (await alice.users.me()).id
    async with AsyncSession(started.host) as session:
        api = started.vault.api(user=user_id, session=session)
        await api.media.upload(b"outside", filename="outside.txt")
        nested = await session.begin_nested()
        await api.media.upload(b"inside", filename="inside.txt")
        await nested.rollback()
        assert sorted(media_objects(config).values()) == [b"outside"]
        await session.commit()
    assert media_rows(config) == [("outside.txt",)]
    assert await started.delivered() == ["user.registered", "media.uploaded"]
    async with AsyncSession(started.host) as session:  # a savepoint released, then its transaction rolled back
        # (a write first: pysqlite sends no BEGIN before a SAVEPOINT, which would then open, and commit, it all)
        await session.execute(insert(host_note).values(body="rolled back"))
        nested = await session.begin_nested()
        await started.vault.api(user=user_id, session=session).media.upload(b"released", filename="released.txt")
        await nested.commit()
        await session.rollback()
    assert media_rows(config) == [("outside.txt",)]
    assert sorted(media_objects(config).values()) == [b"outside"]
    assert query(config, "SELECT count(*) FROM host_note") == [(0,)]
    assert await started.delivered() == ["user.registered", "media.uploaded"]  # none at the savepoint's release


async def test_a_delete_in_a_rolled_back_transaction_keeps_the_bytes(
    started: Started, config: MediaVaultConfig
) -> None:
    alice = await started.user("alice@example.com")
    media = await alice.media.upload(b"keep me", filename="a.txt")
    user_id = (await alice.users.me()).id
    async with AsyncSession(started.host) as session:
        await started.vault.api(user=user_id, session=session).media.delete(media.id)
        assert list(media_objects(config).values()) == [b"keep me"]  # deleted only when the host commits
        await session.rollback()
    assert (await alice.media.get(media.id)).filename == "a.txt"
    assert list(media_objects(config).values()) == [b"keep me"]
    async with AsyncSession(started.host) as session:
        await started.vault.api(user=user_id, session=session).media.delete(media.id)
        await session.commit()
    assert media_objects(config) == {}
    assert (await started.delivered())[-1] == "media.deleted"


# ------------------------------------------------------------------------------------ the docs' examples


@pytest.fixture
def docs_module(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Any]:
    """Import a Python block of docs/embedding.md by its ``# <name>.py`` line, as written."""
    blocks = python_blocks("embedding.md")
    folder = tmp_path / "docs_code"
    folder.mkdir()
    monkeypatch.syspath_prepend(str(folder))
    loaded: list[str] = []

    def load(name: str) -> ModuleType:
        (folder / name).write_text(blocks[name])
        module_name = name.removesuffix(".py")
        sys.modules.pop(module_name, None)
        loaded.append(module_name)
        return importlib.import_module(module_name)

    yield load
    for module_name in loaded:
        sys.modules.pop(module_name, None)


def test_the_docs_order_app_saves_an_order_and_its_photos_together(tmp_path: Path, docs_module: Any) -> None:
    config = make_config(tmp_path, max_upload_size=64 * 1024, webhook_worker=False)
    orders = docs_module("orders.py")
    app: Litestar = orders.create_app(config)
    vault = app.plugins.get(MediaVault)
    committed_orders: list[int] = []
    vault.runtime.events.subscribe(
        lambda event: (
            committed_orders.extend(n for (n,) in query(config, "SELECT count(*) FROM shop_order"))
            if event.name == "media.uploaded"
            else None
        )
    )
    with TestClient(app) as client:
        photo = make_png(4, 4)
        created = client.post(
            "/orders",
            headers={"x-customer-id": "customer-1"},
            files=[("front", ("front.png", photo)), ("back", ("back.txt", b"back side"))],
        )
        assert created.status_code == 201, created.text
        order, photos = created.json()["order"], created.json()["photos"]
        photo_rows = select(orders.OrderPhoto.order_id, orders.OrderPhoto.media_id).order_by(orders.OrderPhoto.id)
        assert query(config, photo_rows) == [(order, uuid.UUID(photos[0])), (order, uuid.UUID(photos[1]))]
        owners = query(config, _OWNERS)  # the customer's vault user, created on first sight, owns both
        assert owners == [("customer-1", "order-1", 2)]
        assert sorted(media_objects(config).values()) == sorted([photo, b"back side"])
        assert committed_orders == [1, 1]  # each event saw the order committed

        refused = client.post(
            "/orders",
            headers={"x-customer-id": "customer-2"},
            files=[("front", ("ok.png", photo)), ("back", ("huge.bin", b"x" * (64 * 1024 + 1)))],
        )
        assert refused.status_code == 413, refused.text
        assert query(config, "SELECT count(*) FROM shop_order") == [(1,)]
        assert query(config, "SELECT count(*) FROM shop_order_photo") == [(2,)]
        assert query(config, _OWNERS) == owners  # customer-2's new vault user was rolled back with the rest
        assert query(config, "SELECT count(*) FROM mediavault_user") == [(1,)]
        assert sorted(media_objects(config).values()) == sorted([photo, b"back side"])  # ok.png's bytes are gone


_OWNERS = """SELECT u.external_id, t.tag, count(*) FROM mediavault_user u JOIN mediavault_media m ON m.owner_id = u.id
JOIN mediavault_media_tag t ON t.media_id = m.id GROUP BY u.external_id, t.tag"""
"""Who owns the media of the docs' orders, and their tags."""


async def test_the_docs_import_script_runs_outside_any_app(
    tmp_path: Path, docs_module: Any, config: MediaVaultConfig
) -> None:
    async with MediaVault(config).running() as vault:
        user = await vault.api().users.create("alice@example.com", PASSWORD)
    folder = tmp_path / "holiday"
    folder.mkdir()
    (folder / "one.png").write_bytes(make_png(2, 2))
    (folder / "two.txt").write_bytes(b"two")
    url = await docs_module("import_photos.py").import_photos(config, user.id, folder)
    assert url.startswith("/api/v1/s/")
    rows = query(config, "SELECT name FROM mediavault_collection")
    assert rows == [("holiday",)]
    assert media_rows(config) == [("one.png",), ("two.txt",)]
    assert query(config, "SELECT count(*) FROM mediavault_share") == [(1,)]


def test_the_docs_order_app_on_advanced_alchemy_commits_or_rolls_back_with_its_request_session(
    tmp_path: Path, docs_module: Any
) -> None:
    # advanced-alchemy's request session commits when the answer is a success and rolls back otherwise
    # (before_send_handler="autocommit"); the vault follows it.
    config = make_config(tmp_path, max_upload_size=64 * 1024, webhook_worker=False)
    orders = docs_module("orders.py")
    app: Litestar = docs_module("orders_advanced_alchemy.py").create_app(config)
    with TestClient(app) as client:
        photo = make_png(4, 4)
        created = client.post("/orders", headers={"x-customer-id": "customer-1"}, files=[("f", ("f.png", photo))])
        assert created.status_code == 201, created.text
        order, photos = created.json()["order"], created.json()["photos"]
        photo_rows = select(orders.OrderPhoto.order_id, orders.OrderPhoto.media_id)
        assert query(config, photo_rows) == [(order, uuid.UUID(photos[0]))]
        refused = client.post(
            "/orders",
            headers={"x-customer-id": "customer-2"},
            files=[("front", ("ok.png", photo)), ("back", ("huge.bin", b"x" * (64 * 1024 + 1)))],
        )
        assert refused.status_code == 413, refused.text
    assert query(config, "SELECT count(*) FROM shop_order") == [(1,)]
    assert query(config, _OWNERS) == [("customer-1", f"order-{order}", 1)]
    assert list(media_objects(config).values()) == [photo]  # ok.png's bytes went with the rollback
