"""Streaming ``multipart/form-data`` uploads (RFC 7578) straight into storage.

:func:`receive_upload` pushes the request body, chunk by chunk, through python-multipart's
push parser and writes the ``file`` part's bytes to a :class:`~mediavault.storage.base.StorageWriter`
as they arrive. The body is never held in memory and never spooled to a temporary file
(unlike Litestar's ``UploadFile``): every file byte is written exactly once, to its final
storage object. Only the small text parts (title, description, tags, ...) are buffered,
each capped at ``max_field_size`` bytes.

Limits, all in bytes:

* a declared ``Content-Length`` over ``max_size + FRAMING_ALLOWANCE`` is refused with
  :class:`~mediavault.errors.PayloadTooLarge` before a single body byte is read;
* while streaming, the body as a whole may not exceed ``max_size + FRAMING_ALLOWANCE``
  (which also bounds chunked bodies without a ``Content-Length``), and the file part
  itself may not exceed ``max_size``; crossing either stops reading at once.

Whatever goes wrong once the storage writer is open (a limit, a malformed body, the client
disconnecting so that the body iterator raises, task cancellation) the writer is aborted,
so nothing is left behind in storage, and the error is re-raised.
"""

from __future__ import annotations

import asyncio
import hashlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
import anyio.to_thread
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError

from mediavault.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from mediavault.storage.base import StorageWriter

__all__ = (
    "FRAMING_ALLOWANCE",
    "HEAD_SIZE",
    "MultipartUpload",
    "UploadedFile",
    "receive_upload",
)

logger = logging.getLogger(__name__)

FRAMING_ALLOWANCE = 64 * 1024
"""Bytes allowed on top of ``max_size`` for a whole body: boundaries, part headers, text fields."""

HEAD_SIZE = 8192
"""How many leading file bytes :attr:`UploadedFile.head` keeps for content sniffing."""

_WRITE_BATCH = 1024 * 1024
# Batches queued between the parser (event loop) and the hash-and-write pipeline (worker threads).
_PIPELINE_DEPTH = 3
"""File data is handed to the writer in pieces of at least this many bytes (except the last)."""


@dataclass
class UploadedFile:
    """The file part of an upload, already stored.

    Attributes:
        filename: The client's original ``filename`` parameter exactly as sent (``filename*``
            wins when present and decodable). May be ``""`` or hold path components; it is
            NOT sanitised here (see :func:`mediavault.domain.media.sniff.safe_filename`).
        client_content_type: The part's ``Content-Type`` header as sent, or ``None``. Untrusted.
        size: Length of the file in bytes (``1 <= size <= max_size``).
        checksum_sha256: SHA-256 of the file bytes, lowercase hex.
        head: The first ``min(size, 8192)`` bytes of the file, for content sniffing.
        writer: The storage writer holding the bytes; already closed (committed).
    """

    filename: str
    client_content_type: str | None
    size: int
    checksum_sha256: str
    head: bytes
    writer: StorageWriter


@dataclass
class MultipartUpload:
    """A parsed upload: the text fields and the stored file.

    Attributes:
        fields: The non-file parts by name, UTF-8 decoded (each name at most once).
        file: The file part.
    """

    fields: dict[str, str]
    file: UploadedFile


# --------------------------------------------------------------------------- header parsing


def _parse_header_params(value: str) -> tuple[str, dict[str, str]]:
    """Split ``main; a=b; c="d; e"`` into ``("main", {"a": "b", "c": "d; e"})``.

    Parameter names are lowercased; the first occurrence of a name wins. Inside quoted
    strings only ``\\"`` and ``\\\\`` are unescaped, so a Windows path such as
    ``"C:\\x\\y.png"`` (sent as-is by browsers) survives unchanged.
    """
    semi = value.find(";")
    main = (value if semi < 0 else value[:semi]).strip()
    params: dict[str, str] = {}
    i = len(value) if semi < 0 else semi + 1
    n = len(value)
    while i < n:
        while i < n and value[i] in " \t;":
            i += 1
        start = i
        while i < n and value[i] not in "=;":
            i += 1
        name = value[start:i].strip().lower()
        if i >= n or value[i] == ";":
            continue  # a bare token without "=": ignore it
        i += 1  # skip "="
        while i < n and value[i] in " \t":
            i += 1
        if i < n and value[i] == '"':
            i += 1
            out: list[str] = []
            while i < n and value[i] != '"':
                if value[i] == "\\" and i + 1 < n and value[i + 1] in '"\\':
                    i += 1
                out.append(value[i])
                i += 1
            i += 1  # closing quote (or past the end when unterminated)
            param_value = "".join(out)
        else:
            start = i
            while i < n and value[i] != ";":
                i += 1
            param_value = value[start:i].strip()
        if name:
            params.setdefault(name, param_value)
    return main, params


