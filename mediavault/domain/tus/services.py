"""Resumable uploads (tus 1.0.0): create, append, status, terminate, and the expiry sweep.

An upload is a row (:class:`~mediavault.db.models.Upload`) and a :class:`~mediavault.storage.base.PartialObject` in
storage. Each append writes its bytes to storage first and then records the new offset and storage state with a
compare-and-set on the row, so the offset a client is told only ever counts bytes that are stored, and a crash at
any byte leaves at most pieces the row does not list (removed with the upload). The append that stores the last
byte completes the object and records it through
:meth:`MediaService.record <mediavault.domain.media.services.MediaService.record>`, the very path
``POST /media/upload`` takes, in a transaction that also marks the upload done.

Every object an upload may write is owned by its row until a media item owns it: each attempt to write the finished
object is counted on the row (and committed) before its first byte, at a key derived from the count
(:func:`completion_key`), so the expiry sweep and termination remove whatever a failed or crashed attempt left, and
only the object the media was made of (the row's ``storage_key`` once done) is left to the media.
"""

from __future__ import annotations

import asyncio
import base64
import datetime as dt
import hashlib
import logging
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Awaitable, Callable, Mapping
from dataclasses import dataclass, replace

import anyio
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.providers import Principal
from mediavault.config import MediaVaultConfig
from mediavault.db.availability import log_retry
from mediavault.db.models import Media, Upload, utcnow
from mediavault.db.uploads import UploadRepository
from mediavault.domain.media.services import MediaService, check_upload_fields
from mediavault.domain.ownership import parse_id
from mediavault.domain.quotas import Quotas
from mediavault.errors import (
    NUL_MESSAGE,
    ChecksumMismatch,
    ClientDisconnected,
    Conflict,
    NotFound,
    PayloadTooLarge,
    ValidationError,
)
from mediavault.storage.base import PartialObject, StorageBackend

__all__ = (
    "CHECKSUM_ALGORITHMS",
    "REPLACES_KEY",
    "Checksum",
    "TusService",
    "completion_key",
    "expire_uploads",
    "expire_uploads_periodically",
)

logger = logging.getLogger("mediavault")

CHECKSUM_ALGORITHMS = {"sha1": hashlib.sha1, "sha256": hashlib.sha256}
"""The ``Upload-Checksum`` algorithms served (tus checksum extension), by their tus names."""
METADATA_FIELDS = ("title", "description", "tags")
"""``Upload-Metadata`` keys that become the media's text fields (``filename`` is the name, ``media_id`` the item whose
bytes the upload replaces; others are ignored)."""
REPLACES_KEY = "media_id"
"""The ``Upload-Metadata`` key naming the caller's media item whose bytes the finished upload replaces."""


def completion_key(upload: Upload, number: int) -> str:
    """The storage key at which attempt ``number`` (1, 2, ...; see ``Upload.completions``) writes the finished object
    of ``upload`` (S3 completes a multipart upload at the key its first part fixed instead: the upload's
    ``storage_key`` as created)."""
    return f"media/{upload.owner_id}/{upload.id.hex}-{number}"


@dataclass(frozen=True)
class Checksum:
    """An ``Upload-Checksum``: the algorithm's tus name (a key of :data:`CHECKSUM_ALGORITHMS`) and the digest."""

    algorithm: str
    digest: bytes

    @classmethod
    def parse(cls, header: str) -> Checksum:
        """Read ``"<algorithm> <base64 digest>"``.

        Raises:
            ValidationError: malformed, or an algorithm not in :data:`CHECKSUM_ALGORITHMS` (tus: 400).
        """
        algorithm, _, encoded = header.strip().partition(" ")
        if algorithm not in CHECKSUM_ALGORITHMS:
            raise ValidationError.for_field(
                "Upload-Checksum", f"unsupported algorithm (use {', '.join(CHECKSUM_ALGORITHMS)})"
            )
        try:
            digest = base64.b64decode(encoded.strip(), validate=True)
        except ValueError as exc:
            raise ValidationError.for_field("Upload-Checksum", "the digest is not base64") from exc
        if len(digest) != CHECKSUM_ALGORITHMS[algorithm]().digest_size:
            raise ValidationError.for_field("Upload-Checksum", f"not a {algorithm} digest")
        return cls(algorithm, digest)


