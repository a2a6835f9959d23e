"""``mediavault upload`` and ``mediavault download``: files to and from a vault, with progress bars (rich, on
standard error) and one line per new media (``ID  PATH``) or, with ``--json``, a JSON array of every file's outcome
on standard output.

An upload is resumable at the file level: each file's SHA-256 is computed first and the file is skipped when the
vault already holds that content (``GET /media?checksum_sha256=``), so re-running an interrupted upload sends only
what is missing. It is resumable within a file too from ``--resumable-from`` bytes (64 MiB) on: such a file goes
through the vault's resumable uploads (tus) in ``--chunk-size`` chunks, written down under
``$XDG_STATE_HOME/mediavault``, so a re-run continues from the server's offset (not with ``--metadata``, which goes
with the file in one request). The stored checksum is compared with the file's. Empty files are skipped with a note
(the vault keeps no empty files). Exit status: 0 when every file was uploaded or skipped, 1 when any failed (or
nothing could start, e.g. not logged in), 2 for a usage error, 130 after Ctrl-C.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal

import click
import httpx
from mediavault_sdk import AsyncClient, Client, Media, NotFound, VaultError
from mediavault_sdk._resumable import CHUNK_SIZE, RESUMABLE_THRESHOLD

from mediavault_cli._shared import json_object
from mediavault_cli.session import connect, url_option

if TYPE_CHECKING:
    from rich.console import Console
    from rich.progress import Progress, TaskID

__all__ = (
    "FileBar",
    "chunk_size_option",
    "download_command",
    "progress_bars",
    "resumable_from_option",
    "sha256_of",
    "stderr_console",
    "upload_command",
)

_CHUNK = 1024 * 1024


@dataclass
class Outcome:
    """What happened to one file: ``done`` (uploaded or downloaded), ``skipped`` or ``failed``, why, and the id of
    the media it is (or is the same content as) in the vault, when known."""

    name: str
    status: Literal["done", "skipped", "failed"]
    detail: str = ""
    media_id: str | None = None


def sha256_of(path: Path) -> str:
    """The SHA-256 (FIPS 180-4) of a file as 64 lower-case hex digits, read 1 MiB at a time.

    Raises:
        OSError: the file cannot be read (e.g. ``FileNotFoundError``).
        ValueError: it is not a regular file (reading a FIFO would block until someone writes to it).
    """
    if path.exists() and not path.is_file():
        raise ValueError("not a regular file (a FIFO, socket or device)")
    digest = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(_CHUNK):
            digest.update(chunk)
    return digest.hexdigest()


def _files(paths: tuple[Path, ...]) -> Iterator[Path]:
    """Each path, and every regular file under each folder (sorted, recursively; symlinked folders not followed)."""
    for path in paths:
        if path.is_dir():
            for root, dirs, names in os.walk(path):
                dirs.sort()
                for name in sorted(names):
                    file = Path(root) / name
                    if file.is_file():  # no FIFOs, sockets or devices
                        yield file
        else:
            yield path


def stderr_console() -> Console:
    """A rich console on standard error (standard output stays for ids and ``--json``)."""
    from rich.console import Console

    return Console(stderr=True)


def progress_bars(console: Console) -> Progress:
    """Bars on standard error that vanish when done (standard output stays for ids and ``--json``)."""
    from rich.progress import (
        BarColumn,
        DownloadColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
        TransferSpeedColumn,
    )

    return Progress(
        TextColumn("{task.description}", table_column=None),
        BarColumn(),
        DownloadColumn(),
        TransferSpeedColumn(),
        TimeRemainingColumn(),
        console=console,
        transient=True,
        redirect_stdout=False,
        redirect_stderr=False,
    )


class FileBar:
    """The bar of one file being uploaded, as a ``progress(done, total)`` callback of the SDK's upload methods: it
    follows the bytes sent (and advances the ``overall`` bar alike). A resumable upload reports its starting offset
    first: when that is past byte 0 (the server kept part of it from an earlier run) it prints ``resuming PATH at
    N %``; a new upload (offset 0) prints nothing. A context manager: leaving it removes
    the bar, and the ``overall`` bar is advanced to the file's end even when the upload failed.

    Args:
        progress: the bars (:func:`progress_bars`).
        path, size: the file and its size in bytes.
        resumable: whether the file is sent through a resumable upload (only that one reports a starting offset).
        overall: the bar of every file of the command, if any.
    """

    def __init__(
        self, progress: Progress, path: Path, size: int, resumable: bool, overall: TaskID | None = None
    ) -> None:
        self.progress, self.path, self.size, self.resumable, self.overall = progress, path, size, resumable, overall
        self.task = progress.add_task(path.name, total=size)
        self.sent = 0
        self.started = False  # whether the first report (a resumable upload's starting offset) came

    def __call__(self, done: int, _total: int | None) -> None:
        if self.resumable and not self.started and done:  # the server kept part of it from an earlier run
            percent = 100 * done // self.size
            self.progress.console.print(f"resuming {self.path} at {percent} %", highlight=False, soft_wrap=True)
        self.started = True
        self.progress.update(self.task, completed=done)
        if self.overall is not None:
            self.progress.advance(self.overall, done - self.sent)
        self.sent = done

    def __enter__(self) -> FileBar:
        return self

    def __exit__(self, *_exc: object) -> None:
        if self.overall is not None:
            self.progress.advance(self.overall, self.size - self.sent)  # the bar still reaches its end
        self.progress.remove_task(self.task)


resumable_from_option = click.option(
    "--resumable-from",
    default=RESUMABLE_THRESHOLD,
    show_default=True,
    type=click.IntRange(0),
    help="Files of at least this many bytes are sent in resumable chunks (0: every file).",
)
"""``--resumable-from BYTES``: from this size on a file goes through the vault's resumable uploads."""
chunk_size_option = click.option(
    "--chunk-size",
    default=CHUNK_SIZE,
    show_default=True,
    type=click.IntRange(1),
    help="Bytes per chunk of a resumable upload (keep it under a proxy's body limit).",
)
"""``--chunk-size BYTES``: bytes per ``PATCH`` of a resumable upload."""


