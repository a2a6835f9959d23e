"""Streaming ``multipart/form-data`` uploads (RFC 7578): the file part as a byte stream, the text parts as fields.

:func:`open_upload` pushes the request body, chunk by chunk, through python-multipart's push parser until the
``file`` part's headers, and returns an :class:`UploadStream`: iterating it yields the file part's bytes as they
arrive (then reads the rest of the body); its :attr:`~UploadStream.fields` are the small text parts (title,
description, tags, ...), each capped at ``max_field_size`` bytes. The body is never held in memory and never
spooled to a temporary file (unlike Litestar's ``UploadFile``): whoever consumes the stream (the media service,
through :func:`~mediavault.storage.base.write_stream`) writes every file byte once, to its final storage object.

Limits, all in bytes:

* a declared ``Content-Length`` over ``max_size + FRAMING_ALLOWANCE`` is refused with
  :class:`~mediavault.errors.PayloadTooLarge` before a single body byte is read;
* while streaming, the body as a whole may not exceed ``max_size + FRAMING_ALLOWANCE``
  (which also bounds chunked bodies without a ``Content-Length``), and the file part
  itself may not exceed ``max_size``; crossing either stops reading at once.

Whatever goes wrong (a limit, a malformed body, the client disconnecting so that the body iterator raises) is
raised by :func:`open_upload` before the file part begins, or by the iteration afterwards, so a consumer that
aborts its writer on any error leaves nothing behind.
"""

from __future__ import annotations

import logging
from collections import deque
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import unquote_to_bytes

import anyio
from python_multipart import MultipartParser
from python_multipart.exceptions import FormParserError

from mediavault.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError

__all__ = ("FRAMING_ALLOWANCE", "UploadStream", "least_file_size", "open_upload")

logger = logging.getLogger(__name__)

FRAMING_ALLOWANCE = 64 * 1024
"""Bytes allowed on top of ``max_size`` for a whole body: boundaries, part headers, text fields."""

_BATCH = 1024 * 1024
"""File data is yielded in pieces of at least this many bytes (except the last)."""


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


def least_file_size(content_length: str | None) -> int | None:
    """The fewest bytes the file part of a body of declared ``content_length`` can hold: the length less
    :data:`FRAMING_ALLOWANCE` (the most the framing and text parts may take); ``None`` when no length is declared.

    Raises:
        ValidationError: ``content_length`` is not a number.
    """
    declared = _declared_length(content_length)
    return None if declared is None else max(0, declared - FRAMING_ALLOWANCE)


def _declared_length(content_length: str | None) -> int | None:
    if content_length is None or not content_length.strip():
        return None
    text = content_length.strip()
    if not text.isascii() or not text.isdigit():
        raise ValidationError("invalid Content-Length")
    return int(text)


# --------------------------------------------------------------------------- the receiver

# Parser event kinds, collected by the sync callbacks and processed in order.
_BEGIN, _HFIELD, _HVALUE, _HEND, _HDONE, _DATA, _PEND, _END = range(8)


