"""Stripping MP4/QuickTime metadata by blanking boxes in place (mediavault.processing.isobmff), on real ISO base media
files built box by box (tests.files.make_mp4)."""

from __future__ import annotations

import io
import struct

import pytest

from mediavault.processing.isobmff import Blanks, metadata_boxes
from mediavault.processing.patched import PatchedReader
from tests.files import PARIS_ISO6709, make_mp4

SAMPLES = (b"first sample of the video", b"second sample")


def boxes(data: bytes, start: int = 0, end: int | None = None) -> list[tuple[bytes, int, int, int]]:
    """``(type, offset, header, size)`` of the boxes of ``data[start:end]``."""
    end = len(data) if end is None else end
    out, pos = [], start
    while pos + 8 <= end:
        size, kind = struct.unpack(">I4s", data[pos : pos + 8])
        header = 8
        if size == 1:
            size, header = struct.unpack(">Q", data[pos + 8 : pos + 16])[0], 16
        out.append((kind, pos, header, size))
        pos += size
    return out


def children(data: bytes, kind: bytes) -> list[bytes]:
    [(_, offset, header, size)] = [b for b in boxes(data) if b[0] == kind]
    return [b[0] for b in boxes(data, offset + header, offset + size)]


def strip(data: bytes) -> bytes:
    found = metadata_boxes(io.BytesIO(data), len(data))
    with PatchedReader(lambda: io.BytesIO(data), found.patches()) as reader:
        return reader.read()


def chunk_offset(data: bytes) -> int:
    at = data.index(b"stco") + 12  # after the type: version and flags, entry count, first offset
    return struct.unpack(">I", data[at : at + 4])[0]


@pytest.mark.parametrize("brand", [b"isom", b"qt  ", b"3gp4"])
def test_gps_camera_and_xmp_are_blanked_and_nothing_moves(brand: bytes) -> None:
    original = make_mp4(brand=brand, apple_location=PARIS_ISO6709, xmp_gps=True, samples=SAMPLES)
    assert children(original, b"moov") == [b"mvhd", b"trak", b"udta", b"meta"]
    stripped = strip(original)
    assert len(stripped) == len(original)
    assert [b[0] for b in boxes(stripped)] == [b"ftyp", b"free", b"moov", b"mdat"]  # the XMP uuid box is free space
    assert children(stripped, b"moov") == [b"mvhd", b"trak", b"free", b"free"]
    for secret in (b"48.8584", b"+002.2945", b"Pixel8", b"com.apple.quicktime.location", b"GPSLatitude", b"xmpmeta"):
        assert secret in original and secret not in stripped
    # every chunk offset still points at the same samples: the video plays as before
    offset = chunk_offset(stripped)
    assert offset == chunk_offset(original) and stripped[offset : offset + len(SAMPLES[0])] == SAMPLES[0]
    # outside the blanked boxes every byte is the original's
    blanked = metadata_boxes(io.BytesIO(original), len(original))
    assert blanked.samples == []  # no timed metadata track here
    kept = bytearray(original)
    for start, header, size in blanked.boxes:
        kept[start + 4 : start + 8] = b"free"
        kept[start + header : start + size] = bytes(size - header)
    assert bytes(kept) == stripped


def test_a_video_without_metadata_has_nothing_to_strip() -> None:
    data = make_mp4(location=None, samples=SAMPLES)
    assert not metadata_boxes(io.BytesIO(data), len(data))


def test_64_bit_box_sizes_and_a_cut_off_mdat() -> None:
    data = make_mp4(samples=SAMPLES, large_mdat=True)
    assert boxes(data)[-1][:3] == (b"mdat", len(data) - 16 - sum(map(len, SAMPLES)), 16)
    assert PARIS_ISO6709.encode() not in strip(data)
    cut = data[:-5]  # an upload cut off in its last box: what is there is still stripped
    assert PARIS_ISO6709.encode() not in strip(cut) and len(strip(cut)) == len(cut)


def test_a_malformed_or_cut_off_moov_is_refused() -> None:
    data = make_mp4(samples=SAMPLES)
    [(_, offset, _, _)] = [b for b in boxes(data) if b[0] == b"moov"]
    with pytest.raises(ValueError, match="cut off"):
        metadata_boxes(io.BytesIO(data[: offset + 40]), offset + 40)
    broken = bytearray(data)
    broken[offset + 8 : offset + 12] = struct.pack(">I", 3)  # mvhd claims 3 bytes: smaller than its own header
    with pytest.raises(ValueError, match="invalid size"):
        metadata_boxes(io.BytesIO(bytes(broken)), len(broken))
    with pytest.raises(ValueError, match="no box"):
        metadata_boxes(io.BytesIO(b"\x00\x00\x00\x10\x01\x02\x03\x04" + bytes(8)), 16)