def _decode_ext_value(value: str) -> str | None:
    """Decode an RFC 8187 ``ext-value`` (``UTF-8''na%C3%AFve.txt``); ``None`` if unusable."""
    charset, sep, rest = value.partition("'")
    _lang, sep2, encoded = rest.partition("'")
    if not (sep and sep2):
        return None
    charset = charset.strip().lower()
    if charset not in ("utf-8", "iso-8859-1", "us-ascii"):
        return None
    try:
        return unquote_to_bytes(encoded).decode(charset)
    except (UnicodeDecodeError, LookupError):
        return None


def _decode_header(raw: bytes | bytearray) -> str:
    """Header bytes to text: UTF-8 (what browsers send for non-ASCII file names), else Latin-1."""
    try:
        return raw.decode("utf-8")
    except UnicodeDecodeError:
        return raw.decode("latin-1")


def _boundary_from(content_type: str | None) -> bytes:
    if content_type is None:
        raise UnsupportedMediaType("Expected a multipart/form-data request body")
    main, params = _parse_header_params(content_type)
    if main.lower() != "multipart/form-data":
        raise UnsupportedMediaType("Expected a multipart/form-data request body")
    boundary = params.get("boundary", "")
    if not boundary:
        raise ValidationError("malformed multipart: missing boundary")
    try:
        return boundary.encode("latin-1")
    except UnicodeEncodeError:
        raise ValidationError("malformed multipart: invalid boundary") from None


def _declared_length(content_length: str | None) -> int | None:
    if content_length is None or not content_length.strip():
        return None
    text = content_length.strip()
    if not text.isascii() or not text.isdigit():
        raise ValidationError("invalid Content-Length")
    return int(text)


# --------------------------------------------------------------------------- the receiver

# Parser event kinds, collected by the sync callbacks and processed asynchronously.
_BEGIN, _HFIELD, _HVALUE, _HEND, _HDONE, _DATA, _PEND, _END = range(8)


