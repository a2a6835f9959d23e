"""Content sniffing, media kinds, image dimensions and safe file names (mediavault.domain.media.sniff)."""

from __future__ import annotations

import io
import os
import struct
import warnings
import zipfile
import zlib

import pytest
from PIL import Image

from mediavault.domain.media.sniff import (
    filename_for_type,
    image_dimensions,
    media_kind,
    safe_filename,
    sniff_content_type,
)


def pillow_bytes(fmt: str, size: tuple[int, int] = (3, 2), **kwargs) -> bytes:
    buf = io.BytesIO()
    Image.new("RGB", size, (200, 30, 40)).save(buf, fmt, **kwargs)
    return buf.getvalue()


def minimal_pdf() -> bytes:
    """A minimal valid PDF 1.4 with a correct xref table, written by hand."""
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, obj in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + obj + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def wav_bytes() -> bytes:
    import wave

    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(8000)
        w.writeframes(b"\x00\x01" * 800)
    return buf.getvalue()


def ogg_vorbis_head() -> bytes:
    page_header = b"OggS\x00\x02" + b"\x00" * 8 + b"\x01\x00\x00\x00" + b"\x00" * 8 + b"\x01\x1e"
    return page_header + b"\x01vorbis" + b"\x00\x00\x00\x00\x01\x44\xac\x00\x00" + b"\x00" * 14


def mp4_head(brand: bytes = b"isom", compatible: bytes = b"isomiso2avc1mp41") -> bytes:
    ftyp = b"ftyp" + brand + b"\x00\x00\x02\x00" + compatible
    return struct.pack(">I", len(ftyp) + 4) + ftyp + b"\x00\x00\x00\x08free" + b"\x00\x00\x00\x10mdat" + os.urandom(8)


def mp3_head() -> bytes:
    return b"ID3\x04\x00\x00\x00\x00\x00\x0a" + b"\x00" * 10 + b"\xff\xfb\x90\x64" + os.urandom(400)


HTML = b"<!DOCTYPE html>\n<html><head><title>x</title></head><body><script>alert(1)</script></body></html>\n"
SVG = b'<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10"><script>alert(1)</script></svg>'


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (pillow_bytes("PNG"), "image/png"),
        (pillow_bytes("JPEG"), "image/jpeg"),
        (pillow_bytes("GIF"), "image/gif"),
        (pillow_bytes("WEBP"), "image/webp"),
        (pillow_bytes("BMP"), "image/bmp"),
        (pillow_bytes("TIFF"), "image/tiff"),
        (pillow_bytes("PDF"), "application/pdf"),
        (minimal_pdf(), "application/pdf"),
        (mp4_head(), "video/mp4"),
        (mp4_head(b"qt  ", b"qt  "), "video/quicktime"),
        (mp4_head(b"M4A ", b"M4A mp42isom"), "audio/mp4"),
        (mp4_head(b"avif", b"avifmif1miaf"), "image/avif"),
        (mp4_head(b"mif1", b"avifmif1miaf"), "image/avif"),
        (mp4_head(b"heic", b"mif1heic"), "image/heic"),
        (mp3_head(), "audio/mpeg"),
        (wav_bytes(), "audio/wav"),
        (ogg_vorbis_head(), "audio/ogg"),
        (b"fLaC\x00\x00\x00\x22" + b"\x00" * 40, "audio/flac"),
        (HTML, "text/html"),
        (b"<html><body>hi</body></html>", "text/html"),
        (b"\xef\xbb\xbf<!DOCTYPE html><html></html>", "text/html"),
        (b"\n\n   <!doctype HTML>\n<html></html>", "text/html"),
        (SVG, "image/svg+xml"),
        (b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- made by hand -->\n<svg xmlns="x"/>', "image/svg+xml"),
        (b"\xef\xbb\xbf  <SVG width='1'></SVG>", "image/svg+xml"),
        (b'<?xml version="1.0"?><root><a/></root>', "application/xml"),
        (b"hello world\nthis is text\n", "text/plain"),
        (b"name,age\nanna,3\n", "text/plain"),
        ("привет, мир 🌍\n".encode(), "text/plain"),
        (b"ID3 tags are a thing, says this plain text file", "text/plain"),
        (b"<script>alert(1)</script>", "text/plain"),
        (b"{\\rtf1\\ansi hello}", "application/rtf"),
        (os.urandom(4096).replace(b"\x00", b"\x01") + b"\x00\xff", "application/octet-stream"),
        (b"\x00\x01\x02\x03" * 100, "application/octet-stream"),
        (b"", "application/octet-stream"),
    ],
)
def test_sniff_from_bytes(data: bytes, expected: str) -> None:
    assert sniff_content_type(data[:8192], "upload") == expected