class _Chunks:
    """The body of an append as it arrives: counted, refused past ``room`` bytes, checked against ``checksum`` at
    the end (raising before the storage sees the end of the stream, so it keeps nothing of it).

    A body cut off before its end (:class:`~mediavault.errors.ClientDisconnected`: the client hung up or went
    silent) ends the stream as if it were complete, so the storage keeps what arrived (tus 1.0.0: "the Server SHOULD
    always attempt to store as much of the received data as possible"), and ``interrupted`` is set; with a
    ``checksum``, which such a body cannot match, the error propagates instead and nothing is kept.
    """

    def __init__(self, chunks: AsyncIterable[bytes], room: int, checksum: Checksum | None) -> None:
        self._chunks = chunks
        self._room = room
        self._checksum = checksum
        self._hash = CHECKSUM_ALGORITHMS[checksum.algorithm]() if checksum else None
        self.count = 0
        self.interrupted = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        chunks = aiter(self._chunks)
        while True:
            try:
                chunk = await anext(chunks)
            except StopAsyncIteration:
                break
            except ClientDisconnected:
                if self._checksum is not None:
                    raise
                self.interrupted = True
                return
            self.count += len(chunk)
            if self.count > self._room:
                raise ValidationError.for_field(
                    "Upload-Offset", f"the body goes past Upload-Length ({self._room} more bytes were expected)"
                )
            if self._hash is not None:
                await anyio.to_thread.run_sync(self._hash.update, chunk)
            yield chunk
        if self._checksum is not None and self._hash is not None and self._hash.digest() != self._checksum.digest:
            raise ChecksumMismatch()