EMPTY = "empty file (the vault keeps no empty files)"
"""The note of a skipped empty file."""

json_option = click.option(
    "--json", "as_json", is_flag=True, help="Print a JSON array of every file's outcome instead of ids (for scripts)."
)


def _report(console: Console, outcomes: list[Outcome], done_word: str, as_json: bool) -> None:
    """Standard output: ``ID  PATH`` per file done, or the ``--json`` array; standard error: notes, failures and
    the summary line. Exits with 1 when any file failed."""
    if as_json:
        words = {"done": done_word, "skipped": "skipped", "failed": "failed"}
        rows = [{"path": o.name, "status": words[o.status], "id": o.media_id, "detail": o.detail} for o in outcomes]
        click.echo(json.dumps(rows, indent=2))
    else:
        for outcome in outcomes:
            if outcome.status == "done":
                click.echo(f"{outcome.media_id}  {outcome.name}")
    counts = {status: sum(o.status == status for o in outcomes) for status in ("done", "skipped", "failed")}
    for outcome in outcomes:
        if outcome.status == "failed":
            console.print(f"[red]failed[/red] {outcome.name}: {outcome.detail}", highlight=False, soft_wrap=True)
        elif outcome.status == "skipped" and outcome.detail == EMPTY:
            console.print(f"skipped {outcome.name}: {EMPTY}", highlight=False, soft_wrap=True)
    style = "red" if counts["failed"] else "green"
    console.print(
        f"[{style}]{done_word} {counts['done']}, skipped {counts['skipped']}, failed {counts['failed']}[/{style}]"
    )
    if counts["failed"]:
        raise SystemExit(1)


def _reason(exc: Exception) -> str:
    if isinstance(exc, NotFound):
        return "no such media in the vault (unknown id, or not yours)"
    if isinstance(exc, httpx.TransportError):
        return f"network error: {exc!r}"
    if isinstance(exc, OSError):
        return exc.strerror or str(exc)
    return str(exc)


class _Uploader:
    """Uploads files with at most ``concurrency`` in flight, skipping content the vault already has."""

    def __init__(
        self,
        client: AsyncClient,
        progress: Progress,
        concurrency: int,
        tags: list[str] | None,
        resumable_from: int = RESUMABLE_THRESHOLD,
        chunk_size: int = CHUNK_SIZE,
        metadata: dict[str, Any] | None = None,
    ) -> None:
        self.client = client
        self.progress = progress
        self.slots = asyncio.Semaphore(concurrency)
        self.tags = tags
        self.resumable_from = resumable_from
        self.chunk_size = chunk_size
        self.metadata = metadata  # sent with each file, in one request (a resumable upload has no place for it)
        self.seen: dict[str, asyncio.Future[str | None]] = {}  # checksum → the media id of this run's first copy
        self.expected = 0  # bytes the total bar waits for: those of files not skipped (yet)
        self.total = progress.add_task("total", total=0)

    async def run(self, files: list[Path]) -> list[Outcome]:
        sizes = [f.stat().st_size if f.is_file() else None for f in files]  # None: missing, or not a regular file
        self.expected = sum(size or 0 for size in sizes)
        self.progress.update(self.total, total=self.expected)
        return list(await asyncio.gather(*(self.one(f, size) for f, size in zip(files, sizes, strict=True))))

    async def one(self, path: Path, size: int | None) -> Outcome:
        if size == 0:
            return Outcome(str(path), "skipped", EMPTY)
        size = size or 0  # hashing says what is wrong with a path that is not a regular file
        async with self.slots:
            try:
                digest = await asyncio.to_thread(sha256_of, path)
                if digest in self.seen:
                    return self._skip(path, size, "same content as another file of this run", await self.seen[digest])
                first = self.seen[digest] = asyncio.get_running_loop().create_future()
                media_id = None
                try:
                    if found := (await self.client.list_media(checksum_sha256=digest, per_page=1)).items:
                        media_id = found[0].id
                        return self._skip(path, size, "already in the vault", media_id)
                    media = await self._send(path, size)
                    media_id = media.id
                    if media.checksum_sha256 != digest:
                        return Outcome(str(path), "failed", "the vault's checksum differs from the file's", media_id)
                    return Outcome(str(path), "done", media_id=media_id)
                finally:
                    first.set_result(media_id)
            except (VaultError, OSError, ValueError, httpx.HTTPError) as exc:
                return Outcome(str(path), "failed", _reason(exc))

    def _skip(self, path: Path, size: int, why: str, media_id: str | None) -> Outcome:
        self.expected -= size
        self.progress.update(self.total, total=self.expected)
        return Outcome(str(path), "skipped", why, media_id)

    async def _send(self, path: Path, size: int) -> Media:
        """Upload one file: in one request, or from ``resumable_from`` bytes on in resumable chunks that continue
        where an earlier, interrupted run of the command got (noted on the console; the bars start there)."""
        resumable = size >= self.resumable_from and self.metadata is None
        with FileBar(self.progress, path, size, resumable, self.total) as bar:
            return await self.client.upload(
                path,
                tags=self.tags,
                metadata=self.metadata,
                progress=bar,
                resumable=resumable,
                chunk_size=self.chunk_size,
            )