class _Receiver:
    """Turns python-multipart events into fields and storage writes."""

    def __init__(
        self,
        *,
        max_size: int,
        open_writer: Callable[[], Awaitable[StorageWriter]],
        file_field: str,
        max_field_size: int,
        max_fields: int,
    ) -> None:
        self.max_size = max_size
        self.open_writer = open_writer
        self.file_field = file_field
        self.max_field_size = max_field_size
        self.max_fields = max_fields

        self.fields: dict[str, str] = {}
        self.parts = 0
        self.ended = False

        # The part being parsed.
        self.header_name = bytearray()
        self.header_value = bytearray()
        self.headers: dict[str, str] = {}
        self.kind: str | None = None  # "file" | "field" | None (between parts)
        self.field_name = ""
        self.field_buf = bytearray()

        # The file part.
        self.writer: StorageWriter | None = None
        self.file_seen = False
        self.filename = ""
        self.client_content_type: str | None = None
        self.size = 0
        self.sha256 = hashlib.sha256()
        self.head = bytearray()
        self.pending: list[bytes | memoryview] = []
        self.pending_len = 0
        # Hash-and-write pipeline: SHA-256 and the storage write run in worker threads (both release
        # the GIL) while the event loop keeps receiving and parsing the next batch.
        self.queue: asyncio.Queue[bytes | None] = asyncio.Queue(maxsize=_PIPELINE_DEPTH)
        self.pipeline: asyncio.Task[None] | None = None
        self.failure: BaseException | None = None

    async def process(self, events: list[tuple[Any, ...]]) -> None:
        for event in events:
            kind = event[0]
            if kind == _DATA:
                await self._data(event[1], event[2], event[3])
            elif kind == _HFIELD:
                self.header_name += event[1][event[2] : event[3]]
            elif kind == _HVALUE:
                self.header_value += event[1][event[2] : event[3]]
            elif kind == _HEND:
                name = _decode_header(self.header_name).strip().lower()
                self.headers.setdefault(name, _decode_header(self.header_value).strip())
                self.header_name.clear()
                self.header_value.clear()
            elif kind == _BEGIN:
                self.parts += 1
                if self.parts > self.max_fields:
                    raise ValidationError(f"malformed multipart: more than {self.max_fields} parts")
                self.headers = {}
            elif kind == _HDONE:
                await self._headers_done()
            elif kind == _PEND:
                await self._part_end()
            elif kind == _END:
                self.ended = True

    async def _headers_done(self) -> None:
        disposition = self.headers.get("content-disposition")
        if disposition is None:
            raise ValidationError("malformed multipart: part without Content-Disposition")
        disposition_type, params = _parse_header_params(disposition)
        if disposition_type.lower() != "form-data":
            raise ValidationError("malformed multipart: part is not form-data")
        name = params.get("name")
        if not name:
            raise ValidationError("malformed multipart: part without a name")
        is_file = "filename" in params or "filename*" in params
        if name == self.file_field:
            if self.file_seen:
                raise ValidationError.for_field(self.file_field, "must be sent only once")
            self.file_seen = True
            self.kind = "file"
            filename = params.get("filename", "")
            if "filename*" in params:
                decoded = _decode_ext_value(params["filename*"])
                if decoded is not None:
                    filename = decoded
            self.filename = filename
            self.client_content_type = self.headers.get("content-type") or None
            self.writer = await self.open_writer()
            self.pipeline = asyncio.get_running_loop().create_task(self._hash_and_write(self.writer))
        elif is_file:
            raise ValidationError.for_field(name, "unexpected file part")
        else:
            if name in self.fields:
                raise ValidationError.for_field(name, "must not be repeated")
            self.kind = "field"
            self.field_name = name
            self.field_buf = bytearray()

    async def _data(self, data: bytes, start: int, end: int) -> None:
        length = end - start
        if self.kind == "file":
            if self.size + length > self.max_size:
                raise PayloadTooLarge(f"File larger than the {self.max_size} byte limit")
            piece = data if start == 0 and end == len(data) else memoryview(data)[start:end]  # no copy
            self.size += length
            if len(self.head) < HEAD_SIZE:
                self.head += piece[: HEAD_SIZE - len(self.head)]
            if not self.pending and length >= _WRITE_BATCH:
                await self._write(bytes(piece))
            else:
                self.pending.append(piece)
                self.pending_len += length
                if self.pending_len >= _WRITE_BATCH:
                    await self._flush()
        elif self.kind == "field":
            if len(self.field_buf) + length > self.max_field_size:
                raise ValidationError.for_field(self.field_name, f"must be at most {self.max_field_size} bytes")
            self.field_buf += data[start:end]

    async def _write(self, data: bytes) -> None:
        if self.failure is not None:
            raise self.failure
        await self.queue.put(data)

    async def _hash_and_write(self, writer: StorageWriter) -> None:
        """Consume batches until the ``None`` sentinel; after a failure keep draining so the parser never blocks."""
        while (batch := await self.queue.get()) is not None:
            if self.failure is None:
                try:
                    await anyio.to_thread.run_sync(self.sha256.update, batch)
                    await writer.write(batch)
                except Exception as exc:
                    self.failure = exc

    async def finish_file(self) -> None:
        """Wait until every batch is hashed and written.

        Raises:
            Exception: whatever the storage write raised.
        """
        if self.pipeline is not None:
            await self.queue.put(None)
            await self.pipeline
        if self.failure is not None:
            raise self.failure

    async def cancel_pipeline(self) -> None:
        """Stop the pipeline (the upload failed); never raises."""
        if self.pipeline is not None and not self.pipeline.done():
            self.pipeline.cancel()
            with anyio.CancelScope(shield=True):
                await asyncio.gather(self.pipeline, return_exceptions=True)

    async def _flush(self) -> None:
        if self.pending:
            data = b"".join(self.pending)  # the one copy; a lone bytes piece is returned as is
            self.pending = []
            self.pending_len = 0
            await self._write(data)

    async def _part_end(self) -> None:
        if self.kind == "file":
            await self._flush()
        elif self.kind == "field":
            try:
                self.fields[self.field_name] = self.field_buf.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError.for_field(self.field_name, "must be valid UTF-8") from None
            self.field_buf = bytearray()
        self.kind = None
        self.field_name = ""


async def _abort_quietly(writer: StorageWriter) -> None:
    """Abort ``writer``, shielded from cancellation; log (never raise) a failing abort."""
    with anyio.CancelScope(shield=True):
        try:
            await writer.abort()
        except Exception:
            logger.exception("aborting storage writer %r failed", getattr(writer, "key", None))


async def _close_body(body: AsyncIterator[bytes]) -> None:
    aclose = getattr(body, "aclose", None)
    if aclose is None:
        return
    with anyio.CancelScope(shield=True):
        try:
            await aclose()
        except Exception:
            logger.debug("closing the request body iterator failed", exc_info=True)