class TusService:
    """The principal's resumable uploads, for one request's session.

    Args:
        session: the request's database session (the service commits it).
        config: ``max_upload_size`` and ``upload_expiry`` are read.
        storage: where the pieces and the finished object go.
        media: builds the media service on a session (the finished upload is recorded through it).
    """

    def __init__(
        self,
        session: AsyncSession,
        *,
        config: MediaVaultConfig,
        storage: StorageBackend,
        media: Callable[[AsyncSession], MediaService],
    ) -> None:
        self.session = session
        self.config = config
        self.storage = storage
        self.media = media
        self.uploads = UploadRepository(session)

    def _expiry(self) -> dt.datetime:
        return utcnow() + dt.timedelta(seconds=self.config.upload_expiry)

    async def check_room(self, principal: Principal, length: int) -> None:
        """Refuse an upload of ``length`` bytes the principal may not store: over ``max_upload_size``, or over the
        room their storage quota leaves (:mod:`mediavault.domain.quotas`). This is the one place a declared length
        is checked against limits (the finished upload is checked against the quota again when it is recorded).

        Raises:
            PayloadTooLarge: ``length`` is over ``max_upload_size``.
            QuotaExceeded: ``length`` is over the room the principal's quota leaves.
        """
        if length > self.config.max_upload_size:
            raise PayloadTooLarge(f"Upload-Length is over the limit of {self.config.max_upload_size} bytes")
        await Quotas(self.session, default_quota_bytes=self.config.default_quota_bytes).ensure_room(
            principal.user_id, length
        )

    async def create(self, principal: Principal, length: int, metadata: Mapping[str, str]) -> Upload:
        """Start an upload of ``length`` bytes; ``metadata`` is the decoded ``Upload-Metadata`` (``filename``,
        ``title``, ``description``, ``tags``; ``media_id``: the principal's item whose bytes the finished upload
        replaces, as ``PUT /media/{id}/content`` does; other keys are ignored).

        Raises:
            ValidationError: ``length`` is 0 (an empty file, as ``POST /media/upload``), a NUL in the filename,
                or the text fields break :func:`~mediavault.domain.media.services.check_upload_fields`.
            NotFound: ``media_id`` names no item of the principal's.
            PayloadTooLarge: see :meth:`check_room` (for a replacement the item's current bytes count as kept, as
                for ``PUT /media/{id}/content``: they become a version).
        """
        if length < 1:
            raise ValidationError.for_field("Upload-Length", "the file is empty")
        replaces = None
        if REPLACES_KEY in metadata:
            replaces = (await self.media(self.session).get(principal, metadata[REPLACES_KEY])).id
        await self.check_room(principal, length)
        filename = metadata.get("filename", "")
        if "\x00" in filename:
            raise ValidationError.for_field("filename", NUL_MESSAGE)
        fields = {name: metadata[name] for name in METADATA_FIELDS if name in metadata}
        check_upload_fields(fields)
        upload_id = uuid.uuid4()
        upload = Upload(
            id=upload_id,
            owner_id=principal.user_id,
            length=length,
            offset=0,
            filename=filename,
            fields=fields,
            storage_key=f"media/{principal.user_id}/{upload_id.hex}",
            pieces=f"uploads/{upload_id.hex}",
            storage_state={},
            expires_at=self._expiry(),
            replaces_id=replaces,
        )
        self.session.add(upload)
        await self.session.commit()
        return upload

    async def get(self, principal: Principal, upload_id: str) -> Upload:
        """The principal's upload ``upload_id``.

        Raises:
            NotFound: unknown, malformed, expired, or someone else's id.
        """
        upload = await self.uploads.live(principal.user_id, parse_id(upload_id))
        if upload is None:
            raise NotFound("Upload not found")
        return upload

    async def append(
        self,
        principal: Principal,
        upload_id: str,
        offset: int,
        chunks: AsyncIterable[bytes],
        checksum: Checksum | None = None,
    ) -> Upload:
        """Append ``chunks`` at ``offset`` (which must be the upload's); the append that stores the last byte makes
        the media (its id in the returned row's ``media_id``). Returns the upload as recorded.

        Nothing of a failed append is kept: the offset stays where it was, and what it stored is removed
        (:meth:`StorageBackend.abandon_partial <mediavault.storage.base.StorageBackend.abandon_partial>`). A body
        cut off before its end (the client hung up or went silent) is not a failure: the bytes that arrived are
        stored and counted, as a shorter append would be, unless a ``checksum`` was given (it cannot be verified
        then, so nothing is kept and :class:`~mediavault.errors.ClientDisconnected` propagates).

        Raises:
            NotFound: as :meth:`get`.
            Conflict: ``offset`` is not the upload's, or another request changed the upload meanwhile.
            ValidationError: the body goes past ``Upload-Length``.
            ChecksumMismatch: the body does not match ``checksum``.
            ClientDisconnected: the body was cut off and ``checksum`` was given.
            Exception: what storage or the media's recording raise.
        """
        upload = await self.get(principal, upload_id)
        if offset != upload.offset:
            raise Conflict(f"Upload-Offset {offset} is not the upload's offset ({upload.offset})")
        await self.session.commit()  # no transaction (nor pooled connection) held while the body arrives
        body = _Chunks(chunks, upload.length - upload.offset, checksum)
        before = PartialObject(upload.storage_key, upload.pieces, upload.storage_state)
        after = await self.storage.append_partial(before, body)
        if body.interrupted:
            logger.info("upload %s: a PATCH was cut off after %d bytes; they are kept", upload.id, body.count)
        if not body.count:
            return upload
        new_offset, upload_key = upload.offset + body.count, upload.id
        try:
            if new_offset == upload.length:
                return await self._complete(principal, upload, after)
            recorded = await self.uploads.advance(
                upload.id, upload.offset, new_offset, after.state, expires_at=self._expiry()
            )
            if not recorded:
                raise Conflict("Another request changed this upload; ask for its offset again")
        except BaseException:
            with anyio.CancelScope(shield=True):
                await self.session.rollback()
                await self._quietly(self.storage.abandon_partial(before, after), upload_key)
            raise
        await self.session.commit()
        await self._quietly(self.storage.release_partial(before, after), upload.id)
        return await self.get(principal, upload_id)

    async def _complete(self, principal: Principal, upload: Upload, partial: PartialObject) -> Upload:
        """Write the object from the pieces and record it as media (a new item, or the new bytes of the item the
        upload replaces: :meth:`MediaService.record_replacement
        <mediavault.domain.media.services.MediaService.record_replacement>`, as ``PUT /media/{id}/content``),
        marking the upload done in the same transaction.

        The attempt is counted on the row first (committed before any byte is written), so whatever it writes is
        the upload's to remove until the media is committed: on failure it is deleted here, after a crash by the
        expiry sweep (:func:`_discard`). Of two requests completing the same upload (a client retrying while its
        first try still runs) one wins: each writes its own object (its attempt's key; on S3 the multipart upload's,
        whose parts both complete alike), and only the one whose transaction marks the upload done keeps it.
        """
        # Plain values: a retried commit inside record() rolls back, which expires the row's attributes.
        upload_id, expected, length, replaces = upload.id, upload.offset, upload.length, upload.replaces_id
        filename, fields = upload.filename, dict(upload.fields)
        # What would refuse the media anyway is checked before the object is made (on S3 completing the multipart
        # upload spends it: a refused completion could not be retried); both are checked again when it is recorded.
        await self.check_room(principal, length)
        if replaces is not None:
            await self.media(self.session).get(principal, str(replaces))
        number = await self.uploads.claim_completion(upload_id, expected)
        if number is None:
            await self.session.rollback()
            raise Conflict("Another request changed this upload; ask for its offset again")
        await self.session.commit()
        attempt = replace(partial, key=completion_key(upload, number))
        key: str | None = None

        async def mark_done(media: Media) -> None:
            done = {"media_id": media.id, "storage_key": key}
            if not await self.uploads.advance(upload_id, expected, length, partial.state, **done):
                raise _LostRace()

        try:
            key, written = await self.storage.complete_partial(attempt)
            if written.size != length:
                raise RuntimeError(f"upload {upload_id}: {written.size} bytes stored, {length} expected")
            media = self.media(self.session)
            if replaces is None:
                await media.record(
                    principal.user_id, key, written, filename, fields, before_commit=mark_done, discard_on_failure=False
                )
            else:
                await media.record_replacement(
                    principal,
                    str(replaces),
                    key,
                    written,
                    filename,
                    fields,
                    before_commit=mark_done,
                    discard_on_failure=False,
                )
        except BaseException as exc:
            with anyio.CancelScope(shield=True):
                await self.session.rollback()
                if key == attempt.key:
                    await self.storage.delete(key)
                lost = isinstance(exc, _LostRace) or await self._done_elsewhere(upload_id)
            if lost:
                raise Conflict("Another request changed this upload; ask for its offset again") from exc
            raise
        await self._quietly(self.storage.discard_partial(partial), upload_id)
        return await self.get(principal, str(upload_id))

    async def _done_elsewhere(self, upload_id: uuid.UUID) -> bool:
        """Whether another request made the media of upload ``upload_id`` (e.g. while this one failed reading the
        pieces that request removed)."""
        try:
            done = await self.uploads.media_of(upload_id)
            await self.session.rollback()
        except Exception:
            return False
        return done is not None

    async def terminate(self, principal: Principal, upload_id: str) -> None:
        """Delete the upload and its bytes (tus termination); a finished upload's media stays.

        Raises:
            NotFound: as :meth:`get`.
        """
        upload = await self.get(principal, upload_id)
        removed = await self.uploads.remove(upload.id)  # as deleted: a completion may have committed since get()
        await self.session.commit()
        if removed is not None:  # else another request removed it (and its bytes)
            await _discard(self.storage, removed)

    @staticmethod
    async def _quietly(cleanup: Awaitable[None], upload_id: uuid.UUID) -> None:
        """Await a clean-up whose failure only leaves pieces the expiry sweep removes later."""
        try:
            await cleanup
        except Exception:
            logger.exception("cleaning up the pieces of upload %s failed (the expiry sweep retries)", upload_id)


