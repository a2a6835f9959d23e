"""Real files of real formats, made on the fly for tests and benchmarks."""

from __future__ import annotations

import io
import struct

from PIL import Image

__all__ = (
    "PARIS_ISO6709",
    "make_jpeg",
    "make_mp4",
    "make_pdf",
    "make_photo",
    "make_png",
    "make_png_bomb",
    "make_png_with_text",
)


def make_png(width: int = 64, height: int = 48, color: tuple[int, int, int, int] = (200, 30, 30, 128)) -> bytes:
    """A valid RGBA PNG of ``width`` x ``height`` pixels."""
    buf = io.BytesIO()
    Image.new("RGBA", (width, height), color).save(buf, "PNG")
    return buf.getvalue()


def make_jpeg(width: int = 80, height: int = 60, quality: int = 85) -> bytes:
    """A valid baseline JPEG with a gradient (so it does not compress to nothing)."""
    image = Image.linear_gradient("L").resize((width, height)).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=quality)
    return buf.getvalue()


def make_pdf(text: str = "Media Vault test document") -> bytes:
    """A valid one-page PDF 1.4 with a text line and a correct xref table."""
    stream = f"BT /F1 18 Tf 72 720 Td ({text}) Tj ET".encode()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = io.BytesIO()
    out.write(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(out.tell())
        out.write(b"%d 0 obj\n" % number + body + b"\nendobj\n")
    xref = out.tell()
    out.write(b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1))
    for offset in offsets:
        out.write(b"%010d 00000 n \n" % offset)
    out.write(b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref))
    return out.getvalue()


