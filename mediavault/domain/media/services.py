"""Media: streamed upload into storage, owner-scoped reads, updates and deletion."""

from __future__ import annotations

import logging
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import Any, Protocol

import anyio.to_thread
import msgspec
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.config import MediaVaultConfig
from mediavault.db.audit import AuditTrail
from mediavault.db.blobs import BlobGone, BlobRepository
from mediavault.db.custom_metadata import index_entries
from mediavault.db.engine import release_before_waiting
from mediavault.db.models import Media, MediaProcessing, MediaTag, MediaVariant, User, utcnow
from mediavault.db.processing import ProcessingRepository
from mediavault.db.query import MediaQuery
from mediavault.db.repositories import MediaRepository, MediaRow
from mediavault.db.search import search_document
from mediavault.db.trash import TrashRepository
from mediavault.db.versions import VersionRepository
from mediavault.domain.media.schemas import MediaUpdate
from mediavault.domain.media.sniff import image_dimensions, media_kind, safe_filename, sniff_content_type
from mediavault.domain.ownership import get_owned, parse_id
from mediavault.domain.quotas import Quotas
from mediavault.errors import NUL_MESSAGE, Conflict, NotFound, PayloadTooLarge, Unauthorized, ValidationError
from mediavault.events import EventPublisher
from mediavault.storage.base import StorageBackend, StoredFile, WrittenStream, write_stream

__all__ = (
    "MAX_METADATA_BYTES",
    "Incoming",
    "IncomingFile",
    "MediaService",
    "Upload",
    "UploadFields",
    "check_metadata",
    "check_upload_fields",
    "merge_patch",
    "parse_tags",
    "stored_file",
)

logger = logging.getLogger("mediavault")
UPLOAD_FIELDS = frozenset({"title", "description", "tags", "metadata"})
"""The text parts ``POST /media/upload`` takes beside ``file``; any other is a 400 naming it."""
MAX_TAGS = 50
MAX_TAG_LENGTH = 100
MAX_METADATA_BYTES = 16 * 1024
"""Largest custom metadata object, JSON-encoded (16 KiB)."""
DEDUP_ATTEMPTS = 3
_DROPPED_KEYS = "mediavault.dropped_keys"
"""``session.info`` key: storage keys a pending transaction makes unreferenced (deleted after its commit)."""
HOST_REFERENCE_MESSAGE = (
    "Media is referenced by a row of the host application (a foreign key with ON DELETE RESTRICT): "
    "delete that row or point it elsewhere first"
)
"""The 409 ``conflict`` message of a delete that a host row's reference refused (``mediavault.db.media_fk``)."""


class IncomingFile(Protocol):
    """A file on its way in (e.g. the ``file`` part of a multipart body,
    :class:`~mediavault.http.multipart.UploadStream`): iterating it yields its bytes as they arrive, once.

    Attributes:
        filename: the client's name for it, as sent (unsanitised).
        fields: the other form fields (``title``, ``description``, ``tags``); complete once the bytes were read.
        arrived: whether its bytes are all in memory already (a small request body that came in one piece), so
            reading them waits on no client and the service keeps its database connection meanwhile.
    """

    filename: str

    @property
    def fields(self) -> Mapping[str, str]: ...

    @property
    def arrived(self) -> bool: ...

    def __aiter__(self) -> AsyncIterator[bytes]: ...


@dataclass(frozen=True)
class Upload:
    """A recorded upload: the new item, and whether its bytes were already stored (``dedup``).

    ``media`` holds every column as stored, tags included, but is not in the session (its rows were written with
    Core statements, :meth:`~mediavault.db.repositories.MediaRepository.insert_new`): load it again to change it."""

    media: Media
    deduplicated: bool


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


@dataclass(frozen=True)
class UploadFields:
    """The checked text parts of an upload form; ``None``: the part was not sent."""

    title: str | None = None
    description: str | None = None
    tags: list[str] | None = None
    metadata: dict[str, Any] | None = None