def test_the_samples_of_a_gps_track_are_zeroed_the_video_samples_kept() -> None:
    """GoPro cameras record their GPS as a timed metadata track (handler ``meta``, sample entry ``gpmd``) whose
    samples lie in ``mdat`` between the video's."""
    gps = (b"GPS5 lat=48.85840 lon=2.29450", b"GPS5 lat=48.85841 lon=2.29452", b"GPS5 lat=48.85843 lon=2.29455")
    original = make_mp4(location=None, samples=SAMPLES, gps_samples=gps)
    assert children(original, b"moov") == [b"mvhd", b"trak", b"trak"]
    blanked = metadata_boxes(io.BytesIO(original), len(original))
    assert blanked.boxes == [] and blanked.texts == []
    assert sum(stop - start for start, stop in blanked.samples) == len(b"".join(gps))  # adjacent: one range
    stripped = strip(original)
    assert len(stripped) == len(original) and b"GPS5" not in stripped and b"48.858" not in stripped
    assert stripped.replace(b"\x00", b"") == original.replace(b"".join(gps), b"").replace(b"\x00", b"")
    video = chunk_offset(original)
    assert stripped[video : video + len(SAMPLES[0])] == SAMPLES[0]
    assert children(stripped, b"moov") == [b"mvhd", b"trak", b"trak"]  # the track stays, its samples are blank


def test_the_reader_reads_in_any_chunk_size() -> None:
    data = make_mp4(apple_location=PARIS_ISO6709, xmp_gps=True, samples=SAMPLES, gps_samples=(b"GPS" * 9,) * 4)
    whole = strip(data)
    found = metadata_boxes(io.BytesIO(data), len(data))
    for size in (1, 3, 7, 64, 4096):
        with PatchedReader(lambda: io.BytesIO(data), found.patches()) as reader:
            parts = []
            while part := reader.read(size):
                parts.append(part)
            assert b"".join(parts) == whole


def test_gps_in_a_subtitle_track_is_blanked_to_spaces_of_the_same_size() -> None:
    """Drones write their position as 3GPP timed text (handler ``sbtl``, sample entry ``tx3g``): each sample keeps
    its size and becomes a valid text sample of spaces; the video samples and every chunk offset stay."""
    lines = (b"GPS (48.8584, 2.2945, 35) ISO 100", b"GPS (48.8585, 2.2946, 36) ISO 100 F2.8")
    original = make_mp4(location=None, samples=SAMPLES, subtitles=lines)
    assert children(original, b"moov") == [b"mvhd", b"trak", b"trak"]
    blanked = metadata_boxes(io.BytesIO(original), len(original))
    assert blanked.boxes == [] and blanked.samples == [] and len(blanked.texts) == 2
    stripped = strip(original)
    assert len(stripped) == len(original) and b"48.858" not in stripped and b"GPS" not in stripped
    for (start, stop), line in zip(blanked.texts, lines, strict=True):
        assert original[start:stop] == struct.pack(">H", len(line)) + line
        assert stripped[start:stop] == struct.pack(">H", len(line)) + b" " * len(line)  # a valid, blank subtitle
    assert stripped[: blanked.texts[0][0]] == original[: blanked.texts[0][0]]  # all before the subtitles: intact
    video = chunk_offset(stripped)
    assert video == chunk_offset(original) and stripped[video : video + len(SAMPLES[0])] == SAMPLES[0]


def test_other_subtitle_formats_are_zeroed() -> None:
    """WebVTT (``wvtt``), TTML (``stpp``) and plain text (``stxt``) samples have no length prefix to keep: zeroed, the
    track shows nothing and the video plays."""
    cue = b"00:00.000 --> 00:01.000 48.8584N 2.2945E"
    for entry in (b"wvtt", b"stpp", b"stxt"):
        original = make_mp4(location=None, samples=SAMPLES, subtitles=(cue,), subtitle_entry=entry)
        stripped = strip(original)
        assert len(stripped) == len(original) and cue not in stripped
        assert stripped == original.replace(cue, bytes(len(cue)))


def test_a_large_text_sample_becomes_an_empty_text_and_a_free_box() -> None:
    [patch] = Blanks(texts=[(1000, 1000 + 70_000)]).patches()
    sample = patch.content(0, 70_000)
    assert sample[:2] == b"\x00\x00" and struct.unpack(">I4s", sample[2:10]) == (69_998, b"free")
    assert sample[10:] == bytes(69_990)