@click.command("upload")
@click.argument("paths", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-j", "--concurrency", default=4, show_default=True, type=click.IntRange(1, 32), help="Files sent at once."
)
@click.option("--tag", "tags", multiple=True, help="Tag every uploaded file (repeatable).")
@resumable_from_option
@chunk_size_option
@click.option(
    "--metadata",
    callback=json_object,
    metavar="JSON",
    help="Custom metadata of every uploaded file, a JSON object; each file then goes in one request.",
)
@json_option
@url_option
def upload_command(
    paths: tuple[Path, ...],
    concurrency: int,
    tags: tuple[str, ...],
    resumable_from: int,
    chunk_size: int,
    metadata: dict[str, Any] | None,
    as_json: bool,
    url: str | None,
) -> None:
    """Upload files and folders (recursively), skipping any file whose content is already in the vault.

    Prints "ID  PATH" for each new media (--json: every file's outcome). Re-running an interrupted upload sends
    only what is missing: whole files already there are skipped, and a large file (--resumable-from) continues
    from where the server got. Empty files are skipped. Exits with 1 if any file failed.
    """
    files = list(_files(paths))
    connection = connect(url)
    console = stderr_console()

    async def run() -> list[Outcome]:
        async with connection.async_client() as vault:
            with progress_bars(console) as progress:
                uploader = _Uploader(
                    vault, progress, concurrency, list(tags) or None, resumable_from, chunk_size, metadata
                )
                return await uploader.run(files)

    _report(console, asyncio.run(run()), "uploaded", as_json)


def _safe_name(filename: str, media_id: str) -> str:
    """The last path component of the server's ``filename`` (never ``..``, hidden or empty), else the media id."""
    name = filename.replace("\\", "/").rsplit("/", 1)[-1].strip()
    return name if name and not name.startswith(".") else media_id


def _download_one(client: Client, media_id: str, folder: Path, overwrite: bool, progress: Progress) -> Outcome:
    try:
        media = client.get_media(media_id)
        target = folder / _safe_name(media.filename, media.id)
        if target.exists():
            if sha256_of(target) == media.checksum_sha256:
                return Outcome(str(target), "skipped", "already there", media.id)
            if not overwrite:
                return Outcome(str(target), "failed", "exists with other content (--overwrite replaces it)")
        task = progress.add_task(target.name, total=media.size)
        try:
            client.download(media.id, target, progress=lambda done, _total: progress.update(task, completed=done))
        finally:
            progress.remove_task(task)
        if sha256_of(target) != media.checksum_sha256:
            target.unlink()
            return Outcome(str(target), "failed", "the received bytes do not match the vault's checksum", media.id)
        return Outcome(str(target), "done", media_id=media.id)
    except (VaultError, OSError, ValueError, httpx.HTTPError) as exc:
        return Outcome(media_id, "failed", _reason(exc), media_id)


@click.command("download")
@click.argument("media_ids", nargs=-1, required=True)
@click.option(
    "-o",
    "--output",
    default=".",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Folder to write into (created if missing).",
)
@click.option("--overwrite", is_flag=True, help="Replace existing files whose content differs.")
@json_option
@url_option
def download_command(media_ids: tuple[str, ...], output: Path, overwrite: bool, as_json: bool, url: str | None) -> None:
    """Download media by id into a folder, under their stored file names, checking each file's SHA-256.

    Prints "ID  PATH" for each file written (--json: every id's outcome). A file already there with the same
    content is skipped. Exits with 1 if any download failed.
    """
    output.mkdir(parents=True, exist_ok=True)
    console = stderr_console()
    with connect(url).client() as client, progress_bars(console) as progress:
        outcomes = [_download_one(client, media_id, output, overwrite, progress) for media_id in media_ids]
    _report(console, outcomes, "downloaded", as_json)