def _has_nul(value: Any) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any("\x00" in k or _has_nul(v) for k, v in value.items())
    return isinstance(value, list) and any(_has_nul(v) for v in value)


def check_metadata(value: Any, field: str = "metadata") -> dict[str, Any]:
    """``value`` if it is custom metadata the vault keeps: a JSON object of at most :data:`MAX_METADATA_BYTES`
    encoded, without NUL characters (PostgreSQL's ``jsonb`` cannot hold them).

    Raises:
        ValidationError: naming ``field``.
    """
    if not isinstance(value, dict):
        raise ValidationError.for_field(field, "must be a JSON object")
    if len(msgspec.json.encode(value)) > MAX_METADATA_BYTES:
        raise ValidationError.for_field(field, f"at most {MAX_METADATA_BYTES} bytes as JSON")
    if _has_nul(value):
        raise ValidationError.for_field(field, NUL_MESSAGE)
    return value


def merge_patch(target: Any, patch: Any) -> Any:
    """``target`` with the JSON merge ``patch`` applied (RFC 7396 section 2: an object patch merges key by key,
    ``null`` removes a key; any other patch replaces the target). Neither argument is changed."""
    if not isinstance(patch, dict):
        return patch
    result = dict(target) if isinstance(target, dict) else {}
    for key, value in patch.items():
        if value is None:
            result.pop(key, None)
        else:
            result[key] = merge_patch(result.get(key), value)
    return result


def check_upload_fields(fields: Mapping[str, str]) -> UploadFields:
    """The text fields of an upload (``title``, ``description``, ``tags``, ``metadata``), checked.

    Raises:
        ValidationError: an unknown part, a NUL character, more than 50 tags or one over 100 characters, a title or
            description over 10,000 characters, ``metadata`` not a JSON object (as text) or over 16 KiB.
    """
    if unknown := sorted(fields.keys() - UPLOAD_FIELDS):
        raise ValidationError.for_field(
            unknown[0], "unknown field (the parts are file, title, description, tags, metadata)"
        )
    if nul := sorted(name for name, value in fields.items() if "\x00" in value):
        raise ValidationError.for_field(nul[0], NUL_MESSAGE)
    for name in ("title", "description"):
        if len(fields.get(name, "")) > 10_000:
            raise ValidationError.for_field(name, "at most 10000 characters")
    metadata = None
    if "metadata" in fields:
        try:
            metadata = check_metadata(msgspec.json.decode(fields["metadata"]))
        except msgspec.DecodeError:
            raise ValidationError.for_field("metadata", "must be a JSON object") from None
    return UploadFields(
        title=fields.get("title"),
        description=fields.get("description"),
        tags=parse_tags(fields["tags"].split(",")) if "tags" in fields else None,
        metadata=metadata,
    )


@dataclass(frozen=True)
class Incoming:
    """New bytes, written to storage at ``key`` and checked, with the form's fields (see ``MediaService._store``)."""

    key: str
    filename: str
    content_type: str
    kind: str
    size: int
    checksum_sha256: str
    dimensions: tuple[int, int] | None
    fields: UploadFields

    def apply_to(self, media: Media) -> None:
        """Make these bytes ``media``'s: key, sanitised and original filename, sniffed type, size, checksum, and
        dimensions; and its search document."""
        media.storage_key = self.key
        media.filename = safe_filename(self.filename)
        media.original_filename = self.filename
        media.content_type = self.content_type
        media.kind = self.kind
        media.size = self.size
        media.checksum_sha256 = self.checksum_sha256
        media.width, media.height = self.dimensions or (None, None)


