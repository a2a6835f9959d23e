"""Streamed request and answer bodies: the multipart upload encoder and the download sink.

Neither ever holds a whole file in memory: an upload is produced chunk by chunk (``chunk_size`` bytes at a time)
as ``multipart/form-data`` (RFC 7578), and a download is written chunk by chunk to a temporary file next to the
destination, renamed into place only once complete, so an interrupted download never leaves a half-written file.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterable, AsyncIterator, Callable, Iterable, Iterator
from pathlib import Path
from typing import IO, Any, BinaryIO, cast

import anyio
import anyio.to_thread

__all__ = ("CHUNK_SIZE", "Destination", "Download", "FilePart", "Progress", "Source", "Upload")

CHUNK_SIZE = 256 * 1024
"""Bytes read or written at a time (256 KiB)."""

Progress = Callable[[int, int | None], None]
"""``progress(done, total)``: bytes of the file sent or received so far, and the file's size (``None`` if unknown)."""

Source = str | os.PathLike[str] | BinaryIO | Iterable[bytes] | AsyncIterable[bytes]
"""What can be uploaded: a path, a binary file object, or an iterator of bytes (async ones with
:class:`~mediavault_sdk.AsyncClient` only)."""

Destination = str | os.PathLike[str] | BinaryIO
"""Where a download goes: a path (written atomically) or a binary file object (written as it arrives)."""


def _quote(value: str) -> str:
    # The HTML standard's multipart/form-data encoding of names and filenames (what browsers send).
    return value.replace('"', "%22").replace("\r", "%0D").replace("\n", "%0A")


