"""A :class:`~mediavault.storage.base.StorageBackend` on S3 or any S3-compatible object store (MinIO, Ceph RGW,
Cloudflare R2, ...), through `s3fs <https://s3fs.readthedocs.io>`_ (``pip install 'mediavault[s3]'``).

Chosen for ``storage_url=s3://bucket/prefix``. Every S3 call is one of s3fs's coroutines (aiobotocore), run on
s3fs's own I/O event loop and awaited from the caller's loop (:meth:`S3Storage._on_loop`): no worker thread is held
while bytes travel, and s3fs keeps its connection pool, retries (``SlowDown``, timeouts) and error translation
(``NoSuchKey`` → :class:`FileNotFoundError`, ``AccessDenied`` → :class:`PermissionError`, other errors →
:class:`OSError`).

* **Writes** (:class:`S3Writer`) are S3 multipart uploads (``CreateMultipartUpload``, ``UploadPart``,
  ``CompleteMultipartUpload``), cut into parts of ``part_size`` bytes (at least 5 MiB, S3's minimum for every part
  but the last). One part is uploaded while the next one fills, so an upload holds about three parts in memory
  (the buffer, the part in flight and botocore's copy of it), whatever the object's size. An object smaller than
  one part is sent with one ``PutObject`` on close. Either way it exists only after :meth:`S3Writer.close`;
  :meth:`S3Writer.abort` (or a failed close) sends ``AbortMultipartUpload``, so no parts are left behind.
* **Reads** are one ``GetObject`` with a ``Range`` header for exactly the requested bytes, streamed as they arrive.
  :meth:`S3Storage.open_sync` returns s3fs's seekable file, which fetches 1 MiB ranged blocks on demand.
* **Presigned downloads**: :meth:`S3Storage.download_url` signs a ``GetObject`` URL (Signature Version 4) that
  carries the response ``Content-Type``/``Content-Disposition`` (``response-content-*`` parameters).

Credentials, endpoint and region come from ``MediaVaultConfig.storage_options`` (passed to
:class:`s3fs.S3FileSystem`: ``key``, ``secret``, ``token``, ``endpoint_url``, ``client_kwargs.region_name``) or,
where those are not given, from botocore's usual sources: ``AWS_ACCESS_KEY_ID``, ``AWS_SECRET_ACCESS_KEY``,
``AWS_SESSION_TOKEN``, ``AWS_DEFAULT_REGION``, ``AWS_ENDPOINT_URL``, ``~/.aws``, instance roles.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import uuid
from collections.abc import AsyncIterable, AsyncIterator, Coroutine
from concurrent.futures import Future
from typing import IO, Any

import anyio

try:
    from s3fs import S3FileSystem
except ImportError as exc:  # pragma: no cover - depends on the installation
    raise ImportError("storage_url s3://... needs s3fs: pip install 'mediavault[s3]'") from exc

from mediavault.storage.base import (
    PartialObject,
    StorageBackend,
    StorageWriter,
    StoredObject,
    WrittenStream,
    write_stream,
)
from mediavault.storage.fsspec import validate_key, validate_read_range

__all__ = (
    "DEFAULT_PART_SIZE",
    "MAX_PARTS",
    "MIN_PART_SIZE",
    "S3Storage",
    "S3Writer",
    "part_size_for",
)

logger = logging.getLogger(__name__)

MIN_PART_SIZE = 5 * 1024 * 1024
"""S3's smallest allowed part of a multipart upload, except the last (5 MiB)."""
DEFAULT_PART_SIZE = 8 * 1024 * 1024
"""Part size used unless the largest object needs bigger parts (8 MiB)."""
MAX_PARTS = 10_000
"""S3's largest part number: an object has at most this many parts."""
READ_BLOCK_SIZE = 1024 * 1024
"""Bytes fetched per ranged ``GetObject`` by the files of :meth:`S3Storage.open_sync` (1 MiB)."""


def part_size_for(max_object_size: int) -> int:
    """The part size for objects of up to ``max_object_size`` bytes.

    :data:`DEFAULT_PART_SIZE`, or more (rounded up to whole MiB) when ``MAX_PARTS`` parts of it would not hold
    ``max_object_size`` (S3 allows 10,000 parts per upload): 8 MiB up to ~78 GiB.

    Raises:
        ValueError: ``max_object_size`` is not positive.
    """
    if max_object_size <= 0:
        raise ValueError("max_object_size must be positive")
    mib = 1024 * 1024
    return max(DEFAULT_PART_SIZE, math.ceil(max_object_size / MAX_PARTS / mib) * mib)


