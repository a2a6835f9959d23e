"""Share links: public, unguessable URLs to one media or one collection of the principal.

A link's token is ``secrets.token_urlsafe(32)`` (256 bits); the database keeps only its SHA-256
(:func:`token_hash`), so a leaked database holds no working link, and a link is looked up by that hash.
Optional passwords are hashed with the vault's Argon2id hasher and checked by argon2 in constant time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.passwords import PasswordHasher
from mediavault.auth.providers import Principal
from mediavault.db.audit import AuditTrail
from mediavault.db.blobs import BlobRepository
from mediavault.db.models import Collection, Media, MediaVariant, Share, utcnow
from mediavault.db.query import MediaQuery
from mediavault.db.repositories import CollectionRepository, MediaRepository, ShareRepository
from mediavault.db.trash import not_trashed
from mediavault.domain.media.services import stored_file
from mediavault.domain.ownership import delete_owned, get_owned, parse_id, still_owned
from mediavault.domain.shares.schemas import ShareCreate
from mediavault.errors import Forbidden, NotFound, Unauthorized, ValidationError
from mediavault.events import EventPublisher
from mediavault.meta import utc_timestamp
from mediavault.processing.base import ProcessingError
from mediavault.processing.images import stripped_when_shared
from mediavault.storage.base import StoredFile

__all__ = ("SharedCollection", "SharedMedia", "ShareService", "token_hash")

_GONE = "Share link not found"


def token_hash(token: str) -> str:
    """Hex SHA-256 of a share token: what the database stores and looks links up by."""
    return hashlib.sha256(token.encode("utf-8", "surrogatepass")).hexdigest()


@dataclass(frozen=True)
class SharedMedia:
    """A media item as a link serves it: the item, the file served in its place (its metadata-free copy, or its
    own bytes; ``None`` when it is not served at all: an image that cannot be shown without its metadata) and that
    file's dimensions."""

    media: Media
    file: StoredFile | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class SharedCollection:
    """What a collection link shows: the collection, its member count and one page of its media."""

    collection: Collection
    media_count: int
    media: list[SharedMedia]
    total: int


