"""Serving stored media bytes safely: conditional requests, single byte ranges, download headers.

:func:`content_response` builds the response for ``GET``/``HEAD`` of stored bytes: every route that serves bytes
(``/media/{id}/content``, ``/media/{id}/thumbnail`` and the share links) answers with it, for the
:class:`~mediavault.storage.base.StoredFile` its service returned. The bytes are streamed from the
:class:`~mediavault.storage.base.StorageBackend`, never loaded whole into memory (up to 64 KiB are read at once).

Security headers on every content response:

* ``X-Content-Type-Options: nosniff``: the browser uses our (sniffed and stored) ``Content-Type`` only.
* ``Content-Security-Policy: default-src 'none'; sandbox``: even if a document is rendered, it runs no script,
  loads nothing and gets an opaque origin.
* ``Content-Disposition``: ``inline`` only for passive types (:func:`is_passive_type`), ``attachment`` for
  everything else (HTML, SVG, XML, JavaScript, unknown ...).
"""

from __future__ import annotations

import unicodedata
from collections.abc import AsyncIterator, Mapping
from urllib.parse import quote

from litestar import Response
from litestar.response import Stream

from mediavault.http.ranges import etag_for, http_date, if_range_allows, is_not_modified, parse_range
from mediavault.storage.base import StorageBackend, StoredFile

__all__ = (
    "CONTENT_SECURITY_POLICY",
    "content_disposition",
    "content_response",
    "is_passive_type",
    "sanitize_filename",
)

CONTENT_SECURITY_POLICY = "default-src 'none'; sandbox"
"""``Content-Security-Policy`` sent with every content response."""

SMALL_BODY_SIZE = 64 * 1024
"""A body up to this size is read at once (:meth:`~mediavault.storage.base.StorageBackend.read_bytes`) and sent in one
message; a larger one is streamed in chunks, never held whole in memory."""

CACHE_CONTROL = "private, no-cache"
"""Per-user content: shared caches must not store it, private caches must revalidate (ETag) before reuse."""

_REDIRECT_HEADERS = {
    "Cache-Control": "no-store",
    "X-Content-Type-Options": "nosniff",
    "Content-Security-Policy": CONTENT_SECURITY_POLICY,
    "Referrer-Policy": "no-referrer",
}
_PASSIVE_EXACT = frozenset({"application/pdf", "text/plain"})
_PASSIVE_PREFIXES = ("image/", "video/", "audio/")
_FALLBACK_NAME = "download"
_MAX_FILENAME_CHARS = 255
# RFC 8187 §3.2.1 attr-char, minus ALPHA / DIGIT which quote() never escapes.
_ATTR_CHAR_SAFE = "!#$&+-.^_`|~"


def _base_type(content_type: str) -> str:
    return content_type.split(";", 1)[0].strip().lower()


def is_passive_type(content_type: str) -> bool:
    """Whether a media type is safe to render ``inline`` (it cannot run script in the browser).

    Passive: ``image/*`` (except SVG or any XML-based image), ``video/*``, ``audio/*``, ``application/pdf`` and
    ``text/plain``. Everything else, notably ``text/html``, ``image/svg+xml``, ``*/xml``, ``*+xml``,
    ``application/xhtml+xml``, JavaScript and unknown types, is active and served as ``attachment``.

    Args:
        content_type: A ``Content-Type`` value; parameters (``; charset=...``) are ignored, case-insensitive.
    """
    base = _base_type(content_type)
    if base in _PASSIVE_EXACT:
        return True
    if not base.startswith(_PASSIVE_PREFIXES):
        return False
    subtype = base.split("/", 1)[1]
    return bool(subtype) and "xml" not in subtype and "svg" not in subtype


def sanitize_filename(filename: str) -> str:
    """Make a user-supplied filename safe for a ``Content-Disposition`` header.

    Removes control characters (C0, DEL, C1; so CR/LF cannot split headers), replaces ``"``, ``\\`` and ``/``
    with ``_``, trims whitespace and leading dots, and caps the length at 255 characters (keeping a short
    extension). An empty result becomes ``"download"``.

    Args:
        filename: The stored original filename (any Unicode).

    Returns:
        The sanitised Unicode filename.
    """
    name = unicodedata.normalize("NFC", filename)
    name = "".join(c for c in name if unicodedata.category(c) != "Cc")
    name = name.replace('"', "_").replace("\\", "_").replace("/", "_")
    name = name.strip().lstrip(".").strip()
    if len(name) > _MAX_FILENAME_CHARS:
        stem, dot, ext = name.rpartition(".")
        if dot and stem and len(ext) <= 16:
            name = stem[: _MAX_FILENAME_CHARS - len(ext) - 1] + "." + ext
        else:
            name = name[:_MAX_FILENAME_CHARS]
    return name or _FALLBACK_NAME