class S3Writer(StorageWriter):
    """Writer returned by :meth:`S3Storage.open_writer`: one S3 multipart upload.

    Bytes are buffered until a part is full; the full buffer is then uploaded as the part, in the background, while
    the next one fills (at most one part in flight). Memory held by the writer: at most ``2 * part_size`` (plus the
    caller's ``data``); botocore holds one more copy of the part it is sending.

    Finish with exactly one of :meth:`close` (commit) or :meth:`abort` (discard). :meth:`abort` is idempotent,
    safe after a failed or cancelled :meth:`write` or :meth:`close`, and a no-op after a successful :meth:`close`.

    The S3 calls that start something (``CreateMultipartUpload``, ``UploadPart``) run to their end even when the
    task that started them is cancelled (uploads cancel their pipeline task on a 413 or a dropped connection):
    :meth:`abort` then waits for them, so it always knows the upload to abort and no part lands after it.
    """

    def __init__(self, storage: S3Storage, key: str, object_key: str) -> None:
        self.key = key
        self._storage = storage
        self._object_key = object_key
        self._buffer = bytearray()
        self._create: Future[Any] | None = None  # CreateMultipartUpload, once the first part is full
        self._parts: list[dict[str, Any]] = []  # [{"PartNumber": n, "ETag": ...}] of finished parts
        self._pending: tuple[int, Future[Any]] | None = None  # the part being uploaded
        self._state = "open"  # open -> closed | aborted; "failed" after an error in write/close

    def _params(self) -> dict[str, Any]:
        return {"Bucket": self._storage.bucket, "Key": self._object_key}

    def _start(self, method: str, **params: Any) -> Future[Any]:
        """Start an S3 call on s3fs's loop that no cancellation of ours interrupts."""
        return self._storage._submit(self._storage.fs._call_s3(method, **self._params(), **params))

    @staticmethod
    async def _outcome(future: Future[Any]) -> Any:
        """Wait for a call from :meth:`_start`; cancelling the waiter does not cancel the call."""
        return await asyncio.shield(asyncio.wrap_future(future))

    async def write(self, data: bytes) -> None:
        """Append ``data`` (any length, may be empty); uploads a part each time ``part_size`` bytes are buffered.

        Raises:
            RuntimeError: the writer is already closed, aborted or failed.
            OSError: S3 refused a part (the writer is then ``failed``; call :meth:`abort`).
        """
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        part_size = self._storage.part_size
        try:
            with memoryview(data) as view:
                while view:
                    room = part_size - len(self._buffer)
                    self._buffer += view[:room]
                    view = view[room:]
                    if len(self._buffer) == part_size:
                        await self._send_buffer()
        except BaseException:
            self._state = "failed"
            raise

    async def _upload_id(self) -> str:
        if self._create is None:
            self._create = self._start("create_multipart_upload")
        return str((await self._outcome(self._create))["UploadId"])

    async def _send_buffer(self) -> None:
        """Wait for the part in flight, then start uploading the buffer as the next part (creating the upload on
        the first part). The buffer is copied into the part only once the previous part is done, so the writer
        holds at most two parts at any moment."""
        await self._finish_pending()
        upload_id = await self._upload_id()
        part = bytes(self._buffer)
        self._buffer = bytearray()
        number = len(self._parts) + 1
        self._pending = (number, self._start("upload_part", UploadId=upload_id, PartNumber=number, Body=part))

    async def _finish_pending(self) -> None:
        """Wait for the part in flight and record it (it stays pending if this wait is cancelled)."""
        if self._pending is None:
            return
        number, future = self._pending
        try:
            answer = await self._outcome(future)
        except asyncio.CancelledError:
            raise
        except BaseException:
            self._pending = None
            raise
        self._pending = None
        self._parts.append({"PartNumber": number, "ETag": answer["ETag"]})

    async def _commit(self) -> None:
        if self._create is None:  # smaller than one part: a single PUT
            tail, self._buffer = bytes(self._buffer), bytearray()
            await self._storage._call("put_object", **self._params(), Body=tail)
            return
        if self._buffer:
            await self._send_buffer()  # the last part may be smaller than 5 MiB
        await self._finish_pending()
        await self._storage._call(
            "complete_multipart_upload",
            **self._params(),
            UploadId=await self._upload_id(),
            MultipartUpload={"Parts": self._parts},
        )

    async def close(self) -> None:
        """Upload what is buffered and complete the upload: the object becomes visible under its key.

        A second call after success is a no-op. On failure the multipart upload is aborted before re-raising.

        Raises:
            RuntimeError: the writer was aborted or had failed.
            OSError: S3 refused the last part or the completion.
        """
        if self._state == "closed":
            return
        if self._state != "open":
            raise RuntimeError(f"writer for {self.key!r} is {self._state}")
        try:
            with anyio.CancelScope(shield=True):
                await self._commit()
        except BaseException:
            self._state = "failed"
            with anyio.CancelScope(shield=True):
                await self.abort()
            raise
        self._state = "closed"

    async def abort(self) -> None:
        """Discard everything written: waits for the calls in flight, then aborts the multipart upload.

        Never raises: an abort S3 refuses is logged (with the upload id) and left to the bucket's lifecycle rule
        for incomplete multipart uploads.
        """
        if self._state in ("closed", "aborted"):
            return
        self._state = "aborted"
        self._buffer.clear()
        with anyio.CancelScope(shield=True):
            # Let the part in flight land first: a part finishing after the abort could outlive it.
            with contextlib.suppress(Exception):
                await self._finish_pending()
            if self._create is None:
                return  # nothing was sent
            try:
                upload_id = await self._upload_id()
            except Exception:
                return  # the upload was never created
            try:
                await self._storage._call("abort_multipart_upload", **self._params(), UploadId=upload_id)
            except FileNotFoundError:
                pass  # already gone
            except Exception:
                logger.warning(
                    "could not abort multipart upload %s of s3://%s/%s",
                    upload_id,
                    self._storage.bucket,
                    self._object_key,
                    exc_info=True,
                )