def jpeg2000_bytes(**kwargs: object) -> bytes:
    """A real JPEG 2000 image written by Pillow's OpenJPEG codec: a JP2 file, or (``no_jp2=True``) a bare J2K
    codestream."""
    return pillow_bytes("JPEG2000", (16, 12), **kwargs)


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (jpeg2000_bytes(), "image/jp2"),
        (jpeg2000_bytes(no_jp2=True), "image/j2c"),
        # ISO/IEC 15444-1 Annex I: signature box, then the File Type box whose brand names the family
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjpx \x00\x00\x00\x00jpx jp2 ", "image/jpx"),
        (b"\x00\x00\x00\x0cjP  \r\n\x87\n\x00\x00\x00\x14ftypjpm \x00\x00\x00\x00jpm jp2 ", "image/jpm"),
    ],
)
def test_jpeg_2000_is_not_a_jpeg(data: bytes, expected: str) -> None:
    """puremagic calls a JP2 file ``image/jpeg``: browsers and the JPEG code paths would take it for one."""
    assert sniff_content_type(data[:8192], "photo.jpg") == expected
    assert media_kind(expected) == "image"


def test_zip_family() -> None:
    def make(names: list[str]) -> bytes:
        buf = io.BytesIO()
        with zipfile.ZipFile(buf, "w") as z:
            for name in names:
                z.writestr(name, "x" * 50)
        return buf.getvalue()

    assert sniff_content_type(make(["a.txt"]), "a.zip") == "application/zip"
    assert sniff_content_type(make(["a.txt"]), "a.docx") == "application/zip"
    docx = make(["[Content_Types].xml", "_rels/.rels", "word/document.xml"])
    xlsx = make(["[Content_Types].xml", "_rels/.rels", "xl/workbook.xml"])
    assert sniff_content_type(docx, "d") == "application/vnd.openxmlformats-officedocument.wordprocessingml.document"
    assert sniff_content_type(xlsx, "d.docx") == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def test_truncated_utf8_at_end_of_head_is_still_text() -> None:
    text = ("é" * 5000).encode()  # 10000 bytes, two per char
    assert sniff_content_type(text[:8191], "a") == "text/plain"  # cut in the middle of "é"
    assert sniff_content_type(b"abc\xc3", "a") == "text/plain"
    assert sniff_content_type(b"abc\xc3abc", "a") == "application/octet-stream"  # invalid, not truncated


def test_filename_and_extension_are_never_trusted() -> None:
    png = pillow_bytes("PNG")
    assert sniff_content_type(png, "x.txt") == "image/png"
    assert sniff_content_type(png, "x.html") == "image/png"
    assert sniff_content_type(HTML, "x.png") == "text/html"
    assert sniff_content_type(SVG, "x.png") == "image/svg+xml"
    assert sniff_content_type(b"just text", "photo.jpg") == "text/plain"
    assert sniff_content_type(os.urandom(1000).replace(b"\x00", b"") + b"\x00\xfe", "x.png") in (
        "application/octet-stream",
        "audio/mpeg",  # a random frame-sync match is possible, an image type is not
        "audio/aac",
    )
    assert sniff_content_type(b"\x00" * 64, "../../x.gif") == "application/octet-stream"


@pytest.mark.parametrize(
    ("content_type", "kind"),
    [
        ("image/png", "image"),
        ("image/svg+xml", "image"),
        ("IMAGE/JPEG", "image"),
        ("video/mp4", "video"),
        ("video/quicktime", "video"),
        ("audio/mpeg", "audio"),
        ("audio/ogg; codecs=opus", "audio"),
        ("application/pdf", "document"),
        ("text/plain; charset=utf-8", "document"),
        ("text/html", "document"),
        ("application/rtf", "document"),
        ("application/json", "document"),
        ("application/xml", "document"),
        ("application/msword", "document"),
        ("application/vnd.openxmlformats-officedocument.wordprocessingml.document", "document"),
        ("application/vnd.oasis.opendocument.text", "document"),
        ("application/epub+zip", "document"),
        ("application/zip", "other"),
        ("application/octet-stream", "other"),
        ("application/ogg", "other"),
        ("", "other"),
    ],
)
def test_media_kind(content_type: str, kind: str) -> None:
    assert media_kind(content_type) == kind