class ShareService:
    """Share links: the owner's side (create, list, delete) and the public side (open, view, download).

    Args:
        session: the request's database session (the service commits it).
        passwords: the Argon2id hasher (link passwords).
        events: the outbox publisher.
        share_copy: makes (or finds) the metadata-free ``share`` variant of an image
            (:meth:`~mediavault.processing.worker.ProcessingWorker.share_copy`).
        strip_metadata: serve images without their metadata (``config.share_strip_metadata``).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        passwords: PasswordHasher,
        events: EventPublisher,
        share_copy: Callable[[Media], Awaitable[MediaVariant | None]],
        strip_metadata: bool,
        audit: AuditTrail | None = None,
    ) -> None:
        self.session = session
        self.audit = audit or AuditTrail()
        self.passwords = passwords
        self.events = events
        self.share_copy = share_copy
        self.strip_metadata = strip_metadata
        self.shares = ShareRepository(session=session)
        self.collections = CollectionRepository(session=session)
        self.media = MediaRepository(session=session)

    async def create(self, principal: Principal, data: ShareCreate) -> tuple[Share, str]:
        """Create a link to one of the principal's media or collections; emits ``share.created``.

        Returns:
            The share and its token (shown to the owner this once).

        Raises:
            ValidationError: not exactly one of ``media_id`` / ``collection_id``, or ``allow_upload`` on a media link.
            NotFound: the target is unknown, malformed or someone else's.
        """
        if (data.media_id is None) == (data.collection_id is None):
            message = "give exactly one of media_id and collection_id"
            raise ValidationError(
                f"Invalid input data: {message}",
                [{"field": "media_id", "message": message}, {"field": "collection_id", "message": message}],
            )
        if data.allow_upload and data.media_id is not None:
            raise ValidationError.for_field("allow_upload", "only a collection link can take uploads")
        share = Share(owner_id=principal.user_id, allow_download=data.allow_download, allow_upload=data.allow_upload)
        if data.media_id is not None:
            share.media_id = (await get_owned(self.session, Media, principal, data.media_id, what="Media")).id
        else:
            assert data.collection_id is not None
            collection = await get_owned(self.session, Collection, principal, data.collection_id, what="Collection")
            share.collection_id = collection.id
        token = secrets.token_urlsafe(32)
        share.token_hash = token_hash(token)
        if data.expires_in is not None:
            share.expires_at = utcnow() + dt.timedelta(seconds=data.expires_in)
        if data.password is not None:
            share.password_hash = await self.passwords.hash(data.password)
        target = {"media_id": data.media_id} if data.media_id is not None else {"collection_id": data.collection_id}
        async with still_owned(self.session, "Media" if data.media_id is not None else "Collection"):
            self.session.add(share)
            await self.session.flush()
            self.events.publish(self.session, "share.created", self._event_data(share), user_id=principal.user_id)
            self.audit.record(
                self.session,
                "share.created",
                actor_id=principal.user_id,
                target_type="share",
                target_id=share.id,
                details=target,
            )
            await self.session.commit()
        return share, token

    async def list_page(self, principal: Principal, *, page: int, per_page: int) -> tuple[list[Share], int]:
        """One page of the principal's links (newest first, expired ones included) and the total."""
        return await self.shares.page_for(principal.user_id, offset=(page - 1) * per_page, limit=per_page)

    async def delete(self, principal: Principal, share_id: str) -> None:
        """Delete a link; it stops working at once.

        Raises:
            NotFound: unknown, malformed, or someone else's id.
        """
        share = await get_owned(self.session, Share, principal, share_id, what="Share")
        await delete_owned(self.session, share, what="Share")
        self.audit.record(
            self.session, "share.deleted", actor_id=principal.user_id, target_type="share", target_id=share.id
        )
        await self.session.commit()

    async def open(self, token: str, password: str | None) -> Share:
        """The live share of ``token``, once its password (if any) is right.

        Raises:
            NotFound: no such link, or it expired, was deleted, or its media/collection was deleted (a media in the
                trash included: see :meth:`_media_of`).
            Unauthorized: the link has a password and ``password`` is missing or wrong.
        """
        share = await self.shares.by_token_hash(token_hash(token))
        if share is None or (share.expires_at is not None and share.expires_at <= utcnow()):
            raise NotFound(_GONE)
        if share.password_hash is not None:
            if not password:
                raise Unauthorized("This share link needs a password in the X-Share-Password header")
            if not await self.passwords.verify(share.password_hash, password):
                raise Unauthorized("Wrong share link password")
        return share

    async def view(
        self, token: str, password: str | None, *, page: int, per_page: int
    ) -> SharedMedia | SharedCollection:
        """What ``GET /s/{token}`` shows: the media, or the collection with one page of its media (newest first),
        each with the file the link serves for it (its metadata-free copy made now if processing has not made it
        yet).

        Raises:
            NotFound, Unauthorized: as :meth:`open`.
        """
        share = await self.open(token, password)
        if share.media_id is not None:
            return await self._shared(await self._media_of(share, share.media_id))
        collection = await self.session.scalar(
            select(Collection).where(Collection.id == share.collection_id, Collection.owner_id == share.owner_id)
        )
        if collection is None:
            raise NotFound(_GONE)
        count = (await self.collections.media_counts([collection.id]))[collection.id]
        query = MediaQuery(page=page, per_page=per_page)
        items, total = await self.media.page_for(share.owner_id, query, collection_id=collection.id)
        shared = [await self._shared(media) for media in items]
        return SharedCollection(collection=collection, media_count=count, media=shared, total=total)

    async def _downloadable(self, token: str, password: str | None, media_id: str | None = None) -> Media:
        """The media whose bytes a content link may serve.

        Args:
            media_id: ``None`` for a media link (``/s/{token}/content``); for a collection link
                (``/s/{token}/media/{media_id}/content``) the member to serve.

        Raises:
            NotFound, Unauthorized: as :meth:`open`; also a media link asked for a member, a collection link
                asked for none, or a media that is not (or no longer) in the collection.
            Forbidden: the link was made with ``allow_download`` false.
        """
        share = await self.open(token, password)
        if not share.allow_download:
            raise Forbidden("Downloads are disabled for this share link")
        if media_id is None:
            if share.media_id is None:
                raise NotFound(_GONE)
            return await self._media_of(share, share.media_id)
        if share.collection_id is None:
            raise NotFound("Media not found")
        member = parse_id(media_id)
        if not await self.collections.has_media(share.collection_id, member):
            raise NotFound("Media not found")
        return await self._media_of(share, member)

    async def content(self, token: str, password: str | None, media_id: str | None = None) -> StoredFile:
        """What a content link serves: a media link's media, or a collection link's member ``media_id``, to download.

        Raises:
            NotFound, Unauthorized, Forbidden: as :meth:`_downloadable` and :meth:`_served_file`.
        """
        media = await self._downloadable(token, password, media_id)
        return stored_file(media, *await self._served_file(media))

    async def _served_file(self, media: Media) -> tuple[str, MediaVariant | None]:
        """What a share link serves for ``media``: ``(storage key, variant)``, the variant being its copy without
        metadata (:meth:`_copy_of`) or ``None`` for its own bytes.

        Raises:
            Forbidden: as :meth:`_copy_of`.
        """
        variant = await self._copy_of(media)
        if variant is not None:
            return variant.storage_key, variant
        return await BlobRepository(self.session).content_key(media.id, media.storage_key), None

    async def _copy_of(self, media: Media) -> MediaVariant | None:
        """The copy a link serves in place of ``media``'s bytes. An image, an MP4/QuickTime video or a WebM/Matroska
        file, when ``share_strip_metadata`` is on, is served as its ``share`` variant (no EXIF/GPS, XMP, location
        boxes, GPS subtitles, Matroska tags or attachments), made
        on the spot if processing has not made it yet, so a link never hands out the original; ``None`` (its own
        bytes) for one without metadata and anything else (SVG included: markup, served as an ``attachment`` in a
        sandbox).

        Raises:
            Forbidden: it cannot be served without its metadata (malformed, too large to rewrite, or a format the
                vault does not decode).
        """
        if not (self.strip_metadata and stripped_when_shared(media.kind, media.content_type)):
            return None
        try:
            return await self.share_copy(media)
        except ProcessingError as exc:
            raise Forbidden(f"This {media.kind} cannot be shared without its metadata: {exc}") from exc

    async def _shared(self, media: Media) -> SharedMedia:
        try:
            variant = await self._copy_of(media)
        except Forbidden:
            return SharedMedia(media, None, media.width, media.height)
        file = stored_file(media, media.storage_key, variant)  # only its description is shown, never its key
        if variant is None or variant.width is None:
            return SharedMedia(media, file, media.width, media.height)
        return SharedMedia(media, file, variant.width, variant.height)

    async def _media_of(self, share: Share, media_id: object) -> Media:
        media = await self.session.scalar(
            select(Media).where(Media.id == media_id, Media.owner_id == share.owner_id, not_trashed(share.owner_id))
        )
        if media is None:
            raise NotFound("Media not found")
        return media

    @staticmethod
    def _event_data(share: Share) -> dict[str, object]:
        return {
            "id": str(share.id),
            "user_id": str(share.owner_id),
            "media_id": str(share.media_id) if share.media_id else None,
            "collection_id": str(share.collection_id) if share.collection_id else None,
            "expires_at": utc_timestamp(share.expires_at) if share.expires_at else None,
            "allow_download": share.allow_download,
            "allow_upload": share.allow_upload,
            "has_password": share.password_hash is not None,
        }
