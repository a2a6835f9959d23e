"""Media: streamed upload into storage, owner-scoped reads, updates and deletion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Iterable

import anyio.to_thread
import msgspec
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.db.models import Media, MediaTag, utcnow
from mediavault.db.repositories import MediaRepository
from mediavault.db.search import search_document
from mediavault.domain.media.query import MediaQuery
from mediavault.domain.media.schemas import MediaUpdate
from mediavault.domain.media.sniff import image_dimensions, media_kind, safe_filename, sniff_content_type
from mediavault.domain.ownership import get_owned
from mediavault.errors import ValidationError
from mediavault.http.multipart import receive_upload
from mediavault.runtime import VaultRuntime

__all__ = ("MediaService", "parse_tags")

logger = logging.getLogger("mediavault")
MAX_TAGS = 50
MAX_TAG_LENGTH = 100


def parse_tags(values: Iterable[str], field: str = "tags") -> list[str]:
    """Normalise tags: trimmed, lower-cased, empty ones dropped, duplicates removed, order kept.

    Raises:
        ValidationError: more than 50 tags or one longer than 100 characters.
    """
    tags = list(dict.fromkeys(t.strip().lower() for t in values if t.strip()))
    if len(tags) > MAX_TAGS:
        raise ValidationError.for_field(field, f"at most {MAX_TAGS} tags")
    if any(len(t) > MAX_TAG_LENGTH for t in tags):
        raise ValidationError.for_field(field, f"each tag is at most {MAX_TAG_LENGTH} characters")
    return tags


class MediaService:
    """Media of the principal, for one request's session."""

    def __init__(self, session: AsyncSession, runtime: VaultRuntime) -> None:
        self.session = session
        self.runtime = runtime
        self.media = MediaRepository(session=session)
        self.prefix = runtime.config.path_prefix

    async def upload(
        self, principal: Principal, *, content_type: str | None, content_length: str | None, body: AsyncIterator[bytes]
    ) -> Media:
        """Stream a multipart upload into storage and record it; emits ``media.uploaded``.

        The bytes are written once, straight to storage, while SHA-256 and size are computed. On any
        failure nothing is kept: no row, no bytes.

        Raises:
            PayloadTooLarge, UnsupportedMediaType, ValidationError: as
                :func:`~mediavault.http.multipart.receive_upload` raises them.
        """
        storage = self.runtime.storage
        key = f"media/{principal.user_id}/{uuid.uuid4().hex}"
        upload = await receive_upload(
            content_type=content_type,
            content_length=content_length,
            body=body,
            max_size=self.runtime.config.max_upload_size,
            open_writer=lambda: storage.open_writer(key),
        )
        try:
            fields = upload.fields
            tags = parse_tags(fields.get("tags", "").split(","))
            for name in ("title", "description"):
                if len(fields.get(name, "")) > 10_000:
                    raise ValidationError.for_field(name, "at most 10000 characters")
            file = upload.file
            sniffed = sniff_content_type(file.head, file.filename)
            kind = media_kind(sniffed)
            dimensions = await anyio.to_thread.run_sync(self._dimensions, key) if kind == "image" else None
            media = Media(
                id=uuid.uuid4(),
                owner_id=principal.user_id,
                storage_key=key,
                filename=safe_filename(file.filename),
                original_filename=file.filename,
                content_type=sniffed,
                kind=kind,
                size=file.size,
                checksum_sha256=file.checksum_sha256,
                width=dimensions[0] if dimensions else None,
                height=dimensions[1] if dimensions else None,
                title=fields.get("title") or None,
                description=fields.get("description") or None,
                tag_rows=[MediaTag(tag=t, position=i) for i, t in enumerate(tags)],
            )
            media.search_text = search_document(media.filename, media.title, media.description, tags)
            self.session.add(media)
            self.runtime.events.publish(self.session, "media.uploaded", self._event_data(media), user_id=media.owner_id)
            await self.session.commit()
        except BaseException:
            await self.session.rollback()
            await storage.delete(key)
            raise
        return media

    def _dimensions(self, key: str) -> tuple[int, int] | None:
        with self.runtime.storage.open_sync(key) as fp:
            return image_dimensions(fp)

    async def get(self, principal: Principal, media_id: str) -> Media:
        """The principal's media ``media_id``.

        Raises:
            NotFound: unknown, malformed, or someone else's id (existence is not revealed).
        """
        return await get_owned(self.session, Media, principal, media_id, what="Media")

    async def list_page(self, principal: Principal, query: MediaQuery) -> tuple[list[Media], int]:
        """One page of the principal's media matching ``query``, and the total matching.

        ``query.q`` is a substring filter (``GET /media``); ``query.search`` a full-text query over filename,
        title, description and tags (``GET /search``, see :mod:`mediavault.db.search`).
        """
        return await self.media.page_for(principal.user_id, query)

    async def update(self, principal: Principal, media_id: str, data: MediaUpdate) -> Media:
        """Change title, description or tags (and the search index with them); emits ``media.updated``.

        Raises:
            NotFound: as :meth:`get`.
        """
        media = await self.get(principal, media_id)
        if data.title is not msgspec.UNSET:
            media.title = data.title
        if data.description is not msgspec.UNSET:
            media.description = data.description
        if data.tags is not msgspec.UNSET:
            media.tag_rows = [MediaTag(tag=t, position=i) for i, t in enumerate(parse_tags(data.tags))]
        media.search_text = search_document(media.filename, media.title, media.description, media.tags)
        media.updated_at = utcnow()
        self.runtime.events.publish(self.session, "media.updated", self._event_data(media), user_id=media.owner_id)
        await self.session.commit()
        await self.session.refresh(media)
        return media

    async def delete(self, principal: Principal, media_id: str) -> None:
        """Delete the row (and its memberships), emit ``media.deleted``, then remove the bytes.

        The row goes first: a crash in between leaves unreferenced bytes, never a row pointing at
        missing bytes.

        Raises:
            NotFound: as :meth:`get`.
        """
        media = await self.get(principal, media_id)
        data = self._event_data(media)
        await self.session.delete(media)
        self.runtime.events.publish(self.session, "media.deleted", data, user_id=media.owner_id)
        await self.session.commit()
        try:
            await self.runtime.storage.delete(media.storage_key)
        except Exception:  # the row is gone; orphaned bytes are logged, not an error for the caller
            logger.exception("could not delete stored bytes %s", media.storage_key)

    @staticmethod
    def _event_data(media: Media) -> dict[str, object]:
        return {
            "id": str(media.id),
            "type": media.kind,
            "user_id": str(media.owner_id),
            "filename": media.filename,
            "content_type": media.content_type,
            "size": media.size,
            "title": media.title,
            "description": media.description,
            "tags": media.tags,
        }
