"""Removing metadata (EXIF with GPS and camera, XMP, IPTC, comments, text chunks) from images, losslessly.

:func:`strip_metadata` rewrites the container only; the compressed pixels are copied byte for byte. Every format
keeps an allowlist of the parts it needs to show the picture, so metadata in a part nobody listed (a private PNG
chunk, the pre-standard ``exIf``, an unknown RIFF chunk, an APP0 that is not JFIF) is dropped too:

* **JPEG** (ISO/IEC 10918-1 markers, JFIF, Exif 2.3 APP1): keeps APP0 only as ``JFIF``, APP2 ``ICC_PROFILE``,
  APP14 ``Adobe`` (colour transform) and every coding segment; drops APP1 (Exif, XMP), the other APPn (JFXX
  thumbnails, MPF/extra images, IPTC/Photoshop in APP13...), COM, and anything after EOI. The orientation survives:
  when the Exif said other than 1, a new APP1 holding only the Orientation tag (0x0112) is written, so viewers
  still turn the picture.
* **PNG** (PNG spec 3rd ed. §4.3, §5): keeps the critical chunks and the ancillary ones about colour,
  transparency, pixel size and animation (:data:`_PNG_KEEP`); drops the rest (``eXIf``, ``tEXt``, ``iTXt``,
  ``zTXt``, ``tIME``, private chunks) and anything after IEND.
* **WebP** (RFC 9649 §2.7): keeps ``VP8X``, ``ICCP``, ``ANIM``, ``ANMF``, ``ALPH``, ``VP8 ``, ``VP8L``; drops the
  rest (``EXIF``, ``XMP ``, unknown chunks), clears the EXIF/XMP flags in ``VP8X``, rewrites the RIFF size. WebP
  keeps its orientation only in EXIF, so a rotated WebP is shared unrotated.
* **GIF** (GIF89a §§17-26): keeps the header, colour tables, frames, graphic control extensions and the
  ``NETSCAPE2.0``/``ANIMEXTS1.0`` loop extension; drops comments, plain text and every other application
  extension (XMP, with its GPS).
* **BMP**: carries no metadata; copied unchanged.
* The other formats the vault decodes (TIFF, AVIF; :mod:`~mediavault.processing.formats`): re-encoded as PNG
  without metadata, orientation applied, in the closest mode PNG holds (CMYK as RGB, 32-bit integer or float as
  16-bit grey). Any other format cannot be stripped.
"""

from __future__ import annotations

import io
import re
import struct

from PIL import Image, ImageOps

from mediavault.processing.formats import pillow_formats

__all__ = ("MAX_STRIP_BYTES", "rewritten_in_place", "strip_metadata", "strippable")

MAX_STRIP_BYTES = 256 * 1024 * 1024
"""Largest image (bytes) stripped; it is held in memory while rewritten."""

_JPEG_KEEP_APP = {0xE0: b"JFIF\x00", 0xE2: b"ICC_PROFILE\x00", 0xEE: b"Adobe"}
_ENTROPY_END = re.compile(rb"\xff[^\x00\xd0-\xd7]")
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_PNG_KEEP = {
    *(b"IHDR", b"PLTE", b"IDAT", b"IEND"),  # critical
    *(b"tRNS", b"gAMA", b"cHRM", b"sRGB", b"iCCP", b"sBIT", b"cICP", b"mDCV", b"cLLI", b"mDCv", b"cLLi"),  # colour
    *(b"bKGD", b"pHYs", b"acTL", b"fcTL", b"fdAT"),  # background, pixel size, animation (APNG)
}
"""PNG chunks a share copy keeps (PNG spec 3rd ed.; ``mDCv``/``cLLi`` are the 2nd-edition-era names)."""
_WEBP_KEEP = {b"VP8X", b"ICCP", b"ANIM", b"ANMF", b"ALPH", b"VP8 ", b"VP8L"}
_GIF_KEEP_APPLICATIONS = {b"NETSCAPE2.0", b"ANIMEXTS1.0"}
_PNG_MODES = {"1", "L", "LA", "P", "RGB", "RGBA", "I;16", "I;16B"}