# ------------------------------------------------------------------------------- dimensions


@pytest.mark.parametrize("fmt", ["PNG", "JPEG", "GIF", "WEBP"])
def test_image_dimensions(fmt: str) -> None:
    data = pillow_bytes(fmt, (37, 21))
    assert image_dimensions(io.BytesIO(data), sniff_content_type(data, "x")) == (37, 21)


@pytest.mark.parametrize("fmt", ["PPM", "PCX", "SGI", "DDS", "ICNS", "JPEG2000"])
def test_image_dimensions_reads_no_header_of_formats_the_vault_does_not_decode(fmt: str) -> None:
    """Only the allowlisted formats' parsers ever see an upload (docs/processing.md), not every one Pillow has."""
    data = pillow_bytes(fmt, (37, 21))
    assert image_dimensions(io.BytesIO(data), sniff_content_type(data, "x")) is None
    assert image_dimensions(io.BytesIO(data), "image/png") is None  # a PNG parser finds no PNG there


@pytest.mark.parametrize(
    "data",
    [b"", b"not an image", HTML, SVG, minimal_pdf(), wav_bytes(), b"\x89PNG\r\n\x1a\n", os.urandom(2048)],
)
def test_image_dimensions_none_for_non_images(data: bytes) -> None:
    assert image_dimensions(io.BytesIO(data), "image/png") is None


def png_claiming(width: int, height: int) -> bytes:
    """A 1x1 PNG whose IHDR is patched to claim width x height (with a valid CRC)."""
    png = bytearray(pillow_bytes("PNG", (1, 1)))
    assert png[12:16] == b"IHDR"
    png[16:24] = struct.pack(">II", width, height)
    png[29:33] = struct.pack(">I", zlib.crc32(bytes(png[12:29])))
    return bytes(png)


@pytest.mark.parametrize(
    ("width", "height"),
    [
        (100_000, 100_000),  # 1e10 px: over 2 x MAX_IMAGE_PIXELS -> DecompressionBombError
        (10_000, 10_000),  # 1e8 px: between MAX and 2 x MAX -> DecompressionBombWarning
    ],
)
def test_decompression_bomb_gives_none_without_raising_or_warning(width: int, height: int) -> None:
    before = Image.MAX_IMAGE_PIXELS
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # any warning escaping image_dimensions fails the test
        assert image_dimensions(io.BytesIO(png_claiming(width, height)), "image/png") is None
    assert before == Image.MAX_IMAGE_PIXELS


def test_patched_png_within_limits_reports_claimed_size() -> None:
    assert image_dimensions(io.BytesIO(png_claiming(4000, 3000)), "image/png") == (4000, 3000)


