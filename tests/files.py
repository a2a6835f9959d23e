"""Real files of real formats, made on the fly for tests and benchmarks."""

from __future__ import annotations

import io

from PIL import Image

__all__ = ("make_jpeg", "make_pdf", "make_png")


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
