"""``mediavault import DIR``: an export into a fresh vault, all or nothing.

Order: the manifest and the target are checked (same schema revision, no rows, none of the objects stored yet);
then every object is written and its size and SHA-256 compared with the manifest; then every row is inserted in
one transaction, each table file's checksum compared before the commit. Any failure removes the objects written:
the target is left as it was.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import anyio
import anyio.to_thread
from sqlalchemy import Integer, Table, exists, func, select, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from mediavault.backup.manifest import BackupError, Manifest, ObjectEntry, TableEntry, object_path
from mediavault.backup.rows import RowCodec, schema_revision, vault_tables
from mediavault.backup.transfer import CHUNK, for_each, store_file
from mediavault.db.engine import migrate as migrate_database
from mediavault.storage.base import StorageBackend

__all__ = ("import_vault",)

_BATCH = 1000
"""Rows inserted per statement."""


async def import_vault(
    engine: AsyncEngine,
    storage: StorageBackend,
    directory: Path,
    *,
    concurrency: int = 8,
    migrate: bool = False,
    migrate_command: str = "mediavault migrate",
) -> Manifest:
    """Import the export at ``directory`` into an empty vault (``engine``, ``storage``).

    Args:
        migrate: apply the vault's migrations first, once the export's manifest was read (the vault's
            ``auto_migrate``); otherwise the database must be migrated already.
        migrate_command: the command that migrates this vault's database, named in the refusals.

    Raises:
        BackupError: not an export; the database is not migrated (without ``migrate``), at another schema revision
            or not empty; an object is already stored; a file is missing or its size or checksum differs from the
            manifest; a row cannot be inserted. Nothing is left written in any of these cases.
    """
    manifest = await anyio.to_thread.run_sync(Manifest.read, directory)
    if migrate:
        await migrate_database(engine)
    async with engine.connect() as conn:
        await _check_target(conn, manifest, migrate_command)
    started: list[str] = []
    try:
        await _write_objects(storage, directory, manifest.objects, started, concurrency)
        entries = {t.name: t for t in manifest.tables}
        async with engine.begin() as conn:
            for table in vault_tables():  # parents first, whatever order the manifest lists them in
                await _insert_table(conn, directory, entries[table.name])
            if conn.dialect.name == "postgresql":
                await _advance_sequences(conn)
    except BaseException:
        with anyio.CancelScope(shield=True):
            await for_each(started, storage.delete, limit=concurrency)
        raise
    return manifest


async def _check_target(conn: AsyncConnection, manifest: Manifest, migrate_command: str) -> None:
    revision = await schema_revision(conn)
    if not revision:
        raise BackupError(
            f"the database has no vault tables yet: run `{migrate_command}` first (or turn the vault's auto_migrate on)"
        )
    if revision != manifest.schema_revision:
        raise BackupError(
            f"the export is of schema revision {', '.join(manifest.schema_revision)} but the database is at "
            f"{', '.join(revision)}: import with the mediavault version that exported it "
            f"({manifest.mediavault_version}) into a database migrated by it"
        )
    names = [t.name for t in vault_tables()]
    if sorted(names) != sorted(t.name for t in manifest.tables):
        raise BackupError(
            "the export's tables are not this vault's: import with the mediavault version that exported it"
        )
    filled = [t.name for t in vault_tables() if await conn.scalar(select(exists().select_from(t)))]
    if filled:
        raise BackupError(
            f"the database is not empty ({', '.join(filled)} have rows): import into a new database "
            f"that `{migrate_command}` (or auto_migrate) made and nothing else used"
        )


async def _write_objects(
    storage: StorageBackend, directory: Path, objects: dict[str, ObjectEntry], started: list[str], concurrency: int
) -> None:
    """Store every object, checking each against the manifest. ``started`` gets each key before its write begins:
    the keys to delete on failure (none was stored before, and a write cancelled by another's failure may still
    have completed at an object store)."""

    async def check_free(key: str) -> None:
        if await storage.exists(key):
            raise BackupError(f"the storage already holds {key}: import into empty storage")

    async def store(key: str) -> None:
        path = object_path(directory, key)
        if not await anyio.to_thread.run_sync(path.is_file):
            raise BackupError(f"the export lacks {path.relative_to(directory)}, listed in its manifest")
        expected = objects[key]
        started.append(key)
        stored = await store_file(storage, key, path)
        if (stored.size, stored.checksum_sha256) != (expected.size, expected.sha256):
            raise BackupError(
                f"{path.relative_to(directory)} does not match the manifest ({stored.size} bytes, SHA-256 "
                f"{stored.checksum_sha256}; expected {expected.size} bytes, {expected.sha256}): the export is damaged"
            )

    await for_each(objects, check_free, limit=concurrency)
    await for_each(objects, store, limit=concurrency)


async def _insert_table(conn: AsyncConnection, directory: Path, entry: TableEntry) -> None:
    """Insert the rows of ``entry``'s file, then compare the file's size, checksum and row count with ``entry``."""
    codec = RowCodec(_table(entry.name))
    path = directory / entry.file
    sha256 = hashlib.sha256()
    size = rows = 0
    batch = []
    try:
        file = await anyio.to_thread.run_sync(path.open, "rb")
    except FileNotFoundError:
        raise BackupError(f"the export lacks {entry.file}, listed in its manifest") from None
    try:
        while lines := await anyio.to_thread.run_sync(file.readlines, CHUNK):
            for line in lines:
                sha256.update(line)
                size += len(line)
                rows += 1
                try:
                    batch.append(codec.decode(line))
                except ValueError as exc:
                    raise BackupError(f"{entry.file} line {rows}: {exc}") from None
                if len(batch) == _BATCH:
                    await _insert(conn, entry, batch)
                    batch = []
    finally:
        await anyio.to_thread.run_sync(file.close)
    if batch:
        await _insert(conn, entry, batch)
    if (size, sha256.hexdigest(), rows) != (entry.size, entry.sha256, entry.rows):
        raise BackupError(f"{entry.file} does not match the manifest (size, checksum or rows): the export is damaged")


def _table(name: str) -> Table:
    return next(t for t in vault_tables() if t.name == name)


async def _insert(conn: AsyncConnection, entry: TableEntry, rows: list[dict[str, object]]) -> None:
    try:
        await conn.execute(_table(entry.name).insert(), rows)
    except DBAPIError as exc:
        raise BackupError(f"{entry.file}: the database refused its rows: {exc.orig}") from None


async def _advance_sequences(conn: AsyncConnection) -> None:
    """PostgreSQL: move each integer key's sequence past the imported values, so new rows get fresh ones."""
    for table in vault_tables():
        for column in table.primary_key.columns:
            if not isinstance(column.type, Integer):
                continue
            sequence = await conn.scalar(
                text("SELECT pg_get_serial_sequence(:table, :column)"), {"table": table.name, "column": column.name}
            )
            if sequence is not None:
                highest = await conn.scalar(select(func.max(column)))
                if highest is not None:
                    await conn.execute(
                        text("SELECT setval(:sequence, :value)"), {"sequence": sequence, "value": highest}
                    )
