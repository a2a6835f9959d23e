"""Resumable uploads of files through the vault's tus 1.0.0 server (``/uploads``, docs/uploads.md).

:func:`resumable_upload` is the whole exchange as a generator of :class:`~mediavault_sdk._core.Call` objects: the
client sends each one and sends its result back in (or throws its error in), so the blocking and the asyncio client
drive the same steps (``Client.run`` / ``AsyncClient.run``). The steps:

1. Look the file up in the resume file (:class:`ResumeFile`: a JSON object kept under ``$XDG_STATE_HOME``), keyed by
   its absolute path, size and modification time, and for a replacement of an item's bytes by that item's id too.
   A known upload is asked for its offset (``HEAD``); one the server no longer has (expired, deleted, another
   server's) is forgotten.
2. Otherwise create one (``POST /uploads`` with ``Upload-Length`` and the metadata) and write its id down at once,
   so a process killed from then on continues where the server says it got.
3. Send the rest in ``PATCH`` chunks of ``chunk_size`` bytes read from the file at the server's offset. A ``409``
   (another process moved the offset) is answered by asking the offset again.
4. The ``PATCH`` of the last byte names the media (``X-Media-Id``: the new item, or the replaced one); its entry is
   removed and the media fetched. A ``404`` on the way (the upload expired, the replaced item was deleted) removes
   the entry too.
"""

from __future__ import annotations

import base64
import json
import os
import tempfile
from collections.abc import Generator
from pathlib import Path
from typing import Any, TypeVar

import httpx

from mediavault_sdk._core import Call, data_of
from mediavault_sdk._transfer import FilePart, Progress
from mediavault_sdk.errors import Conflict, NotFound
from mediavault_sdk.types import Media

__all__ = ("CHUNK_SIZE", "RESUMABLE_THRESHOLD", "Flow", "ResumeFile", "default_resume_file", "resumable_upload")

RESUMABLE_THRESHOLD = 64 * 1024 * 1024
"""Files of at least this many bytes go through a resumable upload by default (64 MiB)."""
CHUNK_SIZE = 8 * 1024 * 1024
"""Bytes per ``PATCH`` by default (8 MiB: one S3 part on the server; what a dropped connection costs again)."""
TUS = {"Tus-Resumable": "1.0.0"}

T = TypeVar("T")
Flow = Generator[Call[Any], Any, T]
"""Calls to send, one at a time; the client sends each one's result (or throws its error) back in; the value it
returns is the result."""


def default_resume_file() -> Path:
    """``$XDG_STATE_HOME/mediavault/uploads.json`` (``~/.local/state`` when unset, per the XDG base directory spec:
    state that should persist between restarts)."""
    base = os.environ.get("XDG_STATE_HOME") or str(Path.home() / ".local" / "state")
    return Path(base) / "mediavault" / "uploads.json"


class ResumeFile:
    """Where unfinished uploads are written down: ``{"<path>|<size>|<mtime_ns>": "<upload id>"}`` in a JSON file
    (folder 0700, file 0600), replaced atomically on each change; an upload replacing an item's bytes is under
    ``"<path>|<size>|<mtime_ns>|replaces <item id>"`` (the TypeScript and Go SDKs' key too). A file changed since its
    upload began has another key, so it is sent again from the start; so is the same file as a new item, or as
    another item's bytes.

    Args:
        path: the JSON file (default :func:`default_resume_file`).
    """

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.path = Path(path) if path is not None else default_resume_file()

    @staticmethod
    def key(file: Path, media_id: str | None = None) -> str:
        """The entry's key of ``file``: its absolute path, size and modification time (ns), and the id of the item
        whose bytes it replaces (``None``: a new item)."""
        stat = file.stat()
        key = f"{file.resolve()}|{stat.st_size}|{stat.st_mtime_ns}"
        return key if media_id is None else f"{key}|replaces {media_id}"

    def _read(self) -> dict[str, str]:
        try:
            entries = json.loads(self.path.read_text("utf-8"))
        except (OSError, ValueError):
            return {}
        return entries if isinstance(entries, dict) else {}

    def get(self, key: str) -> str | None:
        """The upload id written down for ``key``, if any."""
        value = self._read().get(key)
        return value if isinstance(value, str) else None

    def put(self, key: str, upload_id: str | None) -> None:
        """Write ``upload_id`` down for ``key`` (``None``: remove the entry)."""
        entries = self._read()
        if upload_id is None:
            if entries.pop(key, None) is None:
                return
        else:
            entries[key] = upload_id
        self.path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
        fd, temp = tempfile.mkstemp(dir=self.path.parent, prefix=f".{self.path.name}.", suffix=".tmp")  # mode 0600
        try:
            with os.fdopen(fd, "w", encoding="utf-8") as fh:
                json.dump(entries, fh)
            os.replace(temp, self.path)
        except BaseException:
            Path(temp).unlink(missing_ok=True)
            raise


