"""Moving a vault: ``mediavault export`` / ``mediavault import`` (rows and bytes with a checksum manifest) and
``mediavault storage migrate`` (every object copied to another backend and verified).

* :mod:`.manifest` — the export's format (``manifest.json``, one JSON Lines file per table, the ``objects/`` tree),
  what :func:`export_vault` writes and :func:`import_vault` checks;
* :mod:`.rows` — the tables of the vault's :class:`~sqlalchemy.MetaData` in foreign-key order, their rows as JSON
  and back, the columns that hold storage keys;
* :mod:`.dump`, :mod:`.restore` — export and import;
* :mod:`.copy` — :func:`copy_storage`, the storage migration;
* :mod:`.transfer` — objects to files and back, hashed on the way, a few at a time;
* :mod:`.leftovers` — what a failed command created (data directory, secret key, SQLite file), removed again.

The format is documented in docs/deployment.md ("Backups: export and import").
"""

from __future__ import annotations

from mediavault.backup.copy import CopyReport, copy_storage
from mediavault.backup.dump import export_vault
from mediavault.backup.leftovers import Leftovers, sqlite_paths
from mediavault.backup.manifest import BackupError, Manifest
from mediavault.backup.restore import import_vault

__all__ = (
    "BackupError",
    "CopyReport",
    "Leftovers",
    "Manifest",
    "copy_storage",
    "export_vault",
    "import_vault",
    "sqlite_paths",
)
