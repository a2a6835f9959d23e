"""Removing metadata (the GPS position above all) from MP4 and QuickTime videos, without re-encoding or moving a byte.

MP4, QuickTime (MOV), 3GP and M4V are ISO base media files (ISO/IEC 14496-12, and Apple's QuickTime File Format):
a sequence of boxes (atoms), each ``size`` (32 bits; 1 = a 64-bit size follows the type; 0 = to the end of the
file), ``type`` (4 bytes), then its payload; container boxes hold boxes. Where phones and cameras write what they
know of the place and the device:

* ``udta`` (user data) in ``moov`` or a ``trak``: ``©xyz`` (the ISO 6709 location Android and QuickTime write),
  ``loci`` (3GPP location), ``©mak``/``©mod``/``©swr`` (camera, software), ``XMP_``, ``meta`` (iTunes tags)...
* ``meta`` in ``moov`` or a ``trak``: QuickTime metadata, ``keys`` + ``ilst``, where iPhones write
  ``com.apple.quicktime.location.ISO6709``, ``make``, ``model``, ``software``, ``creationdate``;
* ``uuid`` boxes: XMP (``BE7ACFCB-97A9-42E8-9C71-999491E3AFAC``, with its ``exif:GPS*``) and vendors' blocks;
* a file-level ``meta`` or ``udta``.

None of them is needed to play the video. :func:`metadata_boxes` finds them, reading box headers only (``mdat`` is
never read); :class:`StrippedReader` serves the file with each of them turned into a ``free`` box of the same size
(ISO/IEC 14496-12 §8.1.2, allowed at any level) whose payload is zeroed. Nothing moves, so every chunk offset
(``stco``/``co64``) stays valid and the copy plays as the original did. Samples of timed metadata tracks (GoPro's
``gpmd``, ``camm``) live in ``mdat`` and are not touched.
"""

from __future__ import annotations

import io
import struct
from collections.abc import Callable
from typing import IO

__all__ = ("ISOBMFF_TYPES", "StrippedReader", "metadata_boxes")

ISOBMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2", "video/x-m4v"})
"""Sniffed media types of ISO base media files whose share copies are stripped."""

_DROP = frozenset({b"udta", b"meta", b"uuid"})
"""Boxes removed wherever they are found (file level, ``moov``, a track and its media boxes)."""
_DESCEND = frozenset({b"moov", b"trak", b"mdia", b"minf"})
"""Containers looked into for them."""
_FREE = b"free"
_MAX_DEPTH = 8


def metadata_boxes(fp: IO[bytes], size: int) -> list[tuple[int, int, int]]:
    """The metadata boxes of the ISO base media file ``fp`` of ``size`` bytes: ``(offset, header size, box size)``
    each, in file order; ``[]`` when it carries none.

    Raises:
        ValueError: not an ISO base media file (no box structure from the first byte), or a ``moov`` that is
            malformed or cut off (its metadata could not all be found).
    """
    found: list[tuple[int, int, int]] = []
    _walk(fp, 0, size, 0, found)
    return found


def _walk(fp: IO[bytes], start: int, end: int, depth: int, found: list[tuple[int, int, int]]) -> None:
    pos = start
    while pos + 8 <= end:
        fp.seek(pos)
        head = fp.read(16)
        if len(head) < 8:
            raise ValueError(f"box header cut off at byte {pos}")
        box_size, kind = struct.unpack(">I4s", head[:8])
        header = 8
        if box_size == 1:
            if len(head) < 16:
                raise ValueError(f"box header cut off at byte {pos}")
            box_size, header = struct.unpack(">Q", head[8:16])[0], 16
        elif box_size == 0:  # to the end of the enclosing space (only legal for the last box)
            box_size = end - pos
        if box_size < header:
            raise ValueError(f"box {kind!r} at byte {pos} has an invalid size {box_size}")
        if not all(32 <= b < 127 or b == 0xA9 for b in kind):
            raise ValueError(f"no box at byte {pos}")
        cut = pos + box_size > end
        if kind in _DROP:
            found.append((pos, header, min(box_size, end - pos)))
        elif kind in _DESCEND:
            if cut or depth >= _MAX_DEPTH:
                raise ValueError(f"box {kind.decode('latin-1')!r} at byte {pos} is cut off or nested too deep")
            _walk(fp, pos + header, pos + box_size, depth + 1, found)
        if cut:  # the file (or its container) ends inside this box: a truncated mdat, nothing more to find
            return
        pos += box_size


class StrippedReader(io.RawIOBase):
    """The file ``open()`` returns, read as it is except that each box of ``boxes`` (:func:`metadata_boxes`) reads
    as a ``free`` box of the same size with a zeroed payload. Opens the file at the first read; closing closes it.

    Args:
        open: opens the original file for blocking, seekable reads.
        boxes: ``(offset, header size, box size)`` of the boxes to blank.
    """

    def __init__(self, open: Callable[[], IO[bytes]], boxes: list[tuple[int, int, int]]) -> None:
        super().__init__()
        self._open = open
        self._file: IO[bytes] | None = None
        self._pos = 0
        self._patches = [(offset + 4, offset + 8, _FREE) for offset, _, _ in boxes]
        self._zeros = [(offset + header, offset + size) for offset, header, size in boxes]

    def readable(self) -> bool:
        """Always: a reader."""
        return True

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Read the next bytes of the stripped file into ``buffer``; 0 at its end."""
        if self._file is None:
            self._file = self._open()
        self._file.seek(self._pos)
        data = self._file.read(len(buffer))
        n = len(data)
        if not n:
            return 0
        chunk = bytearray(data)
        lo, hi = self._pos, self._pos + n
        for start, stop in self._zeros:
            if start < hi and stop > lo:
                a, b = max(start, lo) - lo, min(stop, hi) - lo
                chunk[a:b] = bytes(b - a)
        for start, stop, value in self._patches:
            if start < hi and stop > lo:
                a, b = max(start, lo), min(stop, hi)
                chunk[a - lo : b - lo] = value[a - start : b - start]
        buffer[:n] = chunk
        self._pos = hi
        return n

    def close(self) -> None:
        """Close the original file (if it was opened)."""
        if self._file is not None:
            self._file.close()
            self._file = None
        super().close()