class _LostRace(Exception):
    """Another request completed or advanced the upload first."""


async def _discard(storage: StorageBackend, upload: Upload) -> None:
    """Remove what an upload stored, its row being gone: the pieces, and every finished object an attempt may have
    written (:func:`completion_key`, and S3's multipart key as created) except the one a media item was made of
    (``storage_key`` once ``offset == length``, which is set only in the transaction that made the media; the
    media's own lifecycle removes it)."""
    await storage.discard_partial(PartialObject(upload.storage_key, upload.pieces, upload.storage_state))
    kept = upload.storage_key if upload.offset == upload.length else None
    written = [completion_key(upload, number) for number in range(1, upload.completions + 1)]
    for key in written if kept else [upload.storage_key, *written]:
        if key != kept:
            await storage.delete(key)


async def expire_uploads(
    storage: StorageBackend, session_factory: Callable[[], AsyncSession], *, batch: int = 100
) -> int:
    """Remove the uploads past their ``expires_at``: each row first, then its bytes (a crash in between leaves
    bytes no row names, which ``mediavault fsck --repair`` removes). Several processes may sweep at once: a row
    another one removed first is skipped. Returns how many were removed.
    """
    removed = 0
    while True:
        now = utcnow()
        async with session_factory() as session:
            expired = await UploadRepository(session).expired(now, batch)
        for upload in expired:
            async with session_factory() as session:
                gone = await UploadRepository(session).remove(upload.id, expired_at=now)
                if gone is None:
                    continue
                await session.commit()
            try:
                await _discard(storage, gone)  # the row as deleted, not as listed: it may have completed since
            except Exception:
                logger.exception("removing the bytes of expired upload %s failed", upload.id)
            removed += 1
        if len(expired) < batch:
            return removed


async def expire_uploads_periodically(
    storage: StorageBackend, session_factory: Callable[[], AsyncSession], *, interval: float
) -> None:
    """Run :func:`expire_uploads` now and then every ``interval`` seconds, until cancelled."""
    while True:
        try:
            if removed := await expire_uploads(storage, session_factory):
                logger.info("removed %d expired resumable uploads and their bytes", removed)
        except Exception as exc:
            log_retry(logger, exc, "the expiry sweep of resumable uploads failed; trying again in %g s", interval)
        await asyncio.sleep(interval)
