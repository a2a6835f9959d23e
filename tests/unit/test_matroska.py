"""Stripping WebM/Matroska tags and attachments by overwriting them with Void elements of the same size
(mediavault.processing.matroska), on real EBML files built element by element (tests.files.make_webm)."""

from __future__ import annotations

import io

import pytest

from mediavault.processing.matroska import _void, matroska_blanks
from mediavault.processing.patched import PatchedReader
from tests.files import MATROSKA_FRAME, PARIS_ISO6709, make_jpeg, make_photo, make_webm

SEGMENT_CHILDREN = {
    0x114D9B74: "SeekHead",
    0x1549A966: "Info",
    0x1654AE6B: "Tracks",
    0x1F43B675: "Cluster",
    0x1C53BB6B: "Cues",
    0x1941A469: "Attachments",
    0x1254C367: "Tags",
    0xEC: "Void",
}


def element(data: bytes, pos: int) -> tuple[int, int, int | None]:
    """``(ID, data start, data size or None when unknown)`` of the element at ``pos``: an EBML reader of the test's
    own (RFC 8794 §4-5), independent of the one under test."""
    width = 9 - data[pos].bit_length()
    ident = int.from_bytes(data[pos : pos + width], "big")
    size_width = 9 - data[pos + width].bit_length()
    raw = int.from_bytes(data[pos + width : pos + width + size_width], "big") - (1 << (7 * size_width))
    size = None if raw == (1 << (7 * size_width)) - 1 else raw
    return ident, pos + width + size_width, size


def segment(data: bytes) -> tuple[int, list[tuple[str, int]]]:
    """The segment's data start and its children ``(name, offset)``; a Cluster of unknown size ends at the next
    known child."""
    ident, start, size = element(data, 0)
    assert ident == 0x1A45DFA3 and size is not None
    ident, body, _ = element(data, start + size)
    assert ident == 0x18538067
    children, pos = [], body
    while pos < len(data):
        ident, start, size = element(data, pos)
        children.append((SEGMENT_CHILDREN[ident], pos))
        if size is None:  # the live Cluster: its SimpleBlock, then the next level-1 element
            _, block, block_size = element(data, element(data, start)[1] + 1)
            assert block_size is not None
            pos = block + block_size
        else:
            pos = start + size
        assert pos <= len(data)
    return body, children


def seeks(data: bytes) -> list[tuple[int, int]]:
    """``(SeekID, SeekPosition)`` of the SeekHead's entries (Void entries skipped)."""
    _, children = segment(data)
    _, start, size = element(data, children[0][1])
    assert size is not None
    out, pos = [], start
    while pos < start + size:
        ident, inner, length = element(data, pos)
        assert length is not None
        if ident == 0x4DBB:
            _, id_at, id_size = element(data, inner)
            _, position_at, position_size = element(data, id_at + id_size)
            entry = data[id_at : id_at + id_size], data[position_at : position_at + position_size]
            out.append((int.from_bytes(entry[0], "big"), int.from_bytes(entry[1], "big")))
        pos = inner + length
    return out


def strip(data: bytes) -> bytes:
    patches = matroska_blanks(io.BytesIO(data), len(data))
    with PatchedReader(lambda: io.BytesIO(data), patches) as reader:
        return reader.read()


@pytest.mark.parametrize("live", [False, True], ids=["sized", "live-unknown-sizes"])
@pytest.mark.parametrize("doc_type", [b"webm", b"matroska"])
def test_tags_and_attachments_become_voids_of_the_same_size(live: bool, doc_type: bytes) -> None:
    cover = make_photo(gps=(48.8584, 2.2945))
    original = make_webm(cover=cover, doc_type=doc_type, live=live)
    names = [name for name, _ in segment(original)[1]]
    assert names == ["SeekHead", "Info", "Tracks", "Cluster", "Cues", "Attachments", "Tags"]
    stripped = strip(original)
    assert len(stripped) == len(original)
    for secret in (PARIS_ISO6709.encode(), b"LOCATION", b"Pixel8", b"cover.jpg", cover):
        assert secret in original and secret not in stripped
    body, children = segment(stripped)  # still parses: the same elements at the same offsets, two now Void
    assert [name for name, _ in children] == ["SeekHead", "Info", "Tracks", "Cluster", "Cues", "Void", "Void"]
    assert [pos for _, pos in children] == [pos for _, pos in segment(original)[1]]
    assert stripped.count(MATROSKA_FRAME) == 1  # the video frame, untouched
    # the SeekHead keeps its entries for Info, Tracks and Cues (still pointing at them), and voids the other two
    kept = seeks(stripped)
    assert [ident for ident, _ in kept] == [0x1549A966, 0x1654AE6B, 0x1C53BB6B]
    for ident, position in kept:
        assert element(stripped, body + position)[0] == ident
    assert [ident for ident, _ in seeks(original)][3:] == [0x1941A469, 0x1254C367]
    # every byte outside the blanked elements is the original's
    patches = matroska_blanks(io.BytesIO(original), len(original))
    assert len(patches) == 4
    outside = [i for i in range(len(original)) if not any(p.start <= i < p.stop for p in patches)]
    assert all(stripped[i] == original[i] for i in outside)
    assert matroska_blanks(io.BytesIO(stripped), len(stripped)) == []  # nothing left to strip


def test_a_file_without_tags_or_attachments_has_nothing_to_strip() -> None:
    data = make_webm(location=None)
    assert matroska_blanks(io.BytesIO(data), len(data)) == []


@pytest.mark.parametrize("room", [3, 9, 10, 200])
def test_voids_of_any_size_fill_exactly_their_room(room: int) -> None:
    patch = _void(100, 100 + room)
    void = patch.content(0, room)
    ident, start, size = element(void, 0)
    assert ident == 0xEC and start + (size or 0) == room


def test_not_ebml_or_malformed_is_refused() -> None:
    with pytest.raises(ValueError, match="no EBML header"):
        matroska_blanks(io.BytesIO(make_jpeg()), len(make_jpeg()))
    data = make_webm()
    cut = data[:50]  # inside the SeekHead's header: what follows cannot be read
    with pytest.raises(ValueError):
        matroska_blanks(io.BytesIO(cut + b"\x00"), len(cut) + 1)
    broken = bytearray(data)
    segment_at = element(data, 0)[1] + (element(data, 0)[2] or 0)
    broken[segment_at + 12] = 0x00  # the first child's ID: no valid length marker
    with pytest.raises(ValueError, match="invalid"):
        matroska_blanks(io.BytesIO(bytes(broken)), len(broken))


def test_the_reader_reads_in_any_chunk_size() -> None:
    data = make_webm(cover=make_jpeg())
    whole = strip(data)
    patches = matroska_blanks(io.BytesIO(data), len(data))
    for size in (1, 3, 7, 64, 4096):
        with PatchedReader(lambda: io.BytesIO(data), patches) as reader:
            parts = []
            while part := reader.read(size):
                parts.append(part)
            assert b"".join(parts) == whole
