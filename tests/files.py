"""Real files of real formats, made on the fly for tests and benchmarks."""

from __future__ import annotations

import io

from PIL import Image

__all__ = ("make_jpeg", "make_pdf", "make_photo", "make_png", "make_png_bomb", "make_png_with_text")


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
