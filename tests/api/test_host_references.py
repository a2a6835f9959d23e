"""Host rows that reference media (``mediavault.db.media_fk``; ``examples/host_references.py``, shown verbatim in
docs/embedding.md): a real host model in the vault's database, on both legs. A delete that a host row's reference
refuses answers 409 and changes nothing (the row, the media, its bytes and its event all stay as they were);
``SET NULL`` and ``CASCADE`` are the database's to apply."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import pytest
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import ForeignKey, insert, select
from sqlalchemy.ext.asyncio import AsyncSession, create_async_engine
from sqlalchemy.orm import Mapped, mapped_column
from sqlalchemy.pool import NullPool

from examples.host_references import Base, Listing
from mediavault import MediaVault, MediaVaultConfig
from mediavault.db import media_fk
from mediavault.db.engine import create_engine
from mediavault.domain.media.services import HOST_REFERENCE_MESSAGE
from mediavault.errors import Conflict
from tests.api._checks import error, success
from tests.backends import _run, query, stored_objects
from tests.conftest import PREFIX, Account, make_config


class ListingPhoto(Base):  # a gallery row that goes with its media (the host's choice: CASCADE)
    __tablename__ = "shop_listing_photo"

    id: Mapped[int] = mapped_column(primary_key=True)
    listing_id: Mapped[int] = mapped_column(ForeignKey(Listing.id, ondelete="CASCADE"))
    media_id: Mapped[uuid.UUID] = media_fk(ondelete="CASCADE")


def create_host_tables(config: MediaVaultConfig) -> None:
    """The host's own ``create_all`` on the vault's database (after the vault's migrations: the keys point there)."""

    async def run() -> None:
        engine = create_async_engine(config.database_url, poolclass=NullPool)
        try:
            async with engine.begin() as conn:
                await conn.run_sync(Base.metadata.create_all)
        finally:
            await engine.dispose()

    _run(run())


@pytest.fixture
def host(tmp_path: Path) -> Iterator[tuple[TestClient[Litestar], MediaVaultConfig]]:
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        create_host_tables(config)
        yield client, config


def listing_row(config: MediaVaultConfig) -> tuple[uuid.UUID, uuid.UUID | None]:
    [row] = query(config, select(Listing.photo_id, Listing.banner_id))
    return row[0], row[1]


def test_media_a_host_row_references_is_not_deleted(host: tuple[TestClient[Litestar], MediaVaultConfig]) -> None:
    client, config = host
    alice = Account(client, "alice@example.com")
    photo = alice.upload(b"the photo's bytes", "photo.txt")
    query(config, insert(Listing).values(id=1, title="Bike", photo_id=uuid.UUID(photo["id"])))

    refused = error(client.delete(f"{PREFIX}/media/{photo['id']}", headers=alice.headers), 409, "conflict")
    assert refused["message"] == HOST_REFERENCE_MESSAGE and "host application" in refused["message"]

    # nothing half-done: the host's row, the media, its bytes; no media.deleted event
    assert listing_row(config) == (uuid.UUID(photo["id"]), None)
    assert success(client.get(f"{PREFIX}/media/{photo['id']}", headers=alice.headers))["id"] == photo["id"]
    assert client.get(f"{PREFIX}/media/{photo['id']}/content", headers=alice.headers).content == b"the photo's bytes"
    events = query(config, "SELECT event FROM mediavault_outbox_event ORDER BY created_at")
    assert [e for (e,) in events] == ["user.registered", "media.uploaded"]

    # once the host's row points elsewhere, the delete goes through
    other = alice.upload(b"another photo", "other.txt")
    query(config, Listing.__table__.update().values(photo_id=uuid.UUID(other["id"])))
    assert client.delete(f"{PREFIX}/media/{photo['id']}", headers=alice.headers).status_code == 204
    error(client.get(f"{PREFIX}/media/{photo['id']}", headers=alice.headers), 404, "not_found")


def test_the_hosts_set_null_and_cascade_apply(host: tuple[TestClient[Litestar], MediaVaultConfig]) -> None:
    client, config = host
    alice = Account(client, "alice@example.com")
    photo, banner, extra = (alice.upload(f"bytes {n}".encode(), f"{n}.txt") for n in range(3))
    ids = {name: uuid.UUID(m["id"]) for name, m in (("photo", photo), ("banner", banner), ("extra", extra))}
    query(config, insert(Listing).values(id=1, title="Bike", photo_id=ids["photo"], banner_id=ids["banner"]))
    query(config, insert(ListingPhoto).values(id=1, listing_id=1, media_id=ids["extra"]))

    assert client.delete(f"{PREFIX}/media/{banner['id']}", headers=alice.headers).status_code == 204
    assert listing_row(config) == (ids["photo"], None)  # SET NULL: the listing stays, its banner cleared
    assert client.delete(f"{PREFIX}/media/{extra['id']}", headers=alice.headers).status_code == 204
    assert query(config, select(ListingPhoto.id)) == []  # CASCADE: the gallery row went with its media


def test_media_fk_refuses_what_the_database_cannot_do() -> None:
    with pytest.raises(ValueError, match="ondelete"):
        media_fk(ondelete="DROP")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match="SET NULL needs a nullable column"):
        media_fk(ondelete="SET NULL", nullable=False)


@pytest.mark.anyio
@pytest.mark.parametrize("anyio_backend", ["asyncio"])
async def test_the_in_process_api_refuses_it_too(tmp_path: Path, anyio_backend: str) -> None:
    config = make_config(tmp_path, webhook_worker=False)
    async with MediaVault(config).running() as vault:
        create_host_tables(config)
        user = await vault.api().users.create("alice@example.com", "correct horse battery")
        alice = vault.api(user=user.id)
        photo = await alice.media.upload(b"the photo's bytes", filename="photo.txt")
        query(config, insert(Listing).values(id=1, title="Bike", photo_id=uuid.UUID(photo.id)))
        objects = stored_objects(config)

        with pytest.raises(Conflict, match="host application"):
            await alice.media.delete(photo.id)  # on the vault's own session
        # the host's engine turns SQLite's foreign keys on, as the vault's does: the call runs on its connection
        engine = create_engine(config.database_url, poolclass=NullPool)
        try:
            async with AsyncSession(engine) as session:
                session.add(Listing(id=2, title="Helmet", photo_id=uuid.UUID(photo.id)))
                with pytest.raises(Conflict, match="host application"):
                    await vault.api(user=user.id, session=session).media.delete(photo.id)
                await session.commit()  # the host's transaction is intact: its own new row is kept
        finally:
            await engine.dispose()

        assert (await alice.media.get(photo.id)).id == photo.id
        assert stored_objects(config) == objects
    assert query(config, select(Listing.id).order_by(Listing.id)) == [(1,), (2,)]