def stored_file(media: Media, key: str, variant: MediaVariant | None = None) -> StoredFile:
    """What a download of ``media`` serves: its bytes at ``key`` (its own or, deduplicated, its blob's), or one of
    its variants. A variant has its own checksum (``ETag``), type and time; its filename gets the thumbnail size and,
    when its format differs (a TIFF shared as PNG), that format's extension."""
    if variant is None:
        modified = media.replaced_at or media.created_at
        return StoredFile(key, media.size, media.checksum_sha256, media.content_type, media.filename, modified)
    filename = media.filename
    stem, dot, extension = filename.rpartition(".")
    stem, extension = (stem, extension) if dot else (filename, "")
    if variant.name.startswith("thumb-"):
        stem = f"{stem}-{variant.name.removeprefix('thumb-')}"
    if variant.content_type != media.content_type:
        extension = variant.content_type.rsplit("/", 1)[-1]
    return StoredFile(
        key=variant.storage_key,
        size=variant.size,
        checksum_sha256=variant.checksum_sha256,
        content_type=variant.content_type,
        filename=f"{stem}.{extension}" if extension else stem,
        last_modified=variant.created_at,
    )


async def _within_limit(file: IncomingFile, max_size: int) -> AsyncIterator[bytes]:
    """The bytes of ``file``, refused past ``max_size`` bytes or when there are none: the rule for every way in
    (HTTP's multipart reader stops reading at the same limit first, before the body's end)."""
    size = 0
    chunks = aiter(file)
    try:
        async for chunk in chunks:
            size += len(chunk)
            if size > max_size:
                raise PayloadTooLarge(f"File larger than the {max_size} byte limit")
            yield chunk
    finally:
        if (aclose := getattr(chunks, "aclose", None)) is not None:
            await aclose()
    if size == 0:
        raise ValidationError.for_field("file", "must not be empty")


