"""Removing tags and attachments (a location above all) from WebM and Matroska files, without moving a byte.

Matroska (RFC 9559) and WebM, its subset, are EBML (RFC 8794): elements of an ID (1-4 bytes, its length marker
kept), a size (a variable-length integer, 1-8 bytes, its marker stripped; all ones = unknown, "to the end of the
parent"), then the data. After the ``EBML`` header comes a ``Segment`` whose children (level 1) include ``Tags``,
where writers put ``LOCATION`` / GPS simple tags, the recording device and free text, and ``Attachments``, where
a cover image (with its own EXIF GPS) may be stored. Neither is needed to play the file.

:func:`matroska_blanks` finds them, reading element headers only (with the ``SeekHead``'s short entries), and
returns patches that overwrite each with a ``Void`` element (ID ``0xEC``, RFC 9559 §5.1.9: ignored by readers) of
exactly the same total size, and each ``SeekHead`` entry pointing at one of them likewise: nothing moves, so every
``SeekPosition`` and ``Cues`` offset stays valid. A ``Cluster`` of unknown size (live recordings, browsers'
MediaRecorder) is walked block by block until the next level-1 element (RFC 8794 §6.2).
"""

from __future__ import annotations

from typing import IO

from mediavault.processing.patched import Patch

__all__ = ("MATROSKA_TYPES", "matroska_blanks")

MATROSKA_TYPES = frozenset({"video/webm", "video/x-matroska", "audio/webm", "audio/x-matroska"})
"""Sniffed media types of EBML (WebM, Matroska) files whose share copies are stripped."""

_EBML = 0x1A45DFA3
_SEGMENT = 0x18538067
_SEEK_HEAD, _SEEK, _SEEK_ID = 0x114D9B74, 0x4DBB, 0x53AB
_CLUSTER = 0x1F43B675
_TAGS, _ATTACHMENTS = 0x1254C367, 0x1941A469
_DROP = frozenset({_TAGS, _ATTACHMENTS})
_LEVEL1 = frozenset({_SEEK_HEAD, 0x1549A966, 0x1654AE6B, _CLUSTER, 0x1C53BB6B, 0x1043A770, _TAGS, _ATTACHMENTS})
"""The ``Segment``'s children (SeekHead, Info, Tracks, Cluster, Cues, Chapters, Tags, Attachments): where a
``Cluster`` of unknown size ends."""
_VOID = 0xEC
_MAX_SEEK_HEAD = 1024 * 1024


def matroska_blanks(fp: IO[bytes], size: int) -> list[Patch]:
    """The patches that turn the ``Tags`` and ``Attachments`` of the EBML file ``fp`` of ``size`` bytes, and the
    ``SeekHead`` entries pointing at them, into ``Void`` elements of the same sizes; ``[]`` when it has none.

    Raises:
        ValueError: not an EBML file, or its structure is malformed (a header cut off, an invalid size, an element
            of unknown size where one cannot be).
    """
    pos, first = 0, True
    patches: list[Patch] = []
    while pos < size:
        element, start, length = _header(fp, pos, size)
        if first and element != _EBML:
            raise ValueError("no EBML header")
        first = False
        end = size if length is None else start + length
        if element == _SEGMENT:
            _segment(fp, start, min(end, size), patches)
        elif length is None:
            raise ValueError(f"a top-level element of unknown size at byte {pos}")
        pos = end
    return patches


def _segment(fp: IO[bytes], pos: int, end: int, patches: list[Patch]) -> None:
    while pos < end:
        element, start, length = _header(fp, pos, end)
        if length is None:
            if element != _CLUSTER:
                raise ValueError(f"element {element:#x} of unknown size at byte {pos}")
            pos = _cluster_end(fp, start, end)
            continue
        stop = start + length
        if element in _DROP:
            patches.append(_void(pos, stop))
        elif element == _SEEK_HEAD and stop <= end:
            patches.extend(_dropped_seeks(fp, start, stop))
        pos = stop


def _cluster_end(fp: IO[bytes], pos: int, end: int) -> int:
    """Where a ``Cluster`` of unknown size whose data starts at ``pos`` ends: at the next level-1 element, or
    ``end``."""
    while pos < end:
        element, start, length = _header(fp, pos, end)
        if element in _LEVEL1 or element == _EBML:
            return pos
        if length is None:
            raise ValueError(f"element {element:#x} of unknown size at byte {pos}")
        pos = start + length
    return end


def _dropped_seeks(fp: IO[bytes], pos: int, end: int) -> list[Patch]:
    """The ``Seek`` entries of the ``SeekHead`` data ``pos``-``end`` that point at a dropped element, as voids."""
    if end - pos > _MAX_SEEK_HEAD:
        raise ValueError(f"a SeekHead of {end - pos} bytes")
    fp.seek(pos)
    data = fp.read(end - pos)
    patches = []
    at = 0
    while at < len(data):
        element, start, length = _parse(data, at, len(data), pos)
        if length is None or start + length > len(data):
            raise ValueError(f"a malformed SeekHead at byte {pos + at}")
        if element == _SEEK:
            inner = start
            while inner < start + length:
                child, child_start, child_length = _parse(data, inner, start + length, pos)
                if child_length is None:
                    raise ValueError(f"a malformed SeekHead at byte {pos + inner}")
                value = data[child_start : child_start + child_length]
                if child == _SEEK_ID and int.from_bytes(value, "big") in _DROP:
                    patches.append(_void(pos + at, pos + start + length))
                    break
                inner = child_start + child_length
        at = start + length
    return patches


def _header(fp: IO[bytes], pos: int, end: int) -> tuple[int, int, int | None]:
    """``(ID, data start, data size or None when unknown)`` of the element at ``pos``.

    Raises:
        ValueError: the header is cut off before ``end`` or invalid.
    """
    fp.seek(pos)
    head = fp.read(min(12, end - pos))
    element, start, length = _parse(head, 0, len(head), pos)
    return element, pos + start, length


def _parse(data: bytes, at: int, end: int, base: int) -> tuple[int, int, int | None]:
    """The element header at ``data[at:]``: ``(ID, data start in data, data size or None when unknown)``; ``base``
    is where ``data`` lies in the file (for messages). An ID keeps its length marker, a size loses it (RFC 8794 §4, §5).
    """
    element, width = _vint(data, at, end, base, 4)
    raw, size_width = _vint(data, at + width, end, base, 8)
    marker = 1 << (7 * size_width)
    length = raw - marker
    return element, at + width + size_width, None if length == marker - 1 else length


def _vint(data: bytes, at: int, end: int, base: int, widest: int) -> tuple[int, int]:
    """The EBML variable-length integer at ``data[at:]`` with its marker: ``(value, width in bytes)``."""
    if at >= end:
        raise ValueError(f"an element header cut off at byte {base + at}")
    width = 9 - data[at].bit_length()
    if width > widest or at + width > end:
        raise ValueError(f"an invalid or cut-off element header at byte {base + at}")
    return int.from_bytes(data[at : at + width], "big"), width


def _void(start: int, stop: int) -> Patch:
    """A ``Void`` element filling bytes ``start``-``stop`` exactly: its size field as wide as the room needs (up to
    8 bytes), zeros for data."""
    total = stop - start
    width = min(total - 1, 8)
    data = total - 1 - width
    return Patch(start, stop, bytes([_VOID]) + ((1 << (7 * width)) | data).to_bytes(width, "big"))
