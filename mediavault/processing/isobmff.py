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
  Google's camera motion metadata with its GPS, ``mebx``, Apple's): their samples, in ``mdat``;
* subtitle and text tracks (handler ``sbtl``, ``text`` or ``subt``; sample entries ``tx3g``, ``text``, ``wvtt``,
  ``stpp``, ``stxt``, ``sbtt``), where drones write their position and height once a second.

None of them is needed to play the video. :func:`metadata_boxes` finds them, reading box headers and those tracks'
sample tables only (``mdat`` is never read); :meth:`Blanks.patches` turns each box into a ``free`` box of the same
size (ISO/IEC 14496-12 §8.1.2, allowed at any level) whose payload is zeroed, zeroes the metadata tracks' samples
where they lie, and turns each 3GPP/QuickTime text sample (``tx3g``, ``text``: a 16-bit text length, the text,
then modifier boxes; 3GPP TS 26.245 §5.17) into one of the same size holding only spaces (or, over 64 KiB, an empty
text and one ``free`` modifier box); samples of the other subtitle formats (WebVTT, TTML, plain text) are zeroed:
the video plays, the subtitles show nothing. Nothing moves, so every chunk offset (``stco``/``co64``) stays valid.
:class:`~mediavault.processing.patched.PatchedReader` serves the copy.
"""

from __future__ import annotations

import struct
from dataclasses import dataclass, field
from typing import IO

from mediavault.processing.patched import Patch

__all__ = ("ISOBMFF_TYPES", "Blanks", "metadata_boxes")

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
_TEXT_HANDLERS = frozenset({b"sbtl", b"text", b"subt"})
_TEXT_ENTRIES = frozenset({b"tx3g", b"text", b"wvtt", b"stpp", b"stxt", b"sbtt"})
"""Subtitle and text tracks, whose samples are blanked too (some drones write their GPS as subtitles)."""
_LENGTH_PREFIXED = frozenset({b"tx3g", b"text"})
"""Text sample entries whose samples start with a 16-bit text length (3GPP TS 26.245 §5.17, QuickTime text)."""
_MAX_TABLE_BYTES = 64 * 1024 * 1024
"""Largest sample table read (a track of 16 million samples)."""


@dataclass
class Blanks:
    """What a stripped copy blanks: ``boxes`` ``(offset, header size, box size)`` turned into zeroed ``free`` boxes,
    ``samples`` ``(start, stop)`` byte ranges of timed metadata samples zeroed, ``texts`` ``(start, stop)`` text
    samples (16-bit length, text) rewritten as spaces."""

    boxes: list[tuple[int, int, int]] = field(default_factory=list)
    samples: list[tuple[int, int]] = field(default_factory=list)
    texts: list[tuple[int, int]] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.boxes or self.samples or self.texts)

    def patches(self) -> list[Patch]:
        """The byte patches that make the stripped copy (for :class:`~mediavault.processing.patched.PatchedReader`)."""
        patches = [Patch(start, stop) for start, stop in self.samples]
        for offset, header, size in self.boxes:  # the type becomes ``free``; a 64-bit size field stays
            patches += [Patch(offset + 4, offset + 8, _FREE), Patch(offset + header, offset + size)]
        patches += [_blank_text(start, stop) for start, stop in self.texts]
        return patches


def _blank_text(start: int, stop: int) -> Patch:
    """A text sample of the same size without its text: all spaces, or an empty text and a ``free`` modifier box
    when the rest does not fit a 16-bit length."""
    size = stop - start
    if size < 2:
        return Patch(start, stop)
    if size - 2 <= 0xFFFF:
        return Patch(start, stop, struct.pack(">H", size - 2), fill=0x20)
    return Patch(start, stop, struct.pack(">HI4s", 0, size - 2, _FREE))


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
    found.texts.sort()
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
                _track_samples(fp, pos + header, pos + size, found)
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


def _track_samples(fp: IO[bytes], start: int, end: int, found: Blanks) -> None:
    """Add the samples of the track ``trak`` (payload ``start``-``end``) to ``found`` if it is a timed metadata or a
    text track (ISO/IEC 14496-12 §8.7: ``stsz`` sizes, ``stsc`` samples per chunk, ``stco``/``co64`` offsets)."""
    mdia = _child(fp, (start, end), b"mdia")
    hdlr = _child(fp, mdia, b"hdlr")
    stbl = _child(fp, _child(fp, mdia, b"minf"), b"stbl")
    stsd = _child(fp, stbl, b"stsd")
    handler = _payload(fp, hdlr)[8:12] if hdlr else b""
    entry = _payload(fp, stsd)[12:16] if stsd else b""
    text = handler in _TEXT_HANDLERS or entry in _TEXT_ENTRIES
    if not text and handler not in _METADATA_HANDLERS and entry not in _METADATA_ENTRIES:
        return
    samples = _sample_ranges(fp, stbl)
    if text and entry in _LENGTH_PREFIXED:
        found.texts.extend(samples)
        return
    for sample in samples:  # adjacent samples (one chunk) as one range
        if found.samples and found.samples[-1][1] == sample[0]:
            found.samples[-1] = (found.samples[-1][0], sample[1])
        else:
            found.samples.append(sample)


def _sample_ranges(fp: IO[bytes], stbl: tuple[int, int] | None) -> list[tuple[int, int]]:
    """``(start, stop)`` of every non-empty sample of the sample table ``stbl``, in table order.

    Raises:
        ValueError: the table is missing a box or malformed (the samples cannot be located).
    """
    stsz, stsc = _child(fp, stbl, b"stsz"), _child(fp, stbl, b"stsc")
    stco, co64 = _child(fp, stbl, b"stco"), _child(fp, stbl, b"co64")
    if stsz is None or stsc is None or (stco is None and co64 is None):
        raise ValueError("a metadata or text track whose samples cannot be located")
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
        at = offset
        for length in sizes[sample : sample + per_chunk]:
            if length:
                ranges.append((at, at + length))
            at += length
        sample += per_chunk
    return ranges


def _count(box: bytes) -> int:
    return int(struct.unpack(">I", box[4:8])[0])