def test_truncated_jpeg_never_raises() -> None:
    jpeg = pillow_bytes("JPEG", (64, 48))
    for cut in (2, 3, 10, 20, 100, 200, len(jpeg) // 2, len(jpeg) - 2):
        assert image_dimensions(io.BytesIO(jpeg[:cut]), "image/jpeg") in (None, (64, 48))
    start_of_scan = jpeg.index(b"\xff\xda")
    # header intact, pixels cut
    assert image_dimensions(io.BytesIO(jpeg[: start_of_scan + 20]), "image/jpeg") == (64, 48)


def test_image_dimensions_reads_from_start_and_leaves_file_open() -> None:
    fp = io.BytesIO(pillow_bytes("PNG", (5, 6)))
    fp.seek(10)
    assert image_dimensions(fp, "image/png") == (5, 6)
    assert not fp.closed


# ------------------------------------------------------------------------------- filename_for_type


@pytest.mark.parametrize(
    ("name", "content_type", "expected"),
    [
        ("beach.png", "image/jpeg", "beach.jpg"),  # names another type: swapped
        ("beach.jpg", "image/png", "beach.png"),
        ("my.trip.PNG", "image/jpeg", "my.trip.jpg"),  # only the last extension, whatever its case
        ("beach.jpeg", "image/jpeg", "beach.jpeg"),  # one of the type's extensions: kept
        ("beach.JPG", "image/jpeg", "beach.JPG"),
        ("notes.c", "text/plain", "notes.c"),
        ("beach", "image/jpeg", "beach"),  # no extension: none made up
        ("beach.xyz123", "image/jpeg", "beach.xyz123"),  # an extension of no known type
        ("report.pdf", "application/x-unknown-thing", "report.pdf"),  # a type without a usual extension
    ],
)
def test_filename_for_type(name: str, content_type: str, expected: str) -> None:
    assert filename_for_type(name, content_type) == expected


# ------------------------------------------------------------------------------- safe_filename


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("../../etc/passwd", "passwd"),
        ("C:\\x\\y.png", "y.png"),
        ("/abs/path/photo.jpg", "photo.jpg"),
        ("..", "file"),
        (".", "file"),
        ("", "file"),
        ("   ", "file"),
        ("dir/", "file"),
        (".htaccess", "htaccess"),
        ("...hidden.txt", "hidden.txt"),
        ("фото 📷.jpg", "фото 📷.jpg"),
        ("a\x00b\x1fc\x7f.txt", "abc.txt"),
        ("line\r\nbreak.txt", "linebreak.txt"),
        ("evil\u202egpj.exe", "evilgpj.exe"),
        ("e\u0301te\u0301.png", "été.png"),  # NFD -> NFC
        ("  spaced name .pdf ", "spaced name .pdf"),
        ("naïve résumé.docx", "naïve résumé.docx"),
    ],
)
def test_safe_filename(name: str, expected: str) -> None:
    assert safe_filename(name) == expected


def test_safe_filename_caps_at_255_bytes_keeping_extension() -> None:
    long_ascii = "a" * 400 + ".jpeg"
    result = safe_filename(long_ascii)
    assert len(result.encode()) == 255
    assert result.endswith(".jpeg")

    long_unicode = "фото📷" * 100 + ".png"  # multi-byte chars: must not be cut mid-character
    result = safe_filename(long_unicode)
    assert len(result.encode()) <= 255
    assert result.endswith(".png")
    assert result.startswith("фото📷")
    result.encode("utf-8")  # valid

    no_ext = "b" * 300
    assert safe_filename(no_ext) == "b" * 255

    huge_ext = "x." + "e" * 300
    assert len(safe_filename(huge_ext).encode()) == 255


def _puremagic(data: bytes) -> list:
    import puremagic

    try:
        return puremagic.magic_string(data)
    except puremagic.PureError:
        return []


def test_signature_windows_answer_what_puremagic_does() -> None:
    """signatures.candidates is puremagic.magic_string matched by window: the same candidates for a head built
    around every header signature (and each multi-part follow-up), random bytes and text. Multi-part follow-ups are
    a set in puremagic too (their order between equal scores is arbitrary), so those are compared as sets."""
    import random

    import puremagic

    from mediavault.domain.media.signatures import candidates

    rng = random.Random(7)
    heads = [os.urandom(4096), b"plain text, nothing else", b"<html><body>", b"\x00" * 8192]
    for row in puremagic.magic_header_array:
        head = bytearray(rng.randbytes(row.offset + len(row.byte_match) + 64))
        head[row.offset : row.offset + len(row.byte_match)] = row.byte_match
        heads.append(bytes(head))
        for follow in puremagic.multi_part_dict.get(row.byte_match, ()):
            if follow.offset >= 0:
                longer = bytearray(head + bytes(max(0, follow.offset + len(follow.byte_match) - len(head))))
                longer[follow.offset : follow.offset + len(follow.byte_match)] = follow.byte_match
                heads.append(bytes(longer))
    for head in heads:
        ours, theirs = candidates(head), _puremagic(head)
        assert sorted(ours) == sorted(theirs)
        assert [c.confidence for c in ours] == [c.confidence for c in theirs]
        single = [c for c in theirs if c.byte_match in {r.byte_match for r in puremagic.magic_header_array}]
        assert [c for c in ours if c in single] == single  # table order kept between equal scores