class MediaService:
    """Media of the principal, for one request's session.

    Args:
        session: the request's database session (the service commits it).
        config: ``max_upload_size``, ``dedup`` and ``thumbnail_sizes`` are read.
        storage: where the bytes go.
        events: the outbox publisher.
        processing_owed: whether an item needs the processing worker, or the processor of a name
            (:meth:`~mediavault.processing.worker.ProcessingWorker.owed`).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        config: MediaVaultConfig,
        storage: StorageBackend,
        events: EventPublisher,
        processing_owed: Callable[[Media, str | None], bool],
        audit: AuditTrail | None = None,
    ) -> None:
        self.session = session
        self.audit = audit or AuditTrail()
        self.config = config
        self.storage = storage
        self.events = events
        self.processing_owed = processing_owed
        self.media = MediaRepository(session=session)

    async def upload(
        self,
        owner_id: uuid.UUID,
        file: IncomingFile,
        *,
        before_commit: Callable[[Media], Awaitable[None]] | None = None,
        declared_size: int | None = None,
    ) -> Upload:
        """Stream ``file`` into storage and record it as a media item of ``owner_id`` (the caller, or whoever made
        the link it came through); emits ``media.uploaded``.

        The bytes are written once, straight to storage, while SHA-256, size and the first bytes (for sniffing) are
        taken (:func:`~mediavault.storage.base.write_stream`). On any failure nothing is kept: no row, no bytes. The
        item's processing (metadata, thumbnails) is owed from the same transaction (a ``pending`` row the processing
        worker claims; ``done`` at once when no processor accepts the item). With ``dedup`` on, an upload whose
        bytes the owner already stored links to them and its own copy is deleted (see :mod:`mediavault.db.blobs`).
        ``before_commit``: as :meth:`record`. The owner's storage quota is checked before the first byte is stored
        when ``declared_size`` (the least the file can be, from a declared length) is given, while the bytes arrive,
        and in the transaction (:mod:`mediavault.domain.quotas`).

        Raises:
            PayloadTooLarge: ``file`` holds more than ``max_upload_size`` bytes (reading stops there).
            QuotaExceeded: the file would take the owner past their quota; nothing was kept.
            Unauthorized: the owner's account was deleted while the bytes arrived; nothing was kept.
            ValidationError: ``file`` is empty; more than 50 tags or one over 100 characters, a title or description
                over 10,000.
            Exception: whatever reading ``file`` raises (e.g. :class:`~mediavault.errors.PayloadTooLarge`), after the
                bytes written so far were discarded.
        """
        key, written = await self._store_incoming(owner_id, file, declared_size)
        return await self.record(owner_id, key, written, file.filename, file.fields, before_commit=before_commit)

    async def _store_incoming(
        self, owner_id: uuid.UUID, file: IncomingFile, declared_size: int | None
    ) -> tuple[str, WrittenStream]:
        """Stream ``file`` to a new key of ``owner_id``'s under ``max_upload_size`` and the owner's quota (refused
        before the first byte when ``declared_size`` is over the room left, cut off past it); returns the key and
        what was written. Unless the file has ``arrived``, the quota read ends the session's reads
        (:func:`release_before_waiting`): no pooled connection is held while a client sends its bytes.

        Raises:
            PayloadTooLarge, QuotaExceeded: as :meth:`upload` (the bytes written so far discarded).
        """
        quotas = Quotas(self.session, default_quota_bytes=self.config.default_quota_bytes)
        room = await quotas.ensure_room(owner_id, declared_size or 0, at_least=True)
        if not file.arrived:
            await release_before_waiting(self.session)
        key = f"media/{owner_id}/{uuid.uuid4().hex}"
        limited = _within_limit(file, self.config.max_upload_size)
        if room is not None:
            limited = quotas.capped(limited, room)
        return key, await write_stream(await self.storage.open_writer(key), limited)

    async def record(
        self,
        owner_id: uuid.UUID,
        key: str,
        written: WrittenStream,
        filename: str,
        fields: Mapping[str, str],
        *,
        before_commit: Callable[[Media], Awaitable[None]] | None = None,
        discard_on_failure: bool = True,
    ) -> Upload:
        """Record bytes already stored at ``key`` as a new media item of ``owner_id`` (the second half of
        :meth:`upload`, also what a finished resumable upload calls): ``filename`` is the client's name (sanitised
        here), ``fields`` the text fields (checked by :func:`check_upload_fields`); emits ``media.uploaded``.

        Args:
            before_commit: awaited with the new row right before each commit attempt (the caller's own changes to
                the same transaction); what it raises fails the upload.
            discard_on_failure: delete the bytes at ``key`` when recording fails (the caller may own them instead).

        Raises:
            ValidationError: as :func:`check_upload_fields`.
            QuotaExceeded: with this item the owner stores more than their quota (:meth:`Quotas.check
                <mediavault.domain.quotas.Quotas.check>`).
            Unauthorized: the owner's account was deleted meanwhile (the item's rows fail their foreign key).
        """

        async def build(incoming: Incoming) -> Media:
            fields = incoming.fields
            tags = fields.tags or []
            now = utcnow()
            media = Media(  # written with Core statements (MediaRepository.insert_new), never added to the session
                id=uuid.uuid4(),
                created_at=now,
                updated_at=now,
                owner_id=owner_id,
                title=fields.title or None,
                description=fields.description or None,
                tag_rows=[MediaTag(tag=t, position=i) for i, t in enumerate(tags)],
                custom_metadata=fields.metadata or {},
            )
            incoming.apply_to(media)
            media.search_text = search_document(media.filename, media.title, media.description, tags)
            owed = self.processing_owed(media, None)
            event = self.events.outbox_write(
                self.session, "media.uploaded", self.event_data(media), user_id=media.owner_id
            )
            try:
                await self.media.insert_new(media, processed_at=None if owed else now, also=[event])
            except IntegrityError:
                await self.session.rollback()
                if await self.session.scalar(select(User.id).where(User.id == owner_id)) is None:
                    raise Unauthorized("User no longer exists") from None  # deleted while the bytes arrived
                raise
            if fields.metadata:
                await index_entries(self.session, media.id, fields.metadata, fresh=True)
            return media

        media, deduplicated = await self._store(
            key, written, filename, fields, build, before_commit=before_commit, discard_on_failure=discard_on_failure
        )
        return Upload(media, deduplicated=deduplicated)

    async def replace(
        self, principal: Principal, media_id: str, file: IncomingFile, *, declared_size: int | None = None
    ) -> Media:
        """Replace the bytes of the principal's media ``media_id`` with ``file`` (read and checked as :meth:`upload`
        reads it): same id, collections and shares; ``version`` + 1; the previous bytes become a version (at most
        ``max_versions`` are kept, older ones go with their bytes); its processing is done again for the new bytes;
        emits ``media.updated``. The form's ``title``, ``description``, ``tags`` and ``metadata``, when sent,
        replace those fields.

        The owner's quota is checked as :meth:`upload` checks it (``declared_size`` before the first byte is stored,
        then while the bytes arrive, then in the transaction); the first two count the current bytes as kept (they
        become a version), the third counts what the transaction leaves (versions pruned by ``max_versions``,
        deduplicated bytes).

        Raises:
            NotFound: as :meth:`get` (checked before the body is read).
            PayloadTooLarge, QuotaExceeded, ValidationError: as :meth:`upload`; nothing changes then.
        """
        owner_id = (await self.get(principal, media_id)).owner_id
        key, written = await self._store_incoming(owner_id, file, declared_size)
        return await self.record_replacement(principal, media_id, key, written, file.filename, file.fields)

    async def record_replacement(
        self,
        principal: Principal,
        media_id: str,
        key: str,
        written: WrittenStream,
        filename: str,
        fields: Mapping[str, str],
        *,
        before_commit: Callable[[Media], Awaitable[None]] | None = None,
        discard_on_failure: bool = True,
    ) -> Media:
        """Make bytes already stored at ``key`` the new bytes of the principal's media ``media_id`` (the second half
        of :meth:`replace`, also what a finished resumable upload naming that item calls): ``version`` + 1, the
        previous bytes become a version, processing again, ``media.updated``; ``fields`` that are sent replace the
        item's. ``before_commit`` and ``discard_on_failure``: as :meth:`record`.

        Raises:
            NotFound: the item is gone, or not the principal's; nothing changes then.
            ValidationError, QuotaExceeded: as :meth:`record`; nothing changes then.
        """

        async def build(incoming: Incoming) -> Media:
            media = await self.get(principal, media_id, lock=True)
            versions = VersionRepository(self.session)
            await versions.push(media)
            incoming.apply_to(media)
            fields = incoming.fields
            for name in ("title", "description"):
                if (value := getattr(fields, name)) is not None:
                    setattr(media, name, value or None)
            if fields.tags is not None:
                media.tag_rows = [MediaTag(tag=t, position=i) for i, t in enumerate(fields.tags)]
            if fields.metadata is not None:
                media.custom_metadata = fields.metadata
                await index_entries(self.session, media.id, fields.metadata, fresh=False)
            media.search_text = search_document(media.filename, media.title, media.description, media.tags)
            media.version += 1
            media.replaced_at = media.updated_at = utcnow()
            await ProcessingRepository(self.session).requeue([media.id])
            self.session.info[_DROPPED_KEYS] = [
                *await self._delete_variants(media),
                *await versions.prune(media.id, self.config.max_versions),
            ]
            self.events.publish(self.session, "media.updated", self.event_data(media), user_id=media.owner_id)
            return media

        async def settle(media: Media) -> None:
            if before_commit is not None:
                await before_commit(media)
            await self._reread(media)

        media, _ = await self._store(
            key, written, filename, fields, build, before_commit=settle, discard_on_failure=discard_on_failure
        )
        return media

    async def _store(
        self,
        key: str,
        written: WrittenStream,
        filename: str,
        fields: Mapping[str, str],
        build: Callable[[Incoming], Awaitable[Media]],
        *,
        before_commit: Callable[[Media], Awaitable[None]] | None = None,
        discard_on_failure: bool = True,
    ) -> tuple[Media, bool]:
        """Check the fields of bytes stored at ``key``, ``build`` the rows making them a media item's (events
        included), and commit; with ``dedup`` the item is linked to its owner's blob of those bytes, and ``build``
        runs again when a concurrent delete took that blob. On any failure nothing is kept (the bytes at ``key``
        go too unless ``discard_on_failure`` is false). After the commit, bytes the transaction left unreferenced
        (``session.info[_DROPPED_KEYS]``, and ours when they were already stored) are deleted. Returns the item and
        whether its bytes were already stored."""
        storage = self.storage
        quotas = Quotas(self.session, default_quota_bytes=self.config.default_quota_bytes)
        try:
            checked = check_upload_fields(fields)
            sniffed = sniff_content_type(written.head, filename)
            kind = media_kind(sniffed)
            dimensions = await anyio.to_thread.run_sync(self._dimensions, key, sniffed) if kind == "image" else None
            incoming = Incoming(
                key, filename, sniffed, kind, written.size, written.checksum_sha256, dimensions, checked
            )
            for attempt in range(DEDUP_ATTEMPTS):
                self.session.info.pop(_DROPPED_KEYS, None)
                media = await build(incoming)
                try:
                    stored_at = key
                    if self.config.dedup:
                        await self.session.flush()  # replace()'s ORM changes (record() writes with Core statements)
                        stored_at = await BlobRepository(self.session).attach(
                            media.id, media.owner_id, media.checksum_sha256, media.size, key
                        )
                    await quotas.check(media.owner_id)  # with the new rows, the owner's row locked
                    if before_commit is not None:
                        await before_commit(media)
                    dropped = self.session.info.pop(_DROPPED_KEYS, [])
                    await self.session.commit()
                    break
                except (IntegrityError, BlobGone):  # the blob was deleted meanwhile: attach again
                    await self.session.rollback()
                    if attempt == DEDUP_ATTEMPTS - 1:
                        raise
        except BaseException:
            self.session.info.pop(_DROPPED_KEYS, None)
            await self.session.rollback()
            if discard_on_failure:
                await storage.delete(key)
            raise
        if stored_at != key:  # the same bytes were already stored: keep those, drop ours
            dropped.append(key)
        await self._delete_bytes(dropped)
        return media, stored_at != key

    def _dimensions(self, key: str, content_type: str) -> tuple[int, int] | None:
        with self.storage.open_sync(key) as fp:
            return image_dimensions(fp, content_type)

    async def _reread(self, media: Media) -> None:
        """Flush ``media`` and read it again in the transaction, before its commit: the answer is then the state this
        request's change left (Core statements and ``onupdate`` values included), not one a change racing it commits
        right after (the item's row lock is released at the commit)."""
        await self.session.flush()
        await self.session.refresh(media)

    async def get(self, principal: Principal, media_id: str, *, lock: bool = False) -> Media:
        """The principal's media ``media_id``; with ``lock``, its row locked to the end of the transaction and read
        as committed now (:func:`~mediavault.domain.ownership.get_owned`), so that of two replacements of one item
        the second waits and reads the first's version instead of pushing the same version again (a unique
        violation: 500), and a metadata merge patch or a tag list applies to what the previous change left (not a
        lost update, nor the union of concurrent tag lists).

        Raises:
            NotFound: unknown, malformed, or someone else's id (existence is not revealed; also when a concurrent
                delete or trash won the lock).
        """
        return await get_owned(self.session, Media, principal, media_id, what="Media", lock=lock)

    async def read(self, principal: Principal, media_id: str) -> MediaRow:
        """The principal's media ``media_id`` as the API shows it (one statement, no ORM).

        Raises:
            NotFound: unknown, malformed, or someone else's id (existence is not revealed).
        """
        row = await self.media.row(principal.user_id, parse_id(media_id))
        if row is None:
            raise NotFound("Media not found")
        return row

    async def list_page(self, principal: Principal, query: MediaQuery) -> tuple[list[MediaRow], int]:
        """One page of the principal's media matching ``query``, and the total matching.

        ``query.q`` is a substring filter (``GET /media``); ``query.search`` a full-text query over filename,
        title, description and tags (``GET /search``, see :mod:`mediavault.db.search`).
        """
        return await self.media.rows_page(principal.user_id, query)

    async def update(self, principal: Principal, media_id: str, data: MediaUpdate) -> Media:
        """Change title, description, tags (and the search index with them) or custom metadata (a JSON merge patch,
        RFC 7396); emits ``media.updated``.

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: the patched metadata is over 16 KiB encoded.
        """
        media = await self.get(principal, media_id, lock=True)  # concurrent patches apply one after the other
        if data.title is not msgspec.UNSET:
            media.title = data.title
        if data.description is not msgspec.UNSET:
            media.description = data.description
        if data.tags is not msgspec.UNSET:
            media.tag_rows = [MediaTag(tag=t, position=i) for i, t in enumerate(parse_tags(data.tags))]
        if data.metadata is not msgspec.UNSET:
            media.custom_metadata = check_metadata(merge_patch(media.custom_metadata, data.metadata))
            await index_entries(self.session, media.id, media.custom_metadata, fresh=False)
        media.search_text = search_document(media.filename, media.title, media.description, media.tags)
        media.updated_at = utcnow()
        self.events.publish(self.session, "media.updated", self.event_data(media), user_id=media.owner_id)
        await self._reread(media)
        await self.session.commit()
        return media

    async def delete(self, principal: Principal, media_id: str) -> None:
        """Delete the principal's media ``media_id``: into the trash when ``trash_retention_days`` > 0 (emits
        ``media.trashed``; hidden everywhere until restored or purged), else at once (:meth:`purge`).

        A host row referencing the item (:func:`mediavault.db.media_fk`, ``ON DELETE RESTRICT``) refuses the delete:
        the transaction is rolled back and nothing changes, rows nor bytes.

        Raises:
            NotFound: as :meth:`get`.
            Conflict: a host row references the item.
        """
        media = await self.get(principal, media_id, lock=True)  # of concurrent deletes one wins, the others get 404
        trashed = self.config.trash_retention_days > 0
        self.audit.record(
            self.session,
            "media.deleted",
            actor_id=principal.user_id,
            target_type="media",
            target_id=media.id,
            details={"filename": media.filename, "size": media.size, "trashed": trashed},
        )  # committed with the move to the trash or the deletion, rolled back with them
        if trashed:
            await TrashRepository(self.session).put(media)
            self.events.publish(self.session, "media.trashed", self.event_data(media), user_id=media.owner_id)
            await self.session.commit()
            return
        await self.purge(media)

    async def purge(self, media: Media) -> None:
        """Delete the row (its memberships, processing state, variant rows, versions and trash row go with it), emit
        ``media.deleted``, then remove the bytes: the variants', the versions' and the item's own, except those of a
        blob other items or versions still use.

        The row goes first: a crash in between leaves unreferenced bytes, never a row pointing at
        missing bytes.
        """
        data = self.event_data(media)
        blobs = BlobRepository(self.session)
        blob = await blobs.blob_of(media.id)
        # Lock the row (PostgreSQL: a variant insert's foreign key check now waits, then fails) and take the
        # variants' keys from the very statement that deletes them (on SQLite the first write, which holds the one
        # write lock to the commit): a variant the worker records meanwhile is deleted with its bytes, not orphaned.
        await self.session.execute(select(Media.id).where(Media.id == media.id).with_for_update())
        keys = await self._delete_variants(media)
        keys += await VersionRepository(self.session).remove_all(media.id)
        await self.session.delete(media)
        await self._unless_referenced(self.session.flush)  # a RESTRICT reference refuses here
        if blob is None:
            keys.append(media.storage_key)
        elif released := await blobs.release(blob[0]):
            keys.append(released)
        self.events.publish(self.session, "media.deleted", data, user_id=media.owner_id)
        await self._unless_referenced(self.session.commit)  # a deferred one (DEFERRABLE INITIALLY DEFERRED) here
        await self._delete_bytes(keys)

    async def _delete_variants(self, media: Media) -> list[str]:
        """Delete ``media``'s variant rows; returns their keys (the caller deletes the bytes after committing)."""
        return list(
            await self.session.scalars(
                delete(MediaVariant)
                .where(MediaVariant.media_id == media.id)
                .returning(MediaVariant.storage_key)
                .execution_options(synchronize_session=False)
            )
        )

    async def _delete_bytes(self, keys: Iterable[str]) -> None:
        """Remove stored bytes whose rows are gone (committed): orphans are logged, not an error for the caller."""
        for key in keys:
            try:
                await self.storage.delete(key)
            except Exception:
                logger.exception("could not delete stored bytes %s", key)

    async def _unless_referenced(self, step: Callable[[], Awaitable[None]]) -> None:
        """Run ``step`` (the delete's flush or commit); a foreign key that refuses it is a host row's reference.

        Raises:
            Conflict: it was refused; the transaction is rolled back.
        """
        try:
            await step()
        except IntegrityError as exc:
            await self.session.rollback()
            raise Conflict(HOST_REFERENCE_MESSAGE) from exc

    async def processing(
        self, principal: Principal, media_id: str
    ) -> tuple[Media, MediaProcessing | None, list[MediaVariant]]:
        """The principal's media ``media_id`` with its processing state (``None`` for items uploaded before
        processing existed) and its variants.

        Raises:
            NotFound: as :meth:`get`.
        """
        media = await self.get(principal, media_id)
        repo = ProcessingRepository(self.session)
        return media, await repo.state(media.id), await repo.variants(media.id)

    async def reprocess(
        self, principal: Principal, media_id: str
    ) -> tuple[Media, MediaProcessing | None, list[MediaVariant]]:
        """Process the principal's media ``media_id`` again from scratch (say it ``failed`` while the storage was
        full): ``pending`` again, its results and errors cleared, a worker's lease on it dropped; the processing
        worker takes it within ``processing_poll_interval``. Variants already made stay until replaced. Returns the
        new state, as :meth:`processing`.

        Raises:
            NotFound: as :meth:`get`.
        """
        media = await self.get(principal, media_id)
        await ProcessingRepository(self.session).requeue([media.id])
        await self.session.commit()
        return await self.processing(principal, media_id)

    async def thumbnail(self, principal: Principal, media_id: str, size: str | None) -> StoredFile:
        """The ``thumb-<size>`` variant of the principal's media ``media_id`` to download (``size``: the query
        parameter's text, exactly one of ``config.thumbnail_sizes``; unset: the smallest).

        Raises:
            ValidationError: ``size`` is not one of ``config.thumbnail_sizes`` (``"null"`` and ``"0256"`` neither).
            NotFound: as :meth:`get`, or no such thumbnail: none is ever made for its type (a PDF, a format the
                vault does not decode), or not processed yet, or it failed.
        """
        sizes = self.config.thumbnail_sizes
        chosen = next((s for s in sizes if str(s) == size), None) if size is not None else next(iter(sizes), None)
        if size is not None and chosen is None:
            allowed = ", ".join(map(str, sizes)) or "none configured"
            raise ValidationError.for_field("size", f"must be one of {allowed}")
        media = await self.get(principal, media_id)
        variant = None
        if sizes:
            variant = await ProcessingRepository(self.session).variant(media.id, f"thumb-{chosen}")
        if variant is None:
            if not sizes or not self.processing_owed(media, "thumbnails"):
                raise NotFound("This media type has no thumbnails")
            raise NotFound("No thumbnail of this size (yet): see GET /media/{id}/metadata")
        return stored_file(media, variant.storage_key, variant)

    async def content(self, principal: Principal, media_id: str) -> StoredFile:
        """The bytes of the principal's media ``media_id``, to download: its own, or its blob's when it was
        deduplicated (one statement).

        Raises:
            NotFound: unknown, malformed, or someone else's id (existence is not revealed).
        """
        file = await self.media.stored_file(principal.user_id, parse_id(media_id))
        if file is None:
            raise NotFound("Media not found")
        return file

    @staticmethod
    def event_data(media: Media) -> dict[str, object]:
        """The ``data`` of a media event: id, type, owner, filename, content type, size, title, description, tags."""
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
