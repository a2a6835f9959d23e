"""A file read through byte patches: the share copies of videos, whose metadata is blanked where it lies.

Both video containers the vault strips (:mod:`~mediavault.processing.isobmff`, :mod:`~mediavault.processing.matroska`)
find what to blank by reading headers only, and overwrite it in place with bytes of the same length, so no offset in
the file changes. :class:`PatchedReader` streams the original through those patches: a 1 GiB video costs no memory.
"""

from __future__ import annotations

import bisect
import io
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import IO

__all__ = ("Patch", "PatchedReader")


@dataclass(frozen=True, order=True)
class Patch:
    """Bytes ``start``-``stop`` (file offsets, ``stop`` exclusive) read as ``head`` followed by the byte ``fill``
    repeated up to ``stop`` (``head`` longer than the range is cut)."""

    start: int
    stop: int
    head: bytes = b""
    fill: int = 0

    def content(self, i: int, j: int) -> bytes:
        """The patch's bytes ``i``-``j``, relative to ``start``."""
        head = self.head[i:j]
        return head + bytes([self.fill]) * (j - i - len(head))


class PatchedReader(io.RawIOBase):
    """The file ``open()`` returns, read as it is except for the bytes of ``patches`` (which must not overlap).
    Opens the file at the first read; closing closes it.

    Args:
        open: opens the original file for blocking, seekable reads.
        patches: what to overwrite, in any order.
    """

    def __init__(self, open: Callable[[], IO[bytes]], patches: Sequence[Patch]) -> None:
        super().__init__()
        self._open = open
        self._file: IO[bytes] | None = None
        self._pos = 0
        self._patches = sorted(patches)
        self._starts = [patch.start for patch in self._patches]

    def readable(self) -> bool:
        """Always: a reader."""
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Read the next bytes of the patched file into ``buffer``; 0 at its end."""
        if self._file is None:
            self._file = self._open()
        self._file.seek(self._pos)
        data = self._file.read(len(buffer))
        n = len(data)
        if not n:
            return 0
        chunk = bytearray(data)
        lo, hi = self._pos, self._pos + n
        first = max(bisect.bisect_right(self._starts, lo) - 1, 0)
        for patch in self._patches[first : bisect.bisect_left(self._starts, hi)]:
            if patch.start < hi and patch.stop > lo:
                a, b = max(patch.start, lo), min(patch.stop, hi)
                chunk[a - lo : b - lo] = patch.content(a - patch.start, b - patch.start)
        buffer[:n] = chunk
        self._pos = hi
        return n

    def close(self) -> None:
        """Close the original file (if it was opened)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()
