"""``mediavault export DIR``: every row of the vault read in one snapshot, then every object those rows point at."""

from __future__ import annotations

import hashlib
import shutil
from dataclasses import dataclass, field
from pathlib import Path

import anyio
import anyio.to_thread
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mediavault.backup.manifest import (
    FORMAT,
    FORMAT_VERSION,
    BackupError,
    Manifest,
    ObjectEntry,
    TableEntry,
    object_path,
    table_path,
)
from mediavault.backup.rows import RowCodec, schema_revision, select_rows, storage_key_columns_of, vault_tables
from mediavault.backup.transfer import for_each, save_object
from mediavault.meta import VERSION, utc_timestamp
from mediavault.storage.base import StorageBackend

__all__ = ("ExportReport", "export_vault")

_BATCH = 1000
"""Rows fetched and written at a time."""


@dataclass
class ExportReport:
    """What :func:`export_vault` wrote.

    Attributes:
        manifest: the export's manifest.
        without_bytes: keys a row names that hold no object (a deduplicated item's own key, whose bytes are its
            blob's; or bytes lost, which ``mediavault fsck`` reports), sorted.
    """

    manifest: Manifest
    without_bytes: list[str] = field(default_factory=list)

    def summary(self) -> list[str]:
        """Lines for a person: what was exported, and how many keys hold no object if any."""
        lines = [f"exported {self.manifest.summary()}"]
        if self.without_bytes:
            lines.append(
                f"{len(self.without_bytes)} storage keys named by rows hold no object (deduplicated uploads read "
                "their blob's; `mediavault fsck` reports lost ones)"
            )
        return lines


async def export_vault(
    engine: AsyncEngine, storage: StorageBackend, directory: Path, *, concurrency: int = 8
) -> ExportReport:
    """Export the vault's rows and bytes into ``directory`` (created; it must be missing or empty).

    The rows of every table are read in one read-only snapshot (``REPEATABLE READ`` on PostgreSQL, one read
    transaction on SQLite), so they are consistent with each other while the vault keeps running; then every
    object a row's storage-key column names is copied, ``concurrency`` at a time. Uploads write their bytes before
    their row commits and deletes remove them after, so the objects of the snapshot's rows are all still stored
    unless deleted since: those are reported in :attr:`ExportReport.without_bytes` like lost ones.
    ``manifest.json`` is written last; on failure everything written is removed again.

    Raises:
        BackupError: ``directory`` is not empty, or the database was never migrated.
        OSError: a file could not be written.
    """
    created = await anyio.to_thread.run_sync(_prepare, directory)
    try:
        return await _export(engine, storage, directory, concurrency)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await anyio.to_thread.run_sync(_discard, directory, created)
        raise


def _prepare(directory: Path) -> bool:
    """Create ``directory`` (readable by its owner only: the export holds password hashes and webhook secrets) unless
    it exists empty; whether it was created.

    Raises:
        BackupError: it exists and is not an empty directory.
    """
    if directory.exists() and (not directory.is_dir() or any(directory.iterdir())):
        raise BackupError(f"{directory} is not empty: export into a new or empty directory")
    created = not directory.exists()
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    return created


def _discard(directory: Path, created: bool) -> None:
    """Remove what a failed export wrote: ``directory`` itself if it made it, else its contents."""
    if created:
        shutil.rmtree(directory, ignore_errors=True)
        return
    for child in directory.iterdir():
        shutil.rmtree(child) if child.is_dir() else child.unlink()


async def _export(engine: AsyncEngine, storage: StorageBackend, directory: Path, concurrency: int) -> ExportReport:
    keys: set[str] = set()
    async with engine.connect() as conn:
        conn = await _snapshot(conn)
        created_at = utc_timestamp()
        revision = await schema_revision(conn)
        if not revision:
            database = engine.url.render_as_string(hide_password=True)
            raise BackupError(f"{database} has no vault tables: nothing to export (is the vault's database_url right?)")
        tables = [await _dump_table(conn, codec, directory, keys) for codec in map(RowCodec, vault_tables())]
        database = conn.dialect.name
    objects: dict[str, ObjectEntry] = {}
    without_bytes: list[str] = []

    async def save(key: str) -> None:
        try:
            size, sha256 = await save_object(storage, key, object_path(directory, key))
        except FileNotFoundError:
            without_bytes.append(key)
        else:
            objects[key] = ObjectEntry(size=size, sha256=sha256)

    await for_each(sorted(keys), save, limit=concurrency)
    manifest = Manifest(
        format=FORMAT,
        format_version=FORMAT_VERSION,
        mediavault_version=VERSION,
        created_at=created_at,
        database=database,
        schema_revision=revision,
        tables=tables,
        objects=dict(sorted(objects.items())),
    )
    await anyio.to_thread.run_sync(manifest.write, directory)
    return ExportReport(manifest, sorted(without_bytes))


async def _snapshot(conn: AsyncConnection) -> AsyncConnection:
    """Start ``conn``'s read transaction: every later read sees the database as of its first one."""
    if conn.dialect.name == "postgresql":
        return await conn.execution_options(isolation_level="REPEATABLE READ")
    if conn.dialect.name == "sqlite":
        # pysqlite opens a transaction only before a write: reads would each see the latest commit. In WAL mode an
        # explicit one reads from one snapshot, taken at its first read, and blocks no writer.
        await conn.execute(text("BEGIN"))
    return conn


async def _dump_table(conn: AsyncConnection, codec: RowCodec, directory: Path, keys: set[str]) -> TableEntry:
    """Write ``codec``'s table into its JSON Lines file, adding the storage keys its rows name to ``keys``."""
    name = str(codec.table.name)  # a quoted_name, which msgspec does not encode
    key_columns = [c.name for c in storage_key_columns_of(codec.table)]
    path = directory / table_path(name)
    path.parent.mkdir(parents=True, exist_ok=True)
    sha256 = hashlib.sha256()
    size = rows = 0
    with path.open("wb") as file:
        result = await conn.stream(select_rows(codec.table))
        async for batch in result.mappings().partitions(_BATCH):
            data = b"".join(map(codec.encode, batch))
            keys.update(row[c] for row in batch for c in key_columns if row[c])
            await anyio.to_thread.run_sync(file.write, data)
            sha256.update(data)
            size += len(data)
            rows += len(batch)
    return TableEntry(name=name, file=table_path(name), rows=rows, size=size, sha256=sha256.hexdigest())
