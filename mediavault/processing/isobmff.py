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
* a file-level ``meta`` or ``udta``;
* timed metadata tracks (handler ``meta`` or ``camm``; sample entries ``gpmd``, GoPro's GPS and sensors, ``camm``,
  Google's camera motion metadata with its GPS, ``mebx``, Apple's): their samples, in ``mdat``.

None of them is needed to play the video. :func:`metadata_boxes` finds them, reading box headers and the metadata
tracks' sample tables only (``mdat`` is never read); :class:`StrippedReader` serves the file with each box turned
into a ``free`` box of the same size (ISO/IEC 14496-12 §8.1.2, allowed at any level) whose payload is zeroed, and
the metadata tracks' samples zeroed where they lie. Nothing moves, so every chunk offset (``stco``/``co64``) stays
valid and the copy plays as the original did.
"""

from __future__ import annotations

import bisect
import io
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import IO

__all__ = ("ISOBMFF_TYPES", "Blanks", "StrippedReader", "metadata_boxes")

ISOBMFF_TYPES = frozenset({"video/mp4", "video/quicktime", "video/3gpp", "video/3gpp2", "video/x-m4v"})
"""Sniffed media types of ISO base media files whose share copies are stripped."""

_DROP = frozenset({b"udta", b"meta", b"uuid"})
"""Boxes removed wherever they are found (file level, ``moov``, a track and its media boxes)."""
_DESCEND = frozenset({b"moov", b"trak", b"mdia", b"minf"})
"""Containers looked into for them."""
_FREE = b"free"
_MAX_DEPTH = 8
_METADATA_HANDLERS = frozenset({b"meta", b"camm"})
_METADATA_ENTRIES = frozenset({b"gpmd", b"camm", b"mebx"})
"""Timed metadata tracks whose samples are zeroed: by handler type (``hdlr``) or sample entry (``stsd``) format."""
_MAX_TABLE_BYTES = 64 * 1024 * 1024
"""Largest sample table read (a track of 16 million samples)."""


@dataclass
class Blanks:
    """What a stripped copy blanks: ``boxes`` ``(offset, header size, box size)`` turned into zeroed ``free`` boxes,
    ``samples`` ``(start, stop)`` byte ranges of timed metadata samples zeroed."""

    boxes: list[tuple[int, int, int]] = field(default_factory=list)
    samples: list[tuple[int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.boxes or self.samples)


def metadata_boxes(fp: IO[bytes], size: int) -> Blanks:
    """The metadata of the ISO base media file ``fp`` of ``size`` bytes: its boxes and its timed metadata samples,
    in file order; empty (false) when it carries none.

    Raises:
        ValueError: not an ISO base media file (no box structure from the first byte), a ``moov`` that is
            malformed or cut off, or a metadata track whose samples cannot be located (its metadata could not all
            be found).
    """
    found = Blanks()
    _walk(fp, 0, size, 0, found)
    found.samples.sort()
    return found


def _children(fp: IO[bytes], start: int, end: int) -> list[tuple[bytes, int, int, int, bool]]:
    """``(type, offset, header size, size, cut off)`` of the boxes between ``start`` and ``end``; the last one may be
    cut off (it runs past ``end``), and then is the last.

    Raises:
        ValueError: a header cut off, a size smaller than its header, or bytes that are no box type.
    """
    boxes = []
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
        boxes.append((kind, pos, header, min(box_size, end - pos), cut))
        if cut:  # the file (or its container) ends inside this box: a truncated mdat, nothing more to find
            break
        pos += box_size
    return boxes


def _walk(fp: IO[bytes], start: int, end: int, depth: int, found: Blanks) -> None:
    for kind, pos, header, size, cut in _children(fp, start, end):
        if kind in _DROP:
            found.boxes.append((pos, header, size))
        elif kind in _DESCEND:
            if cut or depth >= _MAX_DEPTH:
                raise ValueError(f"box {kind.decode('latin-1')!r} at byte {pos} is cut off or nested too deep")
            if kind == b"trak":
                found.samples.extend(_metadata_samples(fp, pos + header, pos + size))
            _walk(fp, pos + header, pos + size, depth + 1, found)


def _child(fp: IO[bytes], box: tuple[int, int] | None, kind: bytes) -> tuple[int, int] | None:
    """``(payload start, end)`` of the first ``kind`` box inside the payload ``box``, or ``None``."""
    if box is None:
        return None
    for found, pos, header, size, cut in _children(fp, *box):
        if found == kind and not cut:
            return pos + header, pos + size
    return None


def _payload(fp: IO[bytes], box: tuple[int, int]) -> bytes:
    start, end = box
    if end - start > _MAX_TABLE_BYTES:
        raise ValueError(f"a sample table of {end - start} bytes")
    fp.seek(start)
    data = fp.read(end - start)
    if len(data) != end - start:
        raise ValueError(f"box cut off at byte {start}")
    return data


def _metadata_samples(fp: IO[bytes], start: int, end: int) -> list[tuple[int, int]]:
    """Byte ranges of the samples of the track ``trak`` (payload ``start``-``end``) if it is a timed metadata track,
    else ``[]`` (ISO/IEC 14496-12 §8.7: ``stsz`` sizes, ``stsc`` samples per chunk, ``stco``/``co64`` offsets)."""
    mdia = _child(fp, (start, end), b"mdia")
    hdlr = _child(fp, mdia, b"hdlr")
    stbl = _child(fp, _child(fp, mdia, b"minf"), b"stbl")
    stsd = _child(fp, stbl, b"stsd")
    handler = _payload(fp, hdlr)[8:12] if hdlr else b""
    entry = _payload(fp, stsd)[12:16] if stsd else b""
    if handler not in _METADATA_HANDLERS and entry not in _METADATA_ENTRIES:
        return []
    stsz, stsc = _child(fp, stbl, b"stsz"), _child(fp, stbl, b"stsc")
    stco, co64 = _child(fp, stbl, b"stco"), _child(fp, stbl, b"co64")
    if stsz is None or stsc is None or (stco is None and co64 is None):
        raise ValueError("a timed metadata track whose samples cannot be located")
    try:
        sizes_box = _payload(fp, stsz)
        uniform, count = struct.unpack(">II", sizes_box[4:12])
        sizes = [uniform] * count if uniform else list(struct.unpack(f">{count}I", sizes_box[12 : 12 + 4 * count]))
        runs_box = _payload(fp, stsc)
        runs = [struct.unpack(">III", runs_box[8 + 12 * i : 20 + 12 * i])[:2] for i in range(_count(runs_box))]
        if co64 is not None:
            offsets_box = _payload(fp, co64)
            offsets = struct.unpack(f">{_count(offsets_box)}Q", offsets_box[8 : 8 + 8 * _count(offsets_box)])
        else:
            assert stco is not None
            offsets_box = _payload(fp, stco)
            offsets = struct.unpack(f">{_count(offsets_box)}I", offsets_box[8 : 8 + 4 * _count(offsets_box)])
    except struct.error as exc:
        raise ValueError(f"a malformed sample table: {exc}") from exc
    ranges, sample = [], 0
    for index, offset in enumerate(offsets, start=1):
        per_chunk = next((n for first, n in reversed(runs) if first <= index), 0)
        length = sum(sizes[sample : sample + per_chunk])
        sample += per_chunk
        if length:
            ranges.append((offset, offset + length))
    return ranges


def _count(box: bytes) -> int:
    return int(struct.unpack(">I", box[4:8])[0])


class StrippedReader(io.RawIOBase):
    """The file ``open()`` returns, read as it is except that each box of ``boxes`` (:func:`metadata_boxes`) reads
    as a ``free`` box of the same size with a zeroed payload. Opens the file at the first read; closing closes it.

    Args:
        open: opens the original file for blocking, seekable reads.
        blanks: what to blank (:func:`metadata_boxes`).
    """

    def __init__(self, open: Callable[[], IO[bytes]], blanks: Blanks) -> None:
        super().__init__()
        self._open = open
        self._file: IO[bytes] | None = None
        self._pos = 0
        self._patches = [(offset + 4, offset + 8, _FREE) for offset, _, _ in blanks.boxes]
        zeros = sorted([(offset + header, offset + size) for offset, header, size in blanks.boxes] + blanks.samples)
        self._zero_starts = [start for start, _ in zeros]
        self._zeros = zeros

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
        first = max(bisect.bisect_right(self._zero_starts, lo) - 1, 0)
        for start, stop in self._zeros[first : bisect.bisect_left(self._zero_starts, hi)]:
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
