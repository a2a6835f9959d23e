"""Uploads through a link, by someone without an account: signed upload URLs and collection share links made with
``allow_upload``.

Both end in :meth:`MediaService.upload <mediavault.domain.media.services.MediaService.upload>`, the path of
``POST /media/upload`` (sniffing, sanitised names, size limit, ``media.uploaded``, processing, dedup), for the account
that made the link; the link's own checks run in the transaction that records the media:

* A signed upload URL's token is ``secrets.token_urlsafe(32)`` (256 bits), stored as its SHA-256 only
  (:func:`~mediavault.domain.shares.services.token_hash`, as share links), so a copy of the database opens nothing.
  It is spent by deleting its row in that transaction (:class:`~mediavault.db.signed_uploads.SignedUploadRepository`):
  of two uploads racing on one URL exactly one is kept, the other answers 404 and its bytes are deleted. An upload
  refused on the way (over ``max_size``, a malformed body) leaves the URL usable.
* A guest upload opens the share link as a download does (:meth:`ShareService.open
  <mediavault.domain.shares.services.ShareService.open>`: expiry, password), and the link must still exist when
  the upload is recorded: deleting it stops the uploads in flight too.

Expiry is checked when the upload starts: one that began in time may finish after it. An upload over the owner's
storage quota is refused as any other (413 ``quota_exceeded``), with a message that tells the caller, who is not the
owner, nothing of the owner's usage (no byte counts).
"""

from __future__ import annotations

import datetime as dt
import secrets
import uuid
from collections.abc import AsyncIterator, Callable, Iterator
from contextlib import AbstractAsyncContextManager, asynccontextmanager, contextmanager

from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.models import Collection, Media, SignedUpload, utcnow
from mediavault.db.repositories import CollectionRepository, ShareRepository
from mediavault.db.signed_uploads import SignedUploadRepository
from mediavault.domain.link_uploads.schemas import SignedUploadCreate
from mediavault.domain.media.services import IncomingFile, MediaService
from mediavault.domain.ownership import get_owned, still_owned
from mediavault.domain.shares.services import ShareService, token_hash
from mediavault.errors import Forbidden, NotFound, QuotaExceeded, Unauthorized, ValidationError

__all__ = ("FileOpener", "LinkUploadService")

FileOpener = Callable[[int], AbstractAsyncContextManager[IncomingFile]]
"""Opens the request's file with a size limit in bytes (over it, reading raises
:class:`~mediavault.errors.PayloadTooLarge`); the link is checked before anything is read."""

_SIGNED_GONE = "Upload URL not found (unknown, expired or already used)"
_SHARE_GONE = "Share link not found"
_OWNER_QUOTA = "This upload does not fit in the owner's storage quota"


@asynccontextmanager
async def _gone_with_its_owner(message: str) -> AsyncIterator[None]:
    """A link whose owner's account was deleted while a file came through it went with the account: the upload's
    ``Unauthorized`` (the owner is gone) is the link's 404 to its anonymous caller."""
    try:
        yield
    except Unauthorized:
        raise NotFound(message) from None


@contextmanager
def _owner_usage_hidden() -> Iterator[None]:
    """Re-raise a :class:`~mediavault.errors.QuotaExceeded` (whose message counts the owner's bytes) with a message
    that counts nothing: the caller of a link is not the owner."""
    try:
        yield
    except QuotaExceeded as exc:
        raise QuotaExceeded(_OWNER_QUOTA) from exc


