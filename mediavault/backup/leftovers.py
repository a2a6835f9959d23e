"""What a failed ``export`` or ``import`` command created is removed again: a new data directory, its secret key, a
new SQLite database file, so a command that fails leaves no files behind (``docs/cli.md``)."""

from __future__ import annotations

import shutil
from pathlib import Path
from types import TracebackType

from sqlalchemy.engine import make_url

__all__ = ("Leftovers", "sqlite_paths")

_COMPANIONS = ("-wal", "-shm", "-journal")
"""The files SQLite keeps beside a database file."""


def sqlite_paths(url: str) -> list[Path]:
    """The database file of a SQLite ``url`` and its companions (``-wal``, ``-shm``, ``-journal``), after the
    outermost missing directory above it (which opening the database creates); ``[]`` for other databases and an
    in-memory SQLite one."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or not parsed.database or parsed.database == ":memory:":
        return []
    file = Path(parsed.database).expanduser().resolve()
    missing = [parent for parent in file.parents if not parent.exists()]
    return [*missing[-1:], file, *(file.with_name(file.name + suffix) for suffix in _COMPANIONS)]


class Leftovers:
    """Paths a command may create, removed again when its block raises.

    ``watch`` records those of its paths that do not exist yet; on an exception they are removed, last watched first
    (a directory with everything in it). Nothing is removed when the block succeeds.
    """

    def __init__(self) -> None:
        self._new: list[Path] = []

    def watch(self, *paths: Path) -> None:
        """Remove each of ``paths`` that does not exist now if the block fails."""
        self._new.extend(path for path in paths if not path.exists())

    def __enter__(self) -> Leftovers:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, traceback: TracebackType | None
    ) -> None:
        if kind is None:
            return
        for path in reversed(self._new):
            if path.is_dir():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)