def make_photo(
    width: int = 120,
    height: int = 80,
    *,
    orientation: int = 1,
    gps: tuple[float, float] | None = None,
    camera: tuple[str, str] | None = None,
    taken: str | None = None,
) -> bytes:
    """A JPEG "photo" whose left half is red and right half blue, with EXIF: ``orientation`` (tag 0x0112), a GPS
    position ``(latitude, longitude)`` in degrees (GPS IFD 0x8825, north/east), ``camera`` ``(make, model)`` and
    ``taken`` (``DateTimeOriginal``, ``"YYYY:MM:DD HH:MM:SS"``)."""
    image = Image.new("RGB", (width, height), (220, 20, 20))
    image.paste((20, 20, 220), (width // 2, 0, width, height))
    exif = Image.Exif()
    exif[0x0112] = orientation
    if camera:
        exif[0x010F], exif[0x0110] = camera
    if taken:
        exif.get_ifd(0x8769)[0x9003] = taken
    if gps:

        def dms(value: float) -> tuple[float, float, float]:
            degrees = int(value)
            minutes = int((value - degrees) * 60)
            return (float(degrees), float(minutes), round((value - degrees - minutes / 60) * 3600, 4))

        exif.get_ifd(0x8825).update({1: "N", 2: dms(gps[0]), 3: "E", 4: dms(gps[1]), 6: 35.0})
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    return buf.getvalue()


def make_png_with_text(width: int = 64, height: int = 48) -> bytes:
    """An RGBA PNG, transparent on its right half, with ``tEXt`` (``Author``) and ``iTXt`` (``Location``) chunks."""
    from PIL import PngImagePlugin

    image = Image.new("RGBA", (width, height), (30, 160, 30, 255))
    image.paste((0, 0, 0, 0), (width // 2, 0, width, height))
    info = PngImagePlugin.PngInfo()
    info.add_text("Author", "Alice Example")
    info.add_itxt("Location", "48.8584 N, 2.2945 E")
    buf = io.BytesIO()
    image.save(buf, "PNG", pnginfo=info)
    return buf.getvalue()


def make_png_bomb(width: int = 50_000, height: int = 50_000) -> bytes:
    """A tiny PNG that declares a ``width`` x ``height`` canvas (a decompression bomb: 2.5 gigapixels by default)."""
    import struct
    import zlib

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    rows = zlib.compress(b"\x00" * (1 + 3 * 64), 9)  # one row of pixels; the rest is missing
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", rows) + chunk(b"IEND", b"")


PARIS_ISO6709 = "+48.8584+002.2945+035.000/"
"""The Eiffel Tower as an ISO 6709 string, the way phones write a video's location."""
XMP_UUID = bytes.fromhex("BE7ACFCB97A942E89C71999491E3AFAC")


def _box(kind: bytes, *payload: bytes, large: bool = False) -> bytes:
    body = b"".join(payload)
    if large:  # a 64-bit size (size field 1), as writers of large files use
        return struct.pack(">I4sQ", 1, kind, len(body) + 16) + body
    return struct.pack(">I4s", len(body) + 8, kind) + body


def _full_box(kind: bytes, version: int, flags: int, *payload: bytes) -> bytes:
    return _box(kind, struct.pack(">I", version << 24 | flags), *payload)


def make_mp4(
    *,
    brand: bytes = b"isom",
    location: str | None = PARIS_ISO6709,
    apple_location: str | None = None,
    xmp_gps: bool = False,
    samples: tuple[bytes, ...] = (b"\x00\x00\x00\x0b\x65\x88\x84\x00\x2f\xff\xfe\xf0\x5a\xa5", b"\x00\x00\x00\x05\x41"),
    large_mdat: bool = False,
    gps_samples: tuple[bytes, ...] = (),
    subtitles: tuple[bytes, ...] = (),
    subtitle_entry: bytes = b"tx3g",
) -> bytes:
    """An ISO base media file (ISO/IEC 14496-12) as a phone writes one: ``ftyp``, ``moov`` (``mvhd``, one video
    track with its sample table pointing into ``mdat``), ``mdat``. ``brand`` ``qt  `` makes a QuickTime (MOV) file.
    Metadata, each where real devices put it: ``location`` as ``moov/udta/©xyz`` (Android, QuickTime) with a
    ``©mak`` camera; ``apple_location`` as ``moov/meta`` keys/ilst ``com.apple.quicktime.location.ISO6709`` (iPhone);
    ``xmp_gps`` as a file-level XMP ``uuid`` box with ``exif:GPSLatitude``; ``gps_samples`` as a second, timed
    metadata track (handler ``meta``, sample entry ``gpmd``, as GoPro cameras write their GPS), one sample per chunk,
    its chunks after the video's in ``mdat``; ``subtitles`` as a subtitle track (handler ``sbtl``, sample entry
    ``subtitle_entry``, 3GPP timed text ``tx3g`` by default: each sample a 16-bit length and the text, as drones write
    their position), one sample per chunk after those. The samples' offsets (``stco``) are absolute, so a rewrite that
    moves a byte breaks them."""
    subtitle_samples = tuple(
        struct.pack(">H", len(text)) + text if subtitle_entry == b"tx3g" else text for text in subtitles
    )
    ftyp = _box(b"ftyp", brand, struct.pack(">I", 0x200), brand, b"mp41" if brand != b"qt  " else b"")
    matrix = struct.pack(">9I", 0x10000, 0, 0, 0, 0x10000, 0, 0, 0, 0x40000000)
    mvhd = _full_box(
        b"mvhd",
        0,
        0,
        struct.pack(">IIII", 0, 0, 1000, 1000),
        struct.pack(">IH", 0x10000, 0x100),
        bytes(10),
        matrix,
        bytes(24),
        struct.pack(">I", 2),
    )
    tkhd = _full_box(
        b"tkhd",
        0,
        3,
        struct.pack(">IIIII", 0, 0, 1, 0, 1000),
        bytes(8),
        struct.pack(">HHH", 0, 0, 0),
        bytes(2),
        matrix,
        struct.pack(">II", 16 << 16, 16 << 16),
    )
    mdhd = _full_box(b"mdhd", 0, 0, struct.pack(">IIII", 0, 0, 1000, 1000), struct.pack(">HH", 0x55C4, 0))
    avc1 = _box(
        b"avc1",
        bytes(6),
        struct.pack(">H", 1),
        bytes(16),
        struct.pack(">HH", 16, 16),
        struct.pack(">II", 0x480000, 0x480000),
        bytes(4),
        struct.pack(">H", 1),
        bytes(32),
        struct.pack(">Hh", 0x18, -1),
    )

    def track(handler: bytes, entry: bytes, media_header: bytes, items: tuple[bytes, ...], chunks: list[int]) -> bytes:
        sizes = struct.pack(">II", 0, len(items)) + b"".join(struct.pack(">I", len(s)) for s in items)
        per_chunk = len(items) // len(chunks)
        stbl = _box(
            b"stbl",
            _full_box(b"stsd", 0, 0, struct.pack(">I", 1), entry),
            _full_box(b"stts", 0, 0, struct.pack(">III", 1, len(items), 500)),
            _full_box(b"stsc", 0, 0, struct.pack(">IIII", 1, 1, per_chunk, 1)),
            _full_box(b"stsz", 0, 0, sizes),
            _full_box(b"stco", 0, 0, struct.pack(f">I{len(chunks)}I", len(chunks), *chunks)),
        )
        dinf = _box(b"dinf", _full_box(b"dref", 0, 0, struct.pack(">I", 1), _full_box(b"url ", 0, 1)))
        minf = _box(b"minf", media_header, dinf, stbl)
        kind = _full_box(b"hdlr", 0, 0, bytes(4), handler, bytes(12), b"Handler\x00")
        return _box(b"trak", tkhd, _box(b"mdia", mdhd, kind, minf))

    def moov(chunk_offset: int) -> bytes:
        video = track(b"vide", avc1, _full_box(b"vmhd", 0, 1, bytes(8)), samples, [chunk_offset])
        children = [mvhd, video]
        at = chunk_offset + sum(map(len, samples))
        for handler, entry, items in ((b"meta", b"gpmd", gps_samples), (b"sbtl", subtitle_entry, subtitle_samples)):
            if items:
                offsets = []
                for sample in items:
                    offsets.append(at)
                    at += len(sample)
                description = _box(entry, bytes(6), struct.pack(">H", 1), bytes(30) if entry == b"tx3g" else b"")
                children.append(track(handler, description, _full_box(b"nmhd", 0, 0), items, offsets))
        if location is not None:
            text = location.encode()
            xyz = _box(b"\xa9xyz", struct.pack(">HH", len(text), 0x15C7), text)
            make = _box(b"\xa9mak", struct.pack(">HH", 6, 0x15C7), b"Pixel8")
            children.append(_box(b"udta", xyz, make))
        if apple_location is not None:
            key = b"com.apple.quicktime.location.ISO6709"
            keys = _full_box(b"keys", 0, 0, struct.pack(">I", 1), _box(b"mdta", key))
            item = _box(struct.pack(">I", 1), _box(b"data", struct.pack(">II", 1, 0), apple_location.encode()))
            meta_hdlr = _full_box(b"hdlr", 0, 0, bytes(4), b"mdta", bytes(12), b"\x00")
            children.append(_box(b"meta", meta_hdlr, keys, _box(b"ilst", item)))  # QuickTime meta: no version
        return _box(b"moov", *children)

    head = ftyp
    if xmp_gps:
        xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:Description exif:GPSLatitude="48,51.5N"/></x:xmpmeta>'
        head += _box(b"uuid", XMP_UUID, xmp)
    mdat_header = 16 if large_mdat else 8
    offset = len(head) + len(moov(0)) + mdat_header
    return head + moov(offset) + _box(b"mdat", *samples, *gps_samples, *subtitle_samples, large=large_mdat)


def _ebml(element: int, *payload: bytes, size_width: int | None = None) -> bytes:
    """One EBML element (RFC 8794): its ID (marker kept), its size as a variable-length integer (the narrowest, or
    ``size_width`` bytes; ``-1`` writes the 8-byte "unknown size" of live recordings), its data."""
    body = b"".join(payload)
    if size_width == -1:
        size = b"\x01" + b"\xff" * 7
    else:
        width = size_width or next(w for w in range(1, 9) if len(body) < (1 << (7 * w)) - 1)
        size = ((1 << (7 * width)) | len(body)).to_bytes(width, "big")
    return element.to_bytes((element.bit_length() + 7) // 8, "big") + size + body


def _uint(element: int, value: int, width: int = 1) -> bytes:
    return _ebml(element, value.to_bytes(width, "big"))


MATROSKA_FRAME = b"\x9d\x01\x2a\x10\x00\x10\x00 a VP8 key frame"
"""The payload of the one video frame of :func:`make_webm`."""


def make_webm(
    *, location: str | None = PARIS_ISO6709, cover: bytes | None = None, doc_type: bytes = b"webm", live: bool = False
) -> bytes:
    """A WebM/Matroska file (RFC 9559) as muxers write one: the ``EBML`` header, then a ``Segment`` of ``SeekHead``
    (pointing at ``Info``, ``Tracks``, ``Cues`` and, when present, ``Attachments`` and ``Tags``), ``Info``, ``Tracks``
    (one VP8 video track), a ``Cluster`` with one ``SimpleBlock``, ``Cues`` pointing at that cluster, then
    ``Attachments`` (``cover``: an image stored as ``cover.jpg``) and ``Tags`` (``location``: an ISO 6709 string as
    the ``LOCATION`` simple tag, next to a ``RECORDING_LOCATION`` device tag). ``live``: the ``Segment`` and the
    ``Cluster`` of unknown size, as browsers' MediaRecorder writes them. Seek and cue positions (8-byte integers,
    relative to the segment's data) point at real element starts, so a rewrite that moves a byte breaks them."""
    header = _ebml(
        0x1A45DFA3,
        _uint(0x4286, 1),
        _uint(0x42F7, 1),
        _uint(0x42F2, 4),
        _uint(0x42F3, 8),
        _ebml(0x4282, doc_type),
        _uint(0x4287, 4),
        _uint(0x4285, 2),
    )
    info = _ebml(0x1549A966, _uint(0x2AD7B1, 1_000_000, 3), _ebml(0x4D80, b"mediavault-tests"))
    video = _ebml(0xE0, _uint(0xB0, 16), _uint(0xBA, 16))
    tracks = _ebml(
        0x1654AE6B, _ebml(0xAE, _uint(0xD7, 1), _uint(0x73C5, 1), _uint(0x83, 1), _ebml(0x86, b"V_VP8"), video)
    )
    block = _ebml(0xA3, b"\x81\x00\x00\x80", MATROSKA_FRAME)
    cluster = _ebml(0x1F43B675, _uint(0xE7, 0), block, size_width=-1 if live else None)
    attachments = b""
    if cover is not None:
        attached = _ebml(
            0x61A7, _ebml(0x466E, b"cover.jpg"), _ebml(0x4660, b"image/jpeg"), _ebml(0x465C, cover), _uint(0x46AE, 1)
        )
        attachments = _ebml(0x1941A469, attached)
    tags = b""
    if location is not None:
        targets = _ebml(0x63C0, _uint(0x68CA, 50))
        place = _ebml(0x67C8, _ebml(0x45A3, b"LOCATION"), _ebml(0x4487, location.encode()))
        device = _ebml(0x67C8, _ebml(0x45A3, b"RECORDING_LOCATION"), _ebml(0x4487, b"Pixel8 camera"))
        tags = _ebml(0x1254C367, _ebml(0x7373, targets, place, device))

    def seek_head(positions: dict[int, int]) -> bytes:
        seeks = [
            _ebml(0x4DBB, _ebml(0x53AB, element.to_bytes(4, "big")), _uint(0x53AC, position, 8))
            for element, position in positions.items()
        ]
        return _ebml(0x114D9B74, *seeks)

    ids = [0x1549A966, 0x1654AE6B, 0x1C53BB6B] + [0x1941A469] * bool(attachments) + [0x1254C367] * bool(tags)

    def cues(cluster_at: int) -> bytes:
        position = _ebml(0xB7, _uint(0xF7, 1), _uint(0xF1, cluster_at, 8))
        return _ebml(0x1C53BB6B, _ebml(0xBB, _uint(0xB3, 0), position))

    head_size = len(seek_head(dict.fromkeys(ids, 0)))
    cluster_at = head_size + len(info) + len(tracks)
    cues_at = cluster_at + len(cluster)
    after = cues_at + len(cues(0))
    positions = {0x1549A966: head_size, 0x1654AE6B: head_size + len(info), 0x1C53BB6B: cues_at}
    if attachments:
        positions[0x1941A469] = after
    if tags:
        positions[0x1254C367] = after + len(attachments)
    body = seek_head(positions) + info + tracks + cluster + cues(cluster_at) + attachments + tags
    return header + _ebml(0x18538067, body, size_width=-1 if live else 8)