class S3Storage(StorageBackend):
    """Media bytes in an S3 bucket, under an optional key prefix.

    Args:
        url: ``s3://bucket`` or ``s3://bucket/prefix`` (``s3a://`` works too).
        part_size: Multipart upload part size in bytes, at least :data:`MIN_PART_SIZE` (5 MiB); see
            :func:`part_size_for`.
        **storage_options: Passed to :class:`s3fs.S3FileSystem`: ``key``, ``secret``, ``token``,
            ``endpoint_url``, ``client_kwargs={"region_name": ...}``, ``config_kwargs`` ... Presigned URLs use
            Signature Version 4 unless ``config_kwargs.signature_version`` says otherwise.

    Attributes:
        fs: The s3fs filesystem.
        bucket: The bucket name.
        prefix: The key prefix without trailing ``/`` (``""`` for none).

    Raises:
        ValueError: ``url`` names no bucket, is not an S3 URL, or ``part_size`` is below 5 MiB.
    """

    def __init__(self, url: str, *, part_size: int = DEFAULT_PART_SIZE, **storage_options: Any) -> None:
        scheme, sep, rest = url.partition("://")
        if not sep or scheme not in ("s3", "s3a"):
            raise ValueError(f"not an s3:// URL: {url!r}")
        bucket, _, prefix = rest.partition("/")
        if not bucket:
            raise ValueError(f"storage_url must name a bucket (s3://bucket/prefix): {url!r}")
        if part_size < MIN_PART_SIZE:
            raise ValueError(f"part_size must be at least {MIN_PART_SIZE} bytes (S3's minimum part size)")
        options = dict(storage_options)
        options["config_kwargs"] = {"signature_version": "s3v4", **(options.get("config_kwargs") or {})}
        self.url = url
        self.fs = S3FileSystem(**options)
        self.bucket = bucket
        self.prefix = prefix.strip("/")
        self.part_size = part_size

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.url!r})"

    def object_key(self, key: str) -> str:
        """The S3 object key of storage key ``key`` (the prefix joined with the validated key).

        Raises:
            ValueError: ``key`` is not a valid key (see :func:`~mediavault.storage.fsspec.validate_key`).
        """
        validate_key(key)
        return f"{self.prefix}/{key}" if self.prefix else key

    def _submit(self, coroutine: Coroutine[Any, Any, Any]) -> Future[Any]:
        """Schedule ``coroutine`` on s3fs's event loop (its aiobotocore client lives there)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.fs.loop)

    async def _on_loop(self, coroutine: Coroutine[Any, Any, Any]) -> Any:
        """Run ``coroutine`` on s3fs's event loop and await its result here; cancelling the caller cancels it."""
        return await asyncio.wrap_future(self._submit(coroutine))

    async def _call(self, method: str, **params: Any) -> Any:
        """One S3 API call (``method`` in botocore's snake_case), with s3fs's retries and error translation."""
        return await self._on_loop(self.fs._call_s3(method, **params))

    async def open_writer(self, key: str) -> S3Writer:
        """Start writing a new object at ``key``; it becomes visible only after :meth:`S3Writer.close`.

        Nothing is sent to S3 until the first part is full (or the writer is closed).

        Raises:
            ValueError: invalid key.
        """
        return S3Writer(self, key, self.object_key(key))

    def read(
        self, key: str, start: int = 0, end: int | None = None, chunk_size: int = 256 * 1024
    ) -> AsyncIterator[bytes]:
        """Stream bytes ``[start, end)`` of the object at ``key`` with one ranged ``GetObject``.

        Chunks hold at most ``chunk_size`` bytes. ``end`` past the end of the object stops at the end; ``start``
        at or past the end yields nothing. The response is closed when iteration ends, fails or stops early.

        Args:
            key: Storage key.
            start: First byte offset, ``>= 0``.
            end: Exclusive end offset, ``>= start``; ``None`` reads to the end.
            chunk_size: Maximum bytes per yielded chunk, ``> 0``.

        Raises:
            ValueError: invalid key or offsets (raised immediately, before iteration).
            FileNotFoundError: no object at ``key`` (raised on first iteration).
            OSError: any other S3 error.
        """
        object_key = self.object_key(key)
        validate_read_range(start, end, chunk_size)
        return self._read(object_key, start, end, chunk_size)

    async def _read(self, object_key: str, start: int, end: int | None, chunk_size: int) -> AsyncIterator[bytes]:
        if end == start:
            return
        params: dict[str, Any] = {"Bucket": self.bucket, "Key": object_key}
        if start or end is not None:
            params["Range"] = f"bytes={start}-{'' if end is None else end - 1}"  # RFC 9110 §14.1.2: inclusive
        try:
            answer = await self._call("get_object", **params)
        except OSError as exc:
            if _error_code(exc) == "InvalidRange":  # the range starts at or past the end: no bytes
                return
            raise
        body = answer["Body"]
        try:
            while True:
                data = await self._on_loop(_read_up_to(body, chunk_size))
                if not data:
                    break
                yield data
        finally:
            self.fs.loop.call_soon_threadsafe(body.close)  # aiohttp objects belong to s3fs's loop

    def open_sync(self, key: str) -> IO[bytes]:
        """Open the object for blocking, seekable reads (1 MiB ranged reads on demand). Only call from a worker
        thread.

        Raises:
            ValueError: invalid key.
            FileNotFoundError: no object at ``key``.
        """
        file: IO[bytes] = self.fs.open(
            f"{self.bucket}/{self.object_key(key)}", "rb", block_size=READ_BLOCK_SIZE, cache_type="readahead"
        )
        return file

    async def delete(self, key: str) -> None:
        """Remove the object at ``key`` (``DeleteObject``); a missing object is not an error.

        Raises:
            ValueError: invalid key.
            OSError: S3 refused the deletion.
        """
        await self._call("delete_object", Bucket=self.bucket, Key=self.object_key(key))

    async def exists(self, key: str) -> bool:
        """Whether an object is stored at ``key`` (``HeadObject``).

        Raises:
            ValueError: invalid key.
            OSError: S3 errors other than "not found".
        """
        try:
            await self._call("head_object", Bucket=self.bucket, Key=self.object_key(key))
        except FileNotFoundError:
            return False
        return True

    async def scan(self) -> list[StoredObject]:
        """Every object under the prefix (``ListObjectsV2``, paged by s3fs). Writes leave no temporary objects: an
        unfinished multipart upload is invisible (a bucket lifecycle rule should abort those)."""
        root = f"{self.bucket}/{self.prefix}" if self.prefix else self.bucket
        found = await self._on_loop(self.fs._find(root, detail=True))
        self.fs.invalidate_cache(root)
        return [
            StoredObject(key=path[len(root) + 1 :], size=int(info.get("size") or 0), modified=_timestamp(info))
            for path, info in found.items()
            if info.get("type", "file") == "file"
        ]

    async def append_partial(self, partial: PartialObject, chunks: AsyncIterable[bytes]) -> PartialObject:
        """Append ``chunks`` as parts of one multipart upload to ``partial.key``.

        Parts are ``part_size`` bytes: part ``n`` holds bytes ``[(n-1)*part_size, n*part_size)`` of the object, so an
        append that is retried (or raced) writes the same numbers with the same bytes. What is left over (less than a
        part) is kept as a *tail* object under ``partial.pieces`` and read back by the next append. The state is
        ``{"upload_id", "key", "parts": [[number, etag, size]...], "tail": [key, size] | None}`` (``key``: the
        multipart upload's, ``partial.key`` when it was created). All or nothing as the base
        class says: parts sent by a failed append are overwritten by the next one or dropped on completion, its tail
        object is never recorded, and a multipart upload it created is aborted.

        Raises:
            OSError: S3 refused a call.
        """
        state = partial.state
        upload_id: str | None = state.get("upload_id")
        target: str = state.get("key") or partial.key
        parts = [list(p) for p in state.get("parts", ())]
        buffer = bytearray()
        if tail := state.get("tail"):
            async for chunk in self.read(tail[0], chunk_size=self.part_size):
                buffer += chunk
        params = {"Bucket": self.bucket, "Key": self.object_key(target)}
        appended = 0
        try:
            async for chunk in chunks:
                appended += len(chunk)
                buffer += chunk
                while len(buffer) >= self.part_size:
                    if upload_id is None:
                        upload_id = str((await self._call("create_multipart_upload", **params))["UploadId"])
                    body = bytes(buffer[: self.part_size])
                    del buffer[: self.part_size]
                    number = len(parts) + 1
                    answer = await self._call("upload_part", **params, UploadId=upload_id, PartNumber=number, Body=body)
                    parts.append([number, answer["ETag"], len(body)])
            if not appended:
                return partial
            new_tail = None
            if buffer:
                key = f"{partial.pieces}/tail-{uuid.uuid4().hex}"
                await self._call("put_object", Bucket=self.bucket, Key=self.object_key(key), Body=bytes(buffer))
                new_tail = [key, len(buffer)]
        except BaseException:
            if upload_id is not None and state.get("upload_id") is None:
                with anyio.CancelScope(shield=True):
                    await self._abort_multipart(target, upload_id)
            raise
        new_state = {"upload_id": upload_id, "key": target if upload_id else None, "parts": parts, "tail": new_tail}
        return PartialObject(partial.key, partial.pieces, new_state)

    async def complete_partial(self, partial: PartialObject) -> tuple[str, WrittenStream]:
        """Send the tail as the last part and complete the multipart upload at its key (or, under one part in all,
        copy the tail to ``partial.key``), then read the object back for its SHA-256 and head (S3 keeps no running
        hash).

        Raises:
            OSError: S3 refused a call.
        """
        state = partial.state
        tail = state.get("tail")
        target: str = state.get("key") or partial.key
        params = {"Bucket": self.bucket, "Key": self.object_key(target)}
        with anyio.CancelScope(shield=True):
            if state.get("upload_id") is None:
                source = {"Bucket": self.bucket, "Key": self.object_key(tail[0])} if tail else None
                if source is None:
                    await self._call("put_object", **params, Body=b"")
                else:
                    await self._call("copy_object", **params, CopySource=source)
            else:
                parts = [{"PartNumber": n, "ETag": etag} for n, etag, _ in state["parts"]]
                if tail:
                    body = b"".join([chunk async for chunk in self.read(tail[0], chunk_size=self.part_size)])
                    number = len(parts) + 1
                    answer = await self._call(
                        "upload_part", **params, UploadId=state["upload_id"], PartNumber=number, Body=body
                    )
                    parts.append({"PartNumber": number, "ETag": answer["ETag"]})
                await self._call(
                    "complete_multipart_upload",
                    **params,
                    UploadId=state["upload_id"],
                    MultipartUpload={"Parts": parts},
                )
        return target, await write_stream(_NullWriter(target), self.read(target, chunk_size=1024 * 1024))

    async def release_partial(self, before: PartialObject, after: PartialObject) -> None:
        """Delete ``before``'s tail object when ``after`` has another one."""
        old = before.state.get("tail")
        if old and old != after.state.get("tail"):
            await self.delete(old[0])

    async def abandon_partial(self, before: PartialObject, after: PartialObject) -> None:
        """Abort the multipart upload ``after`` began (not one ``before`` already had: its parts are rewritten alike by
        the next append) and delete ``after``'s new tail object."""
        upload_id = after.state.get("upload_id")
        if upload_id and upload_id != before.state.get("upload_id"):
            await self._abort_multipart(after.state.get("key") or after.key, upload_id)
        tail = after.state.get("tail")
        if tail and tail != before.state.get("tail"):
            await self.delete(tail[0])

    async def discard_partial(self, partial: PartialObject) -> None:
        """Abort the multipart upload (if not completed) and delete every object under ``partial.pieces``."""
        if upload_id := partial.state.get("upload_id"):
            await self._abort_multipart(partial.state.get("key") or partial.key, upload_id)
        prefix = f"{self.object_key(partial.pieces)}/"
        answer = await self._call("list_objects_v2", Bucket=self.bucket, Prefix=prefix)
        while True:
            for item in answer.get("Contents", ()):
                await self._call("delete_object", Bucket=self.bucket, Key=item["Key"])
            if not answer.get("IsTruncated"):
                break
            token = answer["NextContinuationToken"]
            answer = await self._call("list_objects_v2", Bucket=self.bucket, Prefix=prefix, ContinuationToken=token)

    async def _abort_multipart(self, key: str, upload_id: str) -> None:
        with contextlib.suppress(FileNotFoundError):  # completed or aborted already
            await self._call("abort_multipart_upload", Bucket=self.bucket, Key=self.object_key(key), UploadId=upload_id)

    async def check(self) -> None:
        """Health probe: the bucket exists and the credentials may use it (``HeadBucket``).

        Raises:
            FileNotFoundError: no such bucket.
            PermissionError: the credentials may not access it.
            OSError: S3 is unreachable or answered another error.
        """
        await self._call("head_bucket", Bucket=self.bucket)

    async def download_url(
        self, key: str, *, expires_in: int, content_type: str, content_disposition: str, cache_control: str
    ) -> str:
        """A presigned ``GetObject`` URL (Signature Version 4) for the object at ``key``.

        S3 answers it with the ``Content-Type``, ``Content-Disposition`` and ``Cache-Control`` given here (the
        ``response-content-type``, ``response-content-disposition`` and ``response-cache-control`` parameters), and
        honours ``Range`` on it. Signing is local: no request is made, and the object's existence is not checked.

        Args:
            key: Storage key.
            expires_in: Seconds the URL stays valid (SigV4 allows 1 to 604800).
            content_type: ``Content-Type`` of the answer.
            content_disposition: ``Content-Disposition`` of the answer.
            cache_control: ``Cache-Control`` of the answer.

        Raises:
            ValueError: invalid key.
        """
        path = f"{self.bucket}/{self.object_key(key)}"
        return str(
            await self._on_loop(
                self.fs._url(
                    path,
                    expires=expires_in,
                    ResponseContentType=content_type,
                    ResponseContentDisposition=content_disposition,
                    ResponseCacheControl=cache_control,
                )
            )
        )


class _NullWriter(StorageWriter):
    """Discards what it is given: lets :func:`write_stream` hash an object read back."""

    def __init__(self, key: str) -> None:
        self.key = key

    async def write(self, data: bytes) -> None:
        """Ignore ``data``."""

    async def close(self) -> None:
        """Nothing to commit."""

    async def abort(self) -> None:
        """Nothing to discard."""


def _timestamp(info: dict[str, Any]) -> float:
    """POSIX seconds of an s3fs listing entry's ``LastModified`` (0 when absent)."""
    modified = info.get("LastModified")
    return modified.timestamp() if modified is not None else 0.0


def _error_code(exc: BaseException) -> str | None:
    """The S3 error code (``"InvalidRange"`` ...) behind an error s3fs translated from a botocore ``ClientError``."""
    response = getattr(exc.__cause__, "response", None)
    return response.get("Error", {}).get("Code") if isinstance(response, dict) else None


async def _read_up_to(body: Any, size: int) -> bytes:
    """Read up to ``size`` bytes from an aiobotocore streaming body (fewer only at the end)."""
    data = await body.read(size)
    if not data or len(data) == size:
        return bytes(data)
    parts = [data]
    got = len(data)
    while got < size:
        more = await body.read(size - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)
