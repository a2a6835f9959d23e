"""``mediavault storage migrate --to URL``: every object of the configured storage copied to another backend.

Each object is read from the source (hashed on the way), written to the target, then read back from the target and
its size and SHA-256 compared. An object the target already holds with the source's size and SHA-256 is skipped,
so a run that was interrupted, or a second run after the vault wrote more, copies only what is missing or differs.
The source is never changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mediavault.backup.manifest import BackupError
from mediavault.backup.transfer import for_each, object_digest
from mediavault.storage.base import StorageBackend, StoredObject, write_stream

__all__ = ("CopyReport", "copy_storage")


@dataclass
class CopyReport:
    """What :func:`copy_storage` did.

    Attributes:
        copied: keys copied and verified in this run.
        verified: keys the target already held, same size and SHA-256 (skipped).
        failed: ``"<key>: <why>"`` for each object not copied, or whose copy did not read back the same.
        size: bytes of every object of the source.
    """

    copied: list[str] = field(default_factory=list)
    verified: list[str] = field(default_factory=list)
    failed: list[str] = field(default_factory=list)
    size: int = 0

    @property
    def complete(self) -> bool:
        """Every object of the source is at the target, verified."""
        return not self.failed

    def summary(self) -> str:
        """One line for a person."""
        total = len(self.copied) + len(self.verified) + len(self.failed)
        return (
            f"{total} objects ({self.size} bytes): {len(self.copied)} copied and verified, "
            f"{len(self.verified)} already at the target and verified, {len(self.failed)} failed"
        )


async def copy_storage(source: StorageBackend, target: StorageBackend, *, concurrency: int = 8) -> CopyReport:
    """Copy every object of ``source`` to ``target`` and verify each (size and SHA-256 read back), ``concurrency``
    at a time. Writers' temporary files are left out. An object that fails is reported, and the others go on.

    Raises:
        BackupError: ``source`` cannot list its objects.
    """
    try:
        objects = [o for o in await source.scan() if not o.temporary]
    except NotImplementedError as exc:
        raise BackupError(f"the configured storage cannot list its objects: {exc}") from None
    report = CopyReport(size=sum(o.size for o in objects))

    async def copy(found: StoredObject) -> None:
        key = found.key
        try:
            if await target.exists(key) and await object_digest(target, key) == await object_digest(source, key):
                report.verified.append(key)
                return
            written = await write_stream(await target.open_writer(key), source.read(key))
            stored = await object_digest(target, key)
        except Exception as exc:  # reported, and the other objects go on (FileNotFoundError: deleted meanwhile)
            report.failed.append(f"{key}: {type(exc).__name__}: {exc}")
            return
        if stored != (written.size, written.checksum_sha256):
            report.failed.append(
                f"{key}: the target holds {stored[0]} bytes with SHA-256 {stored[1]}, "
                f"{written.size} bytes with {written.checksum_sha256} were sent"
            )
        else:
            report.copied.append(key)

    await for_each(sorted(objects, key=lambda o: o.key), copy, limit=concurrency)
    report.copied.sort()
    report.verified.sort()
    report.failed.sort()
    return report