def _ascii_fallback(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name)
    out = []
    for c in decomposed:
        if unicodedata.combining(c):
            continue
        # Printable ASCII except '"', '\' and '%' (RFC 6266 appendix D: some agents percent-decode filename=).
        out.append(c if 0x20 <= ord(c) < 0x7F and c not in '"\\%' else "_")
    return "".join(out).strip() or _FALLBACK_NAME


def content_disposition(filename: str, *, inline: bool) -> str:
    """Build a ``Content-Disposition`` value carrying the filename in both forms (RFC 6266 §4.3, RFC 8187).

    ``filename="<ascii>"`` is an ASCII-only fallback for old agents (non-ASCII characters transliterated or
    replaced by ``_``); ``filename*=UTF-8''<percent-encoded>`` carries the exact sanitised name and takes
    precedence in agents that support it.

    Args:
        filename: The original filename (sanitised here with :func:`sanitize_filename`).
        inline: ``inline`` disposition when ``True``, ``attachment`` otherwise.

    Returns:
        e.g. ``inline; filename="cafe.jpg"; filename*=UTF-8''caf%C3%A9.jpg``.
    """
    name = sanitize_filename(filename)
    fallback = _ascii_fallback(name)
    encoded = quote(name, safe=_ATTR_CHAR_SAFE, encoding="utf-8")
    kind = "inline" if inline else "attachment"
    return f"{kind}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _header(headers: Mapping[str, str], name: str) -> str | None:
    """Field value of ``name`` (lower-case), repeated lines joined with ``", "`` (RFC 9110 §5.3)."""
    getall = getattr(headers, "getall", None)
    values = list(getall(name, [])) if callable(getall) else [v for k, v in headers.items() if k.lower() == name]
    return ", ".join(values) if values else None


def _safe_content_type(content_type: str) -> str:
    if not content_type or any(ord(c) < 0x20 or ord(c) >= 0x7F for c in content_type):
        return "application/octet-stream"
    return content_type