def strip_metadata(data: bytes, content_type: str, *, max_pixels: int) -> tuple[bytes, str]:
    """The image ``data`` without its metadata, and the media type of the result.

    Args:
        data: the whole image file.
        content_type: its sniffed media type (``image/jpeg``, ``image/png``...).
        max_pixels: largest width x height re-encoded (formats not rewritten in place).

    Returns:
        ``(bytes, content_type)``; ``content_type`` is ``image/png`` when the image had to be re-encoded.

    A file that only starts like an image (its signature, then no picture any decoder could find, e.g. a PNG
    signature followed by junk) has no parts to keep: it is returned unchanged when it carries no metadata
    signature either (there is nothing to strip, and a rewrite would hand out a few meaningless bytes), and
    refused when it does (a photo cut off before its pixels still holds its Exif block).

    Raises:
        ValueError: the file is not a well-formed image of its type, holds no picture but carries metadata, is
            too large to re-encode, or is of a type that cannot be stripped (:func:`strippable`).
    """
    rewrite = _IN_PLACE.get(content_type)
    if rewrite is None:
        if content_type == "image/bmp":
            return data, content_type
        if not strippable(content_type):
            raise ValueError(f"{content_type} images are not decoded")
        return _reencode_png(data, content_type, max_pixels), "image/png"
    stripped = rewrite(data)
    if stripped == data or _holds_picture(stripped, content_type):
        return stripped, content_type
    if _METADATA_SIGNATURE.search(data):
        raise ValueError(f"{content_type}: no picture found, but the file carries metadata")
    return data, content_type


_METADATA_SIGNATURE = re.compile(rb"Exif\x00|eXIf|exIf|zxIf|xmpmeta|ns\.adobe\.com/xap|Photoshop 3\.0|GPS")
"""Signatures of embedded metadata (Exif, PNG eXIf and its pre-standard names, XMP, IPTC in Photoshop blocks)."""


def _holds_picture(stripped: bytes, content_type: str) -> bool:
    """Whether a rewritten file kept the parts that carry its picture (JPEG scan, PNG image data, a WebP
    bitstream, a GIF image descriptor beyond the header)."""
    if content_type == "image/jpeg":
        return b"\xff\xda" in stripped
    if content_type == "image/webp":
        return any(kind in stripped for kind in (b"VP8 ", b"VP8L", b"ANMF"))
    if content_type == "image/gif":
        return b"\x2c" in stripped[13:]
    return b"IDAT" in stripped


def _orientation(app1: bytes) -> int:
    if not app1.startswith(b"Exif\x00\x00"):
        return 1
    try:
        exif = Image.Exif()
        exif.load(app1[6:])
        value = exif.get(0x0112, 1)
    except Exception:  # a broken Exif block: no orientation to keep
        return 1
    return value if isinstance(value, int) and 1 <= value <= 8 else 1


def _orientation_segment(orientation: int) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    payload = exif.tobytes()
    return b"\xff\xe1" + struct.pack(">H", len(payload) + 2) + payload


def _strip_jpeg(data: bytes) -> bytes:
    if not data.startswith(b"\xff\xd8"):
        raise ValueError("not a JPEG file")
    out: list[bytes] = []
    orientation = 1
    n, pos = len(data), 2
    while pos + 1 < n:
        if data[pos] != 0xFF:
            raise ValueError(f"JPEG: no marker at byte {pos}")
        if data[pos + 1] == 0xFF:  # fill byte
            pos += 1
            continue
        marker = data[pos + 1]
        if marker == 0xD9:  # EOI: anything after it (e.g. MPF extra images) is dropped
            out.append(b"\xff\xd9")
            break
        if 0xD0 <= marker <= 0xD7 or marker == 0x01:
            out.append(data[pos : pos + 2])
            pos += 2
            continue
        if pos + 4 > n:
            break
        end = pos + 2 + struct.unpack(">H", data[pos + 2 : pos + 4])[0]
        segment = data[pos:end]
        if marker == 0xE1:
            orientation = max(orientation, _orientation(segment[4:]))
        if _jpeg_keeps(marker, segment):
            out.append(segment)
        pos = end
        if marker == 0xDA:  # entropy-coded data runs to the next marker that is not a stuffed byte or RSTn
            found = _ENTROPY_END.search(data, pos)
            stop = found.start() if found else n
            out.append(data[pos:stop])
            pos = stop
    head = [b"\xff\xd8"]
    if out and out[0][1] == 0xE0:  # JFIF's APP0 must stay first
        head.append(out.pop(0))
    if orientation != 1:
        head.append(_orientation_segment(orientation))
    return b"".join(head + out)


def _jpeg_keeps(marker: int, segment: bytes) -> bool:
    if 0xE0 <= marker <= 0xEF:
        identifier = _JPEG_KEEP_APP.get(marker)
        return identifier is not None and segment[4 : 4 + len(identifier)] == identifier
    return marker != 0xFE  # COM