class Upload:
    """A ``multipart/form-data`` body with the text ``fields`` first and the ``file`` part last, produced as a stream.

    Args:
        source: a path (re-opened for each attempt), a binary file object (read from its current position; sent
            again after a token refresh only if seekable), or an iterator of ``bytes`` (sent once, chunked).
        filename: the name sent for the file part (default: the path's or file object's base name, else
            ``"upload"``). The server sanitises it and sniffs the type from the bytes.
        fields: extra text parts (``title``, ``description``, ``tags``).
        progress: called after each chunk with ``(bytes of the file sent, file size or None)``; with
            :class:`~mediavault_sdk.AsyncClient`, on the event loop.

    Raises:
        ValueError (while streaming): a path or file changed size while it was being sent (the server then sees an
            incomplete body and keeps nothing).
    """

    def __init__(
        self,
        source: Source,
        *,
        filename: str | None = None,
        fields: dict[str, str] | None = None,
        progress: Progress | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._source = source
        self._progress = progress
        self._chunk = chunk_size
        self._start = 0
        self._path: Path | None = None
        self._file: BinaryIO | None = None
        self.size: int | None = None
        self.replayable = False
        if isinstance(source, str | os.PathLike):
            self._path = Path(source)
            self.size, self.replayable = self._path.stat().st_size, True
            filename = filename or self._path.name
        elif hasattr(source, "read"):
            self._file = cast(BinaryIO, source)
            filename = filename or Path(str(getattr(source, "name", "") or "upload")).name
            if self._file.seekable():
                self._start = self._file.tell()
                self.size = self._file.seek(0, os.SEEK_END) - self._start
                self._file.seek(self._start)
                self.replayable = True
        boundary = secrets.token_hex(16)
        self.content_type = f"multipart/form-data; boundary={boundary}"
        parts = [
            f'--{boundary}\r\nContent-Disposition: form-data; name="{_quote(name)}"\r\n\r\n{value}\r\n'.encode()
            for name, value in (fields or {}).items()
        ]
        parts.append(
            f"--{boundary}\r\nContent-Disposition: form-data; "
            f'name="file"; filename="{_quote(filename or "upload")}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n".encode()
        )
        self._head = b"".join(parts)
        self._tail = f"\r\n--{boundary}--\r\n".encode()
        self.content_length = None if self.size is None else len(self._head) + self.size + len(self._tail)

    def _sent(self, done: int) -> None:
        if self._progress is not None:
            self._progress(done, self.size)

    def _changed(self) -> ValueError:
        return ValueError(f"{self._source!r} changed size while it was being uploaded")

    def stream(self) -> Iterator[bytes]:
        """The body, for :class:`httpx.Client`.

        Raises:
            TypeError: the source is an async iterator.
        """
        yield self._head
        done = 0
        for chunk in self._data():
            yield chunk
            done += len(chunk)
            self._sent(done)
        yield self._tail

    async def astream(self) -> AsyncIterator[bytes]:
        """The body, for :class:`httpx.AsyncClient`: files are read in a worker thread, off the event loop, and
        ``progress`` is called on the loop."""
        yield self._head
        done = 0
        if isinstance(self._source, AsyncIterable):
            async for chunk in self._source:
                if chunk:
                    yield bytes(chunk)
                    done += len(chunk)
                    self._sent(done)
        else:
            chunks = self._data()
            while (piece := await anyio.to_thread.run_sync(_next, chunks)) is not None:
                yield piece
                done += len(piece)
                self._sent(done)
        yield self._tail

    def _data(self) -> Iterator[bytes]:
        """The file's bytes, without the multipart framing (sized sources checked against their size)."""
        if self._path is not None:
            with self._path.open("rb") as fh:
                yield from self._read_sized(fh)
        elif self._file is not None:
            if self.replayable:
                self._file.seek(self._start)
                yield from self._read_sized(self._file)
            else:
                file = self._file
                yield from iter(lambda: file.read(self._chunk), b"")
        elif isinstance(self._source, AsyncIterable):
            raise TypeError("an async iterator can only be uploaded with AsyncClient")
        else:
            yield from (bytes(chunk) for chunk in cast(Iterable[bytes], self._source) if chunk)

    def _read_sized(self, fh: IO[bytes]) -> Iterator[bytes]:
        assert self.size is not None
        yield from _read_exactly(fh, self.size, self._chunk, self._changed)
        if fh.read(1):
            raise self._changed()


class FilePart:
    """``length`` bytes of the file at ``path`` from byte ``start`` on, as a raw request body of ``content_type``
    (a resumable upload's ``PATCH``), read as it is sent and sent again as often as asked.

    Args:
        progress: called after each chunk with ``(start + bytes sent, total)``.
        total: the ``total`` reported to ``progress`` (the whole file's size).

    Raises:
        ValueError (while streaming): the file is shorter than ``start + length`` bytes by then.
    """

    replayable = True

    def __init__(
        self,
        path: Path,
        start: int,
        length: int,
        content_type: str,
        *,
        progress: Progress | None = None,
        total: int | None = None,
        chunk_size: int = CHUNK_SIZE,
    ) -> None:
        self._path, self._start, self._progress, self._total, self._chunk = path, start, progress, total, chunk_size
        self.content_type = content_type
        self.content_length = length

    def _changed(self) -> ValueError:
        return ValueError(f"{self._path} changed size while it was being uploaded")

    def _data(self) -> Iterator[bytes]:
        with self._path.open("rb") as fh:
            fh.seek(self._start)
            yield from _read_exactly(fh, self.content_length, self._chunk, self._changed)

    def _sent(self, done: int) -> None:
        if self._progress is not None:
            self._progress(self._start + done, self._total)

    def stream(self) -> Iterator[bytes]:
        """The body, for :class:`httpx.Client`."""
        done = 0
        for chunk in self._data():
            yield chunk
            done += len(chunk)
            self._sent(done)

    async def astream(self) -> AsyncIterator[bytes]:
        """The body, for :class:`httpx.AsyncClient`: read in a worker thread, ``progress`` called on the loop."""
        done = 0
        chunks = self._data()
        while (piece := await anyio.to_thread.run_sync(_next, chunks)) is not None:
            yield piece
            done += len(piece)
            self._sent(done)


def _read_exactly(fh: IO[bytes], size: int, chunk_size: int, changed: Callable[[], Exception]) -> Iterator[bytes]:
    """``size`` bytes of ``fh`` from where it is, ``chunk_size`` at a time; ``changed()`` is raised if it ends first."""
    done = 0
    while done < size:
        chunk = fh.read(min(chunk_size, size - done))
        if not chunk:
            raise changed()
        done += len(chunk)
        yield chunk


def _next(chunks: Iterator[bytes]) -> bytes | None:
    return next(chunks, None)


class Download:
    """The sink of a streamed download.

    Args:
        destination: a path (the bytes go to a temporary file in the same folder, renamed over the path when
            complete and removed on any failure) or a binary file object (written as the bytes arrive).
        progress: called after each chunk with ``(bytes received, Content-Length or None)``.
    """

    def __init__(self, destination: Destination, progress: Progress | None = None) -> None:
        self.destination = destination
        self.progress = progress

    def _open(self) -> tuple[IO[bytes], Path | None]:
        if isinstance(self.destination, str | os.PathLike):
            target = Path(self.destination)
            # A fixed-length name: the target's own may already be as long as the file system allows (NAME_MAX).
            temp = target.with_name(f".mediavault-{secrets.token_hex(8)}.part")
            # 0o666 less the umask, as for any file a program creates (mkstemp would make it 0600)
            fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o666)
            return os.fdopen(fd, "wb"), temp
        return self.destination, None

    def _finish(self, fh: IO[bytes], temp: Path | None, ok: bool) -> None:
        if temp is None:
            return
        fh.close()
        if ok:
            os.replace(temp, cast("str | os.PathLike[str]", self.destination))
        else:
            temp.unlink(missing_ok=True)

    def save(self, chunks: Iterable[bytes], total: int | None) -> int:
        """Write ``chunks``; returns the number of bytes written."""
        fh, temp = self._open()
        done, ok = 0, False
        try:
            for chunk in chunks:
                fh.write(chunk)
                done += len(chunk)
                if self.progress is not None:
                    self.progress(done, total)
            ok = True
        finally:
            self._finish(fh, temp, ok)
        return done

    async def asave(self, chunks: AsyncIterable[bytes], total: int | None) -> int:
        """Write ``chunks`` (file writes in a worker thread); returns the number of bytes written."""
        fh, temp = await anyio.to_thread.run_sync(self._open)
        done, ok = 0, False
        try:
            async for chunk in chunks:
                await anyio.to_thread.run_sync(fh.write, chunk)
                done += len(chunk)
                if self.progress is not None:
                    self.progress(done, total)
            ok = True
        finally:
            await anyio.to_thread.run_sync(self._finish, fh, temp, ok)
        return done


def content_length(headers: Any) -> int | None:
    """``Content-Length`` as an int, or ``None`` when absent or not a number."""
    value = headers.get("Content-Length", "")
    return int(value) if value.isdigit() else None
