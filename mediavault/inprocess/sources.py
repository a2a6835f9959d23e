"""What the in-process API uploads from: bytes, a file object, a path or an async iterator of bytes.

Each becomes an :class:`~mediavault.domain.media.services.IncomingFile`, the stream the media service reads once,
as it reads the file part of an HTTP upload; the service applies the same rules to it (size limit, sniffing,
sanitised names, fields).
"""

from __future__ import annotations

import inspect
import os
from collections.abc import AsyncIterable, AsyncIterator, Mapping
from pathlib import Path
from typing import Any, Protocol, TypeAlias

import anyio
import anyio.to_thread

__all__ = ("CHUNK_SIZE", "IncomingSource", "UploadSource")

CHUNK_SIZE = 1024 * 1024
"""Bytes read from a file or a path at a time (and the pieces a ``bytes`` source is cut into)."""


class Readable(Protocol):
    """A binary file object: ``read(n)`` returns up to ``n`` bytes (``b""`` at the end), or a coroutine of them (an
    async file, Litestar's ``UploadFile``)."""

    def read(self, size: int, /) -> Any: ...


UploadSource: TypeAlias = bytes | bytearray | memoryview | os.PathLike[str] | Readable | AsyncIterable[bytes]
"""Where an upload's bytes come from: the bytes themselves, a path (``pathlib.Path``; a ``str`` is refused: it could
be either), a binary file object (sync or async ``read``), or an async iterable of ``bytes`` chunks."""


class IncomingSource:
    """An :data:`UploadSource` as the media service reads an upload: its bytes, once, and the form's fields.

    Args:
        source: the bytes' origin.
        filename: the name to sanitise and keep; by default a path's name, a file object's ``filename`` (Litestar's
            ``UploadFile``) or the last part of its ``name``, else ``""``.
        fields: ``title``, ``description``, ``tags`` (comma-separated), as the HTTP form's.

    Raises:
        TypeError: ``source`` is none of the above (a ``str`` included).
    """

    def __init__(self, source: UploadSource, filename: str | None, fields: Mapping[str, str]) -> None:
        known = isinstance(source, bytes | bytearray | memoryview | os.PathLike | AsyncIterable)
        if isinstance(source, str) or not (known or callable(getattr(source, "read", None))):
            raise TypeError(
                "upload from bytes, a pathlib.Path, a binary file object or an async iterable of bytes, not "
                f"{type(source).__name__}"
            )
        self._source = source
        self.filename = filename if filename is not None else _name_of(source)
        self._fields = dict(fields)
        self._iterator: AsyncIterator[bytes] | None = None

    @property
    def fields(self) -> Mapping[str, str]:
        """The text fields."""
        return self._fields

    @property
    def arrived(self) -> bool:
        """Whether the source is the bytes themselves (nothing to wait for while reading it)."""
        return isinstance(self._source, bytes | bytearray | memoryview)

    def __aiter__(self) -> AsyncIterator[bytes]:
        if self._iterator is None:
            self._iterator = self._chunks()
        return self._iterator

    async def aclose(self) -> None:
        """Stop reading (a path's file is closed)."""
        if self._iterator is not None:
            await self._iterator.aclose()  # type: ignore[attr-defined]

    async def _chunks(self) -> AsyncIterator[bytes]:
        source = self._source
        if isinstance(source, bytes | bytearray | memoryview):
            view = memoryview(source).cast("B")
            for start in range(0, len(view), CHUNK_SIZE):
                yield bytes(view[start : start + CHUNK_SIZE])
        elif isinstance(source, os.PathLike):
            async with await anyio.open_file(source, "rb") as file:
                while chunk := await file.read(CHUNK_SIZE):
                    yield chunk
        elif isinstance(source, AsyncIterable):
            async for chunk in source:
                if not isinstance(chunk, bytes | bytearray | memoryview):
                    raise TypeError(f"an upload's async iterable yields bytes, not {type(chunk).__name__}")
                yield bytes(chunk)
        else:
            read = source.read
            asynchronous = inspect.iscoroutinefunction(read)
            while chunk := (
                await read(CHUNK_SIZE) if asynchronous else await anyio.to_thread.run_sync(read, CHUNK_SIZE)
            ):
                yield bytes(chunk)


def _name_of(source: object) -> str:
    if isinstance(source, os.PathLike):
        return Path(source).name
    name = getattr(source, "filename", None) or getattr(source, "name", None)
    return Path(name).name if isinstance(name, str) else ""