class _Receiver:
    """Turns python-multipart events into fields and batches of file bytes."""

    def __init__(self, *, max_size: int, file_field: str, max_field_size: int, max_fields: int) -> None:
        self.max_size = max_size
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
        self.file_seen = False
        self.filename = ""
        self.client_content_type: str | None = None
        self.size = 0
        self.pending: list[bytes | memoryview] = []
        self.pending_len = 0
        self.ready: deque[bytes] = deque()  # batches of file bytes not yet handed out

    def process(self, events: list[tuple[Any, ...]]) -> None:
        for event in events:
            kind = event[0]
            if kind == _DATA:
                self._data(event[1], event[2], event[3])
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
                self._headers_done()
            elif kind == _PEND:
                self._part_end()
            elif kind == _END:
                self.ended = True

    def _headers_done(self) -> None:
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
        elif is_file:
            raise ValidationError.for_field(name, "unexpected file part")
        else:
            if name in self.fields:
                raise ValidationError.for_field(name, "must not be repeated")
            self.kind = "field"
            self.field_name = name
            self.field_buf = bytearray()

    def _data(self, data: bytes, start: int, end: int) -> None:
        length = end - start
        if self.kind == "file":
            if self.size + length > self.max_size:
                raise PayloadTooLarge(f"File larger than the {self.max_size} byte limit")
            piece = data if start == 0 and end == len(data) else memoryview(data)[start:end]  # no copy
            self.size += length
            if not self.pending and length >= _BATCH:
                self.ready.append(bytes(piece))
            else:
                self.pending.append(piece)
                self.pending_len += length
                if self.pending_len >= _BATCH:
                    self._flush()
        elif self.kind == "field":
            if len(self.field_buf) + length > self.max_field_size:
                raise ValidationError.for_field(self.field_name, f"must be at most {self.max_field_size} bytes")
            self.field_buf += data[start:end]

    def _flush(self) -> None:
        if self.pending:
            self.ready.append(b"".join(self.pending))  # the one copy; a lone bytes piece is returned as is
            self.pending = []
            self.pending_len = 0

    def _part_end(self) -> None:
        if self.kind == "file":
            self._flush()
        elif self.kind == "field":
            try:
                self.fields[self.field_name] = self.field_buf.decode("utf-8")
            except UnicodeDecodeError:
                raise ValidationError.for_field(self.field_name, "must be valid UTF-8") from None
            self.field_buf = bytearray()
        self.kind = None
        self.field_name = ""


async def _close_body(body: AsyncIterator[bytes]) -> None:
    aclose = getattr(body, "aclose", None)
    if aclose is None:
        return
    with anyio.CancelScope(shield=True):
        try:
            await aclose()
        except Exception:
            logger.debug("closing the request body iterator failed", exc_info=True)