async def content_response(
    *,
    method: str,
    headers: Mapping[str, str],
    storage: StorageBackend,
    file: StoredFile,
    redirect_ttl: int | None = None,
) -> Response:
    """Build the response serving a stored object's bytes, honouring conditional and range requests.

    Outcomes (evaluation order of RFC 9110 §13.2.2):

    * ``304 Not Modified`` when ``If-None-Match`` matches (weak comparison, §13.1.2) or, with no
      ``If-None-Match``, when ``If-Modified-Since`` is not before the modification time (§13.1.3). No body; sends
      ``ETag``, ``Last-Modified`` and ``Cache-Control`` (§15.4.5).
    * ``206 Partial Content`` for a ``GET`` with one satisfiable byte range (§14.2, §15.3.7) whose ``If-Range``
      (if any) matches (§13.1.5): ``Content-Range: bytes <first>-<last>/<size>`` and that many bytes.
    * ``200 OK`` otherwise: the whole representation. Multiple ranges, unknown units, malformed ranges and
      non-matching ``If-Range`` all fall back to this.
    * ``HEAD``: the ``200`` headers (including ``Content-Length``) and no body; ``Range`` is ignored for
      ``HEAD`` (§14.2: range handling is defined for ``GET`` only).
    * ``307 Temporary Redirect`` (§15.4.8) to ``storage.download_url(...)``, only when ``redirect_ttl`` is set,
      the request is a ``GET`` not answered ``304``, the type is passive (:func:`is_passive_type`: storage cannot
      send ``nosniff`` and the CSP sandbox that active types need) and the backend can sign URLs. The URL carries
      the ``Content-Type``, ``Content-Disposition`` and ``Cache-Control`` above; the redirect itself is
      ``Cache-Control: no-store`` (the URL is a bearer credential that expires).

    Every ``200``/``206`` carries ``Content-Type`` (as stored, without an added charset), ``Content-Length``,
    ``ETag``, ``Last-Modified``, ``Accept-Ranges: bytes``, ``Cache-Control: private, no-cache``,
    ``X-Content-Type-Options: nosniff``, ``Content-Security-Policy: default-src 'none'; sandbox`` and
    ``Content-Disposition`` (``inline`` only for :func:`is_passive_type` types).

    Args:
        method: Request method, ``"GET"`` or ``"HEAD"``.
        headers: Request headers; lookups must be case-insensitive (e.g. Litestar's ``request.headers``).
        storage: Where the bytes live.
        file: The object: its key, size, SHA-256 (the strong ``ETag``), media type, filename (for
            ``Content-Disposition``) and modification time (sent with one-second resolution).
        redirect_ttl: Seconds a presigned redirect URL stays valid; ``None`` (the default) never redirects. Pass it
            only after the caller was authorised to read the object.

    Returns:
        A Litestar response; return it from the route handler. A body of at most :data:`SMALL_BODY_SIZE` bytes is
        read at once (``storage.read_bytes``); a larger one is a stream from ``storage.read`` in chunks. The
        first chunk is read before the response starts, so a missing object is an exception (a 500 envelope),
        not a connection cut after a 200; a storage error later in the stream aborts the connection.

    Raises:
        RangeNotSatisfiable: a ``GET`` with a valid single range that selects no byte; ``error.headers`` holds
            ``Content-Range: bytes */<size>`` for the ``416`` response (§15.5.17).
        ValueError: invalid ``file.key`` or ``file.checksum_sha256``.
    """
    key, size, content_type, last_modified = file.key, file.size, file.content_type, file.last_modified
    method = method.upper()
    etag = etag_for(file.checksum_sha256)
    validators = {
        "ETag": etag,
        "Last-Modified": http_date(last_modified),
        "Cache-Control": CACHE_CONTROL,
    }

    if is_not_modified(
        method, _header(headers, "if-none-match"), _header(headers, "if-modified-since"), etag, last_modified
    ):
        return Response(content=b"", status_code=304, headers=validators)

    byte_range: tuple[int, int] | None = None
    range_header = _header(headers, "range")
    if (
        method == "GET"
        and range_header is not None
        and if_range_allows(_header(headers, "if-range"), etag, last_modified)
    ):
        byte_range = parse_range(range_header, size)

    passive = is_passive_type(content_type)
    disposition = content_disposition(file.filename, inline=passive)
    if redirect_ttl is not None and method == "GET" and passive:
        url = await storage.download_url(
            key,
            expires_in=redirect_ttl,
            content_type=_safe_content_type(content_type),
            content_disposition=disposition,
            cache_control=CACHE_CONTROL,
        )
        if url is not None:
            return Response(content=b"", status_code=307, headers={**_REDIRECT_HEADERS, "Location": url})

    response_headers = {
        "Content-Type": _safe_content_type(content_type),
        **validators,
        "Accept-Ranges": "bytes",
        "X-Content-Type-Options": "nosniff",
        "Content-Security-Policy": CONTENT_SECURITY_POLICY,
        "Content-Disposition": disposition,
    }
    if byte_range is None:
        status, start, end = 200, 0, size
    else:
        status, (start, end) = 206, byte_range
        response_headers["Content-Range"] = f"bytes {start}-{end - 1}/{size}"
    response_headers["Content-Length"] = str(end - start)

    if method == "HEAD":
        return Response(content=b"", status_code=status, headers=response_headers)
    if end - start <= SMALL_BODY_SIZE:
        body = await storage.read_bytes(key, start, end)
        if len(body) != end - start:
            raise OSError(f"stored object {key!r} has fewer bytes than recorded")  # a 500, never a short 200
        return Response(content=body, status_code=status, headers=response_headers)
    return Stream(await _primed(storage.read(key, start, end)), status_code=status, headers=response_headers)


async def _primed(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """Read the first chunk of ``chunks`` now (surfacing a missing object before any header is sent)."""
    try:
        first = await anext(chunks)
    except StopAsyncIteration:
        first = b""

    async def stream() -> AsyncIterator[bytes]:
        try:
            if first:
                yield first
            async for chunk in chunks:
                yield chunk
        finally:
            await chunks.aclose()  # type: ignore[attr-defined]

    return stream()