async def receive_upload(
    *,
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    max_size: int,
    open_writer: Callable[[], Awaitable[StorageWriter]],
    file_field: str = "file",
    max_field_size: int = 64 * 1024,
    max_fields: int = 20,
) -> MultipartUpload:
    """Stream a ``multipart/form-data`` body (RFC 7578) into storage.

    The ``file_field`` part's bytes go straight to a writer from ``open_writer()``, which is
    called only once that part's headers have been parsed; every other part is a text field.
    The writer is closed (committed) only after the whole body was parsed and validated.

    Args:
        content_type: The request's ``Content-Type`` header (must be ``multipart/form-data``
            with a ``boundary`` parameter).
        content_length: The request's ``Content-Length`` header, or ``None`` (chunked).
        body: The request body as an async iterator of byte chunks of any size.
        max_size: Largest accepted file, in bytes. The whole body may be up to
            ``max_size + FRAMING_ALLOWANCE`` (64 KiB) bytes.
        open_writer: Opens the storage writer for the file's bytes.
        file_field: Name of the file part.
        max_field_size: Largest accepted text field, in bytes.
        max_fields: Most parts accepted (the file part included).

    Returns:
        The UTF-8 decoded text fields and the stored file (see :class:`UploadedFile`).

    Raises:
        UnsupportedMediaType: ``content_type`` is missing or not ``multipart/form-data``.
        PayloadTooLarge: the declared ``Content-Length`` exceeds ``max_size + FRAMING_ALLOWANCE``
            (raised before reading the body), the body grows past that while streaming, or the
            file part exceeds ``max_size``.
        ValidationError: missing/empty boundary; invalid ``Content-Length``; a malformed body
            (python-multipart parse error, no closing boundary, a part without a
            ``form-data`` Content-Disposition or name); more than ``max_fields`` parts; a text
            field over ``max_field_size``, repeated, or not UTF-8; a file part under another
            name; no ``file_field`` part (``file: is required``); the file part sent twice;
            an empty file (``file: must not be empty``).
        Exception: anything ``body`` or the writer raises (e.g. a client disconnect), and
            ``asyncio.CancelledError``, after aborting the writer.
    """
    boundary = _boundary_from(content_type)
    total_limit = max_size + FRAMING_ALLOWANCE
    declared = _declared_length(content_length)
    if declared is not None and declared > total_limit:
        raise PayloadTooLarge(f"Upload of {declared} bytes exceeds the {max_size} byte file limit")

    events: list[tuple[Any, ...]] = []
    append = events.append
    callbacks: Any = {
        "on_part_begin": lambda: append((_BEGIN,)),
        "on_header_field": lambda data, start, end: append((_HFIELD, data, start, end)),
        "on_header_value": lambda data, start, end: append((_HVALUE, data, start, end)),
        "on_header_end": lambda: append((_HEND,)),
        "on_headers_finished": lambda: append((_HDONE,)),
        # The slices reference the (immutable) chunk we wrote or the parser's boundary bytes,
        # so they stay valid until processed after ``parser.write`` returns.
        "on_part_data": lambda data, start, end: append((_DATA, data, start, end)),
        "on_part_end": lambda: append((_PEND,)),
        "on_end": lambda: append((_END,)),
    }
    try:
        parser = MultipartParser(boundary, callbacks)
    except (FormParserError, ValueError):
        raise ValidationError("malformed multipart: invalid boundary") from None

    receiver = _Receiver(
        max_size=max_size,
        open_writer=open_writer,
        file_field=file_field,
        max_field_size=max_field_size,
        max_fields=max_fields,
    )
    received = 0
    committed = False
    try:
        async for chunk in body:
            if not chunk:
                continue
            if type(chunk) is not bytes:
                chunk = bytes(chunk)
            received += len(chunk)
            if received > total_limit:
                raise PayloadTooLarge(f"Upload exceeds the {max_size} byte file limit")
            try:
                parser.write(chunk)
            except FormParserError:
                raise ValidationError("malformed multipart body") from None
            if events:
                await receiver.process(events)
                events.clear()
            if receiver.ended:
                break  # anything after the closing boundary is an epilogue: ignore it
        parser.finalize()
        if events:
            await receiver.process(events)
            events.clear()
        if not receiver.ended:
            raise ValidationError("malformed multipart: no closing boundary")
        if receiver.writer is None:
            raise ValidationError.for_field(file_field, "is required")
        if receiver.size == 0:
            raise ValidationError.for_field(file_field, "must not be empty")
        await receiver.finish_file()
        await receiver.writer.close()
        committed = True
    except BaseException:
        await receiver.cancel_pipeline()
        if receiver.writer is not None and not committed:
            await _abort_quietly(receiver.writer)
        raise
    finally:
        await _close_body(body)

    assert receiver.writer is not None
    return MultipartUpload(
        fields=receiver.fields,
        file=UploadedFile(
            filename=receiver.filename,
            client_content_type=receiver.client_content_type,
            size=receiver.size,
            checksum_sha256=receiver.sha256.hexdigest(),
            head=bytes(receiver.head),
            writer=receiver.writer,
        ),
    )