class LinkUploadService:
    """Signed upload URLs (signing and using them) and guest uploads through share links, for one request's session.

    Args:
        session: the request's database session (the service commits it).
        media: builds the media service on a session (the uploads are recorded by it, in this session).
        shares: builds the share service on a session (guest uploads open their link through it).
        max_upload_size: the server's limit, in bytes (``config.max_upload_size``): the largest ``max_size`` a URL
            may have, and the limit of guest uploads.
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        media: Callable[[AsyncSession], MediaService],
        shares: Callable[[AsyncSession], ShareService],
        max_upload_size: int,
    ) -> None:
        self.session = session
        self.media = media(session)
        self.shares = shares(session)
        self.max_upload_size = max_upload_size
        self.grants = SignedUploadRepository(session)
        self.collections = CollectionRepository(session=session)
        self.links = ShareRepository(session=session)

    async def sign(self, principal: Principal, data: SignedUploadCreate) -> tuple[SignedUpload, str]:
        """Create a signed upload URL into the principal's account (and collection, when given).

        Returns:
            The row and its token (shown to the signer this once).

        Raises:
            ValidationError: ``max_size`` over ``max_upload_size``.
            NotFound: ``collection_id`` is unknown, malformed or someone else's.
        """
        max_size = self.max_upload_size if data.max_size is None else data.max_size
        if max_size > self.max_upload_size:
            raise ValidationError.for_field("max_size", f"at most the server's limit, {self.max_upload_size} bytes")
        collection_id = None
        if data.collection_id is not None:
            collection = await get_owned(self.session, Collection, principal, data.collection_id, what="Collection")
            collection_id = collection.id
        token = secrets.token_urlsafe(32)
        grant = SignedUpload(
            owner_id=principal.user_id,
            token_hash=token_hash(token),
            expires_at=utcnow() + dt.timedelta(seconds=data.expires_in),
            max_size=max_size,
            collection_id=collection_id,
        )
        async with still_owned(self.session, "Collection"):
            await self.grants.add(grant)
            await self.session.commit()
        return grant, token

    async def upload_signed(self, token: str, open_file: FileOpener, *, declared_size: int | None = None) -> Media:
        """Upload the request's file through the signed URL of ``token``: a media item of the signer, added to the
        URL's collection if it has one. The URL is spent with it. ``declared_size``: the least the file can be
        (from the request's ``Content-Length``), checked against the signer's quota before a byte is stored.

        Raises:
            NotFound: unknown, expired or spent URL (also when a concurrent upload spent it first: then nothing of
                this one is kept), or its collection was deleted.
            PayloadTooLarge: the file is over the URL's ``max_size``: nothing kept, the URL stays usable.
            QuotaExceeded: the file would take the signer past their quota: nothing kept, the URL stays usable; the
                message counts none of the signer's bytes.
            ValidationError: as :meth:`MediaService.upload <mediavault.domain.media.services.MediaService.upload>`.
        """
        grant = await self.grants.live(token_hash(token), utcnow())
        if grant is None:
            raise NotFound(_SIGNED_GONE)
        grant_id, collection_id = grant.id, grant.collection_id
        await self.session.commit()  # end the lookup's transaction: the upload may take long

        async def spend(media: Media) -> None:
            await self.session.flush()  # the row the membership points at
            if collection_id is not None:
                await self._add_to(collection_id, media)
            if not await self.grants.spend(grant_id):
                raise NotFound(_SIGNED_GONE)

        with _owner_usage_hidden():
            async with open_file(grant.max_size) as file, _gone_with_its_owner(_SIGNED_GONE):
                upload = await self.media.upload(grant.owner_id, file, before_commit=spend, declared_size=declared_size)
        return upload.media

    async def upload_to_share(
        self, token: str, password: str | None, open_file: FileOpener, *, declared_size: int | None = None
    ) -> Media:
        """Upload the request's file through the collection share link of ``token``: a media item of the link's owner,
        added to its collection. ``declared_size``: as :meth:`upload_signed`, against the owner's quota.

        Raises:
            NotFound: unknown, expired or deleted link (also deleted while the file was arriving: nothing kept).
            Unauthorized: the link has a password and ``password`` is missing or wrong.
            Forbidden: the link was not made with ``allow_upload``.
            PayloadTooLarge, QuotaExceeded, ValidationError: as :meth:`MediaService.upload
                <mediavault.domain.media.services.MediaService.upload>` (limit: ``max_upload_size``).
        """
        share = await self.shares.open(token, password)
        if not share.allow_upload or share.collection_id is None:
            raise Forbidden("This share link does not take uploads")
        share_id, collection_id = share.id, share.collection_id
        await self.session.commit()  # end the lookup's transaction: the upload may take long

        async def add(media: Media) -> None:
            await self.session.flush()  # the row the membership points at
            await self._add_to(collection_id, media)  # the collection first: deleting it locks it, then its links
            if not await self.links.hold(share_id):
                raise NotFound(_SHARE_GONE)

        with _owner_usage_hidden():
            async with open_file(self.max_upload_size) as file, _gone_with_its_owner(_SHARE_GONE):
                upload = await self.media.upload(share.owner_id, file, before_commit=add, declared_size=declared_size)
        return upload.media

    async def _add_to(self, collection_id: uuid.UUID, media: Media) -> None:
        """Make ``media`` a member of ``collection_id``, which must still exist (it is locked against deletion until
        the commit).

        Raises:
            NotFound: the collection was deleted.
        """
        if not await self.collections.touch(collection_id):
            raise NotFound("Collection not found")
        await self.collections.add_media(collection_id, [media.id])