def _strip_png(data: bytes) -> bytes:
    if not data.startswith(_PNG_SIGNATURE):
        raise ValueError("not a PNG file")
    out = [_PNG_SIGNATURE]
    pos, n = len(_PNG_SIGNATURE), len(data)
    while pos + 8 <= n:
        length, kind = struct.unpack(">I4s", data[pos : pos + 8])
        end = pos + 12 + length
        if kind in _PNG_KEEP:
            out.append(data[pos:end])
        pos = end
        if kind == b"IEND":
            break
    return b"".join(out)


def _strip_webp(data: bytes) -> bytes:
    if len(data) < 12 or data[:4] != b"RIFF" or data[8:12] != b"WEBP":
        raise ValueError("not a WebP file")
    chunks = []
    pos, n = 12, min(len(data), 8 + struct.unpack("<I", data[4:8])[0])
    while pos + 8 <= n:
        kind, length = struct.unpack("<4sI", data[pos : pos + 8])
        end = pos + 8 + length + (length & 1)
        chunk = data[pos:end]
        if kind == b"VP8X" and len(chunk) > 8:
            chunk = chunk[:8] + bytes([chunk[8] & ~0x0C]) + chunk[9:]  # no EXIF (0x08), no XMP (0x04)
        if kind in _WEBP_KEEP:
            chunks.append(chunk)
        pos = end
    body = b"WEBP" + b"".join(chunks)
    return b"RIFF" + struct.pack("<I", len(body)) + body


def _gif_sub_blocks_end(data: bytes, pos: int) -> int:
    """Where the data sub-blocks starting at ``pos`` end (after their zero-length terminator); past the end of
    ``data`` when they are truncated."""
    while pos < len(data) and data[pos]:
        pos += 1 + data[pos]
    return pos + 1


def _gif_color_table(packed: int) -> int:
    return 3 * 2 ** ((packed & 0x07) + 1) if packed & 0x80 else 0


def _strip_gif(data: bytes) -> bytes:
    if data[:6] not in (b"GIF87a", b"GIF89a") or len(data) < 13:
        raise ValueError("not a GIF file")
    pos = 13 + _gif_color_table(data[10])
    out = [data[:pos]]
    while pos < len(data) and data[pos] != 0x3B:  # up to the trailer; a truncated last block is left out
        start, block = pos, data[pos]
        if block == 0x2C and pos + 10 <= len(data):  # image descriptor, local colour table, LZW size, image data
            pos = _gif_sub_blocks_end(data, pos + 10 + _gif_color_table(data[pos + 9]) + 1)
            keep = True
        elif block == 0x21 and pos + 2 <= len(data):  # extension: label, then sub-blocks
            label, pos = data[pos + 1], _gif_sub_blocks_end(data, pos + 2)
            keep = label == 0xF9 or (label == 0xFF and data[start + 3 : start + 14] in _GIF_KEEP_APPLICATIONS)
        elif block in (0x2C, 0x21):
            break
        else:
            raise ValueError(f"GIF: unknown block 0x{block:02x} at byte {pos}")
        if pos > len(data):
            break
        if keep:
            out.append(data[start:pos])
    out.append(b"\x3b")
    return b"".join(out)


def rewritten_in_place(content_type: str) -> bool:
    """Whether :func:`strip_metadata` rewrites images of ``content_type`` without decoding them (JPEG, PNG, WebP,
    GIF, and BMP as it is); the other formats it handles are decoded and re-encoded."""
    return content_type in _IN_PLACE or content_type == "image/bmp"


def strippable(content_type: str) -> bool:
    """Whether :func:`strip_metadata` can handle images of ``content_type`` (rewritten in place, BMP as it is, or
    decoded and re-encoded: only the formats the vault decodes)."""
    return rewritten_in_place(content_type) or bool(pillow_formats(content_type))


def _reencode_png(data: bytes, content_type: str, max_pixels: int) -> bytes:
    with Image.open(io.BytesIO(data), formats=pillow_formats(content_type)) as image:
        if image.width * image.height > max_pixels:
            raise ValueError(f"image of {image.width}x{image.height} pixels is over the limit of {max_pixels}")
        upright = ImageOps.exif_transpose(image)
        if upright.mode not in _PNG_MODES:
            alpha = "A" in upright.mode or "a" in upright.mode
            grey = upright.mode in ("I", "F") or upright.mode.startswith("I;16")
            upright = upright.convert("RGBA" if alpha else "I;16" if grey else "RGB")
        out = io.BytesIO()
        upright.save(out, "PNG")
    return out.getvalue()


_IN_PLACE = {
    "image/jpeg": _strip_jpeg,
    "image/png": _strip_png,
    "image/apng": _strip_png,
    "image/webp": _strip_webp,
    "image/gif": _strip_gif,
}
"""Formats rewritten in place (their compressed pixels copied byte for byte), by media type."""
