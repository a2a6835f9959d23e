"""The export format: a directory holding

```
manifest.json                 what is in the export, with the size and SHA-256 of every file (below)
tables/<table name>.jsonl     one JSON object per row ({"column": value}), rows ordered by primary key
objects/<storage key>         the stored bytes, one file per object, at its storage key
```

``manifest.json`` (:class:`Manifest`) is written last, so a directory without it is an unfinished export.
Values in the table files are JSON as :mod:`msgspec` writes them: UUIDs and timestamps (RFC 3339, UTC) as strings,
binary as base64, JSON columns as they are; :mod:`mediavault.backup.rows` reads them back by the column's type.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import msgspec

from mediavault.storage.fsspec import validate_key

__all__ = (
    "FORMAT",
    "FORMAT_VERSION",
    "MANIFEST",
    "BackupError",
    "Manifest",
    "ObjectEntry",
    "TableEntry",
    "file_digest",
    "object_path",
    "table_path",
)

FORMAT = "mediavault-export"
"""``Manifest.format``: what the directory is."""
FORMAT_VERSION = 1
"""``Manifest.format_version``: raised when the layout changes in a way older importers cannot read."""
MANIFEST = "manifest.json"


class BackupError(Exception):
    """An export, import or storage migration refused or failed; the message says why and what to do."""


class TableEntry(msgspec.Struct, frozen=True):
    """One table's file.

    Attributes:
        name: the table's name (``mediavault_media``).
        file: the file's path relative to the export directory (``tables/mediavault_media.jsonl``).
        rows: how many rows (lines) it holds.
        size: the file's length in bytes.
        sha256: the file's SHA-256, lowercase hex.
    """

    name: str
    file: str
    rows: int
    size: int
    sha256: str


class ObjectEntry(msgspec.Struct, frozen=True):
    """One stored object, kept at ``objects/<key>``.

    Attributes:
        size: its length in bytes.
        sha256: its SHA-256, lowercase hex.
    """

    size: int
    sha256: str


class Manifest(msgspec.Struct, frozen=True):
    """``manifest.json``.

    Attributes:
        format: :data:`FORMAT`.
        format_version: :data:`FORMAT_VERSION`.
        mediavault_version: the version of the vault that exported.
        created_at: when the rows were read (RFC 3339, UTC).
        database: the source's database dialect (``sqlite``, ``postgresql``); any may be imported into any.
        schema_revision: the source's Alembic revisions (one per migration branch head), sorted; an import needs a
            database at exactly these.
        tables: every table of the vault, in foreign-key order (parents first: the order rows are inserted in).
        objects: every stored object a row points at, by storage key.
    """

    format: str
    format_version: int
    mediavault_version: str
    created_at: str
    database: str
    schema_revision: list[str]
    tables: list[TableEntry]
    objects: dict[str, ObjectEntry]

    def summary(self) -> str:
        """``"<n> rows of <n> tables and <n> objects (<n> bytes), from mediavault <version>"``: the version whose
        migrations made the schema (an import needs the same one; :attr:`schema_revision` lists their revisions)."""
        rows = sum(t.rows for t in self.tables)
        size = sum(o.size for o in self.objects.values())
        return (
            f"{rows} rows of {len(self.tables)} tables and {len(self.objects)} objects ({size} bytes), "
            f"from mediavault {self.mediavault_version}"
        )

    def write(self, directory: Path) -> None:
        """Write ``manifest.json`` into ``directory`` atomically (a temporary file renamed into place)."""
        partial = directory / f"{MANIFEST}.part"
        partial.write_bytes(msgspec.json.format(msgspec.json.encode(self), indent=2) + b"\n")
        partial.replace(directory / MANIFEST)

    @classmethod
    def read(cls, directory: Path) -> Manifest:
        """Read and check ``directory``'s manifest: its format, version and the paths it names.

        Raises:
            BackupError: no manifest (not an export, or an unfinished one), not this format or version, or a path
                that is not a safe relative one.
        """
        path = directory / MANIFEST
        if not path.is_file():
            raise BackupError(f"{directory} is not a finished export: it has no {MANIFEST}")
        try:
            manifest = msgspec.json.decode(path.read_bytes(), type=cls)
        except msgspec.DecodeError as exc:
            raise BackupError(f"{path} is not a Media Vault export manifest: {exc}") from None
        if manifest.format != FORMAT:
            raise BackupError(f"{path} is not a Media Vault export (format {manifest.format!r})")
        if manifest.format_version != FORMAT_VERSION:
            raise BackupError(
                f"{path} is format version {manifest.format_version}; this mediavault reads version {FORMAT_VERSION}"
            )
        for table in manifest.tables:
            if table.file != table_path(table.name):
                raise BackupError(f"{path}: table {table.name!r} must be in {table_path(table.name)}")
        for key in manifest.objects:
            try:
                validate_key(key)
            except ValueError as exc:
                raise BackupError(f"{path}: {exc}") from None
        return manifest


def table_path(name: str) -> str:
    """Where table ``name``'s rows are, relative to the export directory."""
    return f"tables/{name}.jsonl"


def object_path(directory: Path, key: str) -> Path:
    """Where the object at storage ``key`` is kept in the export at ``directory``.

    Raises:
        ValueError: ``key`` is not a safe relative storage key (:func:`~mediavault.storage.fsspec.validate_key`).
    """
    return directory / "objects" / validate_key(key)


def file_digest(path: Path) -> tuple[int, str]:
    """``(size, SHA-256 hex)`` of the file at ``path``, read in 1 MiB chunks (blocking: call from a worker thread)."""
    sha256 = hashlib.sha256()
    size = 0
    with path.open("rb") as file:
        while chunk := file.read(1 << 20):
            sha256.update(chunk)
            size += len(chunk)
    return size, sha256.hexdigest()