def _offset(response: httpx.Response) -> tuple[int, str | None]:
    """``Upload-Offset`` and ``X-Media-Id`` (set once the last byte is in) of a ``HEAD`` or ``PATCH`` answer."""
    return int(response.headers["Upload-Offset"]), response.headers.get("X-Media-Id")


def _metadata(fields: dict[str, str]) -> str:
    """``Upload-Metadata``: ``key base64(value)`` pairs, comma-separated (tus 1.0.0, creation extension)."""
    return ",".join(f"{key} {base64.b64encode(value.encode()).decode()}" for key, value in fields.items())


def resumable_upload(
    path: str | os.PathLike[str],
    *,
    fields: dict[str, str],
    media_id: str | None = None,
    chunk_size: int = CHUNK_SIZE,
    resume_file: ResumeFile | None = None,
    progress: Progress | None = None,
) -> Flow[Media]:
    """Upload the file at ``path`` through ``/uploads``, continuing an upload of it written down in ``resume_file``;
    the flow's value is the new :class:`Media`, or with ``media_id`` that item with the file as its new bytes.

    Args:
        fields: the metadata (``filename``, ``title``, ``description``, ``tags``).
        media_id: the caller's item whose bytes the upload replaces (``Upload-Metadata`` ``media_id``: as ``PUT
            /media/{id}/content``, version + 1); ``None`` makes a new item. Part of the resume file's key, so an
            upload only ever continues one made for the same purpose.
        chunk_size: bytes per ``PATCH``.
        resume_file: where unfinished uploads are written down (default :class:`ResumeFile`'s).
        progress: ``progress(done, size)``, first with the offset it starts from (0, or where the server got).

    Raises:
        ValueError: ``chunk_size`` under 1, or the file changed size while it was sent.
        NotFound: ``media_id`` is not one of the caller's items, or it was deleted before the last byte arrived.
        VaultError: as the tus endpoints answer (e.g. :class:`~mediavault_sdk.PayloadTooLarge`).
    """
    if chunk_size < 1:
        raise ValueError("chunk_size must be at least 1 byte")
    file, store = Path(path), resume_file or ResumeFile()
    key, size = store.key(file, media_id), file.stat().st_size
    if media_id is not None:
        fields = {**fields, "media_id": media_id}
    upload_id = store.get(key)
    offset, done = 0, None
    if upload_id is not None:
        try:
            offset, done = yield Call("HEAD", f"/uploads/{upload_id}", _offset, headers=TUS)
        except NotFound:
            store.put(key, upload_id := None)
    if upload_id is None:
        headers = {**TUS, "Upload-Length": str(size), "Upload-Metadata": _metadata(fields)}
        location: str = yield Call("POST", "/uploads", lambda r: r.headers["Location"], 201, headers=headers)
        upload_id = location.rstrip("/").rsplit("/", 1)[-1]
        store.put(key, upload_id)
    if progress is not None:
        progress(offset, size)
    try:
        while done is None:
            length = min(chunk_size, size - offset)
            body = FilePart(file, offset, length, "application/offset+octet-stream", progress=progress, total=size)
            headers = {**TUS, "Upload-Offset": str(offset)}
            try:
                offset, done = yield Call("PATCH", f"/uploads/{upload_id}", _offset, 204, headers=headers, upload=body)
            except Conflict:  # another process moved it on: continue from where the server is
                offset, done = yield Call("HEAD", f"/uploads/{upload_id}", _offset, headers=TUS)
    except NotFound:  # the upload expired, or the item it replaces is gone: nothing to continue
        store.put(key, None)
        raise
    store.put(key, None)
    media: Media = yield Call("GET", f"/media/{done}", data_of(Media))
    return media
