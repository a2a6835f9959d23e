"""Collections: named sets of the principal's media (the media themselves are never touched)."""

from __future__ import annotations

import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.models import Collection, Media, utcnow
from mediavault.db.query import MediaQuery
from mediavault.db.repositories import CollectionRepository, MediaRepository, MediaRow
from mediavault.domain.collections.schemas import CollectionCreate, CollectionUpdate
from mediavault.domain.ownership import delete_owned, get_owned, get_owned_ids, still_owned
from mediavault.errors import NotFound, ValidationError
from mediavault.events import EventPublisher

__all__ = ("CollectionService",)


def _name(raw: str) -> str:
    name = raw.strip()
    if not name:
        raise ValidationError.for_field("name", "must not be blank")
    return name


class CollectionService:
    """Collections of the principal, for one request's session.

    Methods returning a collection return it with its ``media_count`` (a ``COUNT`` of memberships, which the
    database removes with the media or the collection, so it is always right).
    """

    def __init__(self, session: AsyncSession, *, events: EventPublisher) -> None:
        self.session = session
        self.events = events
        self.collections = CollectionRepository(session=session)
        self.media = MediaRepository(session=session)

    async def get(self, principal: Principal, collection_id: str) -> tuple[Collection, int]:
        """The principal's collection ``collection_id`` and its media count.

        Raises:
            NotFound: unknown, malformed, or someone else's id.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection")
        return collection, await self._count(collection)

    async def create(self, principal: Principal, data: CollectionCreate) -> tuple[Collection, int]:
        """Create an empty collection; emits ``collection.created``.

        Raises:
            ValidationError: blank ``name``.
        """
        collection = Collection(owner_id=principal.user_id, name=_name(data.name), description=data.description)
        self.session.add(collection)
        await self.session.flush()
        self.events.publish(self.session, "collection.created", self._event_data(collection), user_id=principal.user_id)
        await self.session.commit()
        return collection, 0

    async def list_page(
        self, principal: Principal, *, page: int, per_page: int
    ) -> tuple[list[tuple[Collection, int]], int]:
        """One page of the principal's collections (newest first) with their media counts, and the total."""
        rows, total = await self.collections.page_for(principal.user_id, offset=(page - 1) * per_page, limit=per_page)
        counts = await self.collections.media_counts([c.id for c in rows])
        return [(c, counts[c.id]) for c in rows], total

    async def update(self, principal: Principal, collection_id: str, data: CollectionUpdate) -> tuple[Collection, int]:
        """Change ``name`` and/or ``description``, on the row as committed now and locked (concurrent changes apply
        one after the other: none is lost).

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: blank ``name``.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection", lock=True)
        if data.name is not msgspec.UNSET:
            collection.name = _name(data.name)
        if data.description is not msgspec.UNSET:
            collection.description = data.description
        collection.updated_at = utcnow()
        count = await self._count(collection)
        await self.session.commit()
        return collection, count

    async def delete(self, principal: Principal, collection_id: str) -> None:
        """Delete the collection, its memberships and its share links (not its media); emits ``collection.deleted``.

        Raises:
            NotFound: as :meth:`get`.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection")
        data = self._event_data(collection)
        await delete_owned(self.session, collection, what="Collection")  # one of concurrent deletes goes on
        self.events.publish(self.session, "collection.deleted", data, user_id=principal.user_id)
        await self.session.commit()

    async def add_media(self, principal: Principal, collection_id: str, media_ids: list[str]) -> tuple[Collection, int]:
        """Add media to the collection, all or nothing; ids already in it are left alone (idempotent).

        Raises:
            NotFound: the collection, or any of ``media_ids``, is unknown, malformed or someone else's;
                then nothing is added.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection")
        ids = await get_owned_ids(self.session, Media, principal, media_ids, what="Media")
        async with still_owned(self.session, "Collection or media"):
            await self.collections.add_media(collection.id, ids)
            collection.updated_at = utcnow()
            await self.session.commit()
        return collection, await self._count(collection)

    async def remove_media(self, principal: Principal, collection_id: str, media_id: str) -> None:
        """Take one media out of the collection (the media stays).

        Raises:
            NotFound: unknown/someone else's collection or media, or the media is not in the collection.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection")
        media = await get_owned(self.session, Media, principal, media_id, what="Media")
        if not await self.collections.remove_media(collection.id, media.id):
            raise NotFound("Media is not in this collection")
        collection.updated_at = utcnow()
        await self.session.commit()

    async def list_media(
        self, principal: Principal, collection_id: str, query: MediaQuery
    ) -> tuple[list[MediaRow], int]:
        """One page of the collection's media with the filters and sort of ``GET /media``, and the total.

        Raises:
            NotFound: as :meth:`get`.
        """
        collection = await get_owned(self.session, Collection, principal, collection_id, what="Collection")
        return await self.media.rows_page(principal.user_id, query, collection_id=collection.id)

    async def _count(self, collection: Collection) -> int:
        return (await self.collections.media_counts([collection.id]))[collection.id]

    @staticmethod
    def _event_data(collection: Collection) -> dict[str, object]:
        return {"id": str(collection.id), "user_id": str(collection.owner_id), "name": collection.name}