class UploadStream:
    """The file part of a ``multipart/form-data`` body, read as the body arrives (made by :func:`open_upload`).

    Iterate it once: it yields the file's bytes (in pieces of at least 1 MiB, except the last), then reads the rest
    of the body, and ends when the body was parsed and validated to its closing boundary. The request body is closed
    when the iteration ends, fails, or the iterator is closed (:meth:`aclose`).

    Attributes:
        filename: The client's original ``filename`` parameter exactly as sent (``filename*`` wins when present and
            decodable). May be ``""`` or hold path components; it is NOT sanitised here (see
            :func:`mediavault.domain.media.sniff.safe_filename`).
        client_content_type: The part's ``Content-Type`` header as sent, or ``None``. Untrusted.
        fields: The text parts by name, UTF-8 decoded (each name at most once); complete once the iteration ended.
        arrived: Whether the closing boundary was read already (the whole body is parsed, the file's bytes wait in
            memory): true of a small body that came in one piece.

    Raises (while iterating):
        PayloadTooLarge: the body grows past ``max_size + FRAMING_ALLOWANCE`` or the file past ``max_size``.
        ValidationError: a malformed body after the file part began (see :func:`open_upload`), no closing
            boundary, or an empty file (``file: must not be empty``).
        Exception: anything the body raises (e.g. a client disconnect).
    """

    def __init__(
        self, parser: MultipartParser, events: list[tuple[Any, ...]], receiver: _Receiver, chunks: _Chunks
    ) -> None:
        self._parser = parser
        self._events = events
        self._receiver = receiver
        self._chunks = chunks
        self.filename = receiver.filename
        self.client_content_type = receiver.client_content_type
        self.fields = receiver.fields
        self._iterator: AsyncIterator[bytes] | None = None

    @property
    def arrived(self) -> bool:
        return self._receiver.ended

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterator is None:
            self._iterator = self._file_bytes()
        return self._iterator

    async def _file_bytes(self) -> AsyncIterator[bytes]:
        receiver, ready = self._receiver, self._receiver.ready
        try:
            while True:
                while ready:
                    yield ready.popleft()
                if receiver.ended or not await self._chunks.parse_next(self._parser, self._events, receiver):
                    break
            while ready:  # the last batch (the file part ended while the body ended)
                yield ready.popleft()
            if not receiver.ended:
                raise ValidationError("malformed multipart: no closing boundary")
            if receiver.size == 0:
                raise ValidationError.for_field(receiver.file_field, "must not be empty")
        finally:
            await self._chunks.close()

    async def aclose(self) -> None:
        """Stop reading: the request body is closed (a no-op after the iteration ended)."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]
        else:
            await self._chunks.close()


class _Chunks:
    """The request body, counted against the whole-body limit, fed to the parser one chunk at a time."""

    def __init__(self, body: AsyncIterator[bytes], limit: int, max_size: int) -> None:
        self.body = body
        self.limit = limit
        self.max_size = max_size
        self.received = 0
        self.finished = False

    async def parse_next(self, parser: MultipartParser, events: list[tuple[Any, ...]], receiver: _Receiver) -> bool:
        """Parse the next chunk (or, at the end of the body, finalise the parser); ``False`` once there is none."""
        if self.finished:
            return False
        chunk = b""
        while not chunk:
            chunk = await anext(self.body, None)  # type: ignore[arg-type]
            if chunk is None:
                self.finished = True
                parser.finalize()
                break
        if chunk:
            if type(chunk) is not bytes:
                chunk = bytes(chunk)
            self.received += len(chunk)
            if self.received > self.limit:
                raise PayloadTooLarge(f"Upload exceeds the {self.max_size} byte file limit")
            try:
                parser.write(chunk)
            except FormParserError:
                raise ValidationError("malformed multipart body") from None
        if events:
            try:
                receiver.process(events)
            finally:
                events.clear()
        return True

    async def close(self) -> None:
        await _close_body(self.body)


async def open_upload(
    *,
    content_type: str | None,
    content_length: str | None,
    body: AsyncIterator[bytes],
    max_size: int,
    file_field: str = "file",
    max_field_size: int = 64 * 1024,
    max_fields: int = 20,
) -> UploadStream:
    """Start reading a ``multipart/form-data`` body (RFC 7578): up to the ``file_field`` part's headers.

    Every part other than ``file_field`` is a text field. Nothing of the file is read yet: iterate the returned
    stream for its bytes (see :class:`UploadStream`).

    Args:
        content_type: The request's ``Content-Type`` header (must be ``multipart/form-data``
            with a ``boundary`` parameter).
        content_length: The request's ``Content-Length`` header, or ``None`` (chunked).
        body: The request body as an async iterator of byte chunks of any size.
        max_size: Largest accepted file, in bytes. The whole body may be up to
            ``max_size + FRAMING_ALLOWANCE`` (64 KiB) bytes.
        file_field: Name of the file part.
        max_field_size: Largest accepted text field, in bytes.
        max_fields: Most parts accepted (the file part included).

    Returns:
        The file part as a stream, with the text fields.

    Raises:
        UnsupportedMediaType: ``content_type`` is missing or not ``multipart/form-data``.
        PayloadTooLarge: the declared ``Content-Length`` exceeds ``max_size + FRAMING_ALLOWANCE``
            (raised before reading the body), or the body grows past that before the file part.
        ValidationError: missing/empty boundary; invalid ``Content-Length``; a malformed body
            (python-multipart parse error, no closing boundary, a part without a
            ``form-data`` Content-Disposition or name); more than ``max_fields`` parts; a text
            field over ``max_field_size``, repeated, or not UTF-8; a file part under another
            name; no ``file_field`` part (``file: is required``); the file part sent twice.
        Exception: anything ``body`` raises (e.g. a client disconnect). The body is closed on every error.

    What the chunk that began the file part shows is checked here too (a file already over ``max_size``, a second
    file part); everything read later is checked by the iteration (:class:`UploadStream`).
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

    receiver = _Receiver(max_size=max_size, file_field=file_field, max_field_size=max_field_size, max_fields=max_fields)
    chunks = _Chunks(body, total_limit, max_size)
    try:
        while not receiver.file_seen:
            if receiver.ended or not await chunks.parse_next(parser, events, receiver):
                if not receiver.ended:
                    raise ValidationError("malformed multipart: no closing boundary")
                raise ValidationError.for_field(file_field, "is required")
    except BaseException:
        await chunks.close()
        raise
    return UploadStream(parser, events, receiver, chunks)
