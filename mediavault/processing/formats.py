"""The image formats the vault decodes: an allowlist, by sniffed media type.

Pillow reads some forty formats (FITS, DDS, ICNS, PCX, SGI, XBM, PSD, EPS through Ghostscript...), and each of its
parsers is code an uploader can feed. The vault opens an upload only with the parser of the format its bytes were
sniffed as (:func:`~mediavault.domain.media.sniff.sniff_content_type`), and only for the formats photos and the web
use (:data:`DECODED_FORMATS`); anything else is stored, served to its owner and never decoded. HEIC/HEIF is decoded
only when a Pillow plugin for it (``pillow-heif``) is installed and registered.
"""

from __future__ import annotations

from PIL import Image

__all__ = ("DECODED_FORMATS", "pillow_formats")

DECODED_FORMATS: dict[str, str] = {
    "image/jpeg": "JPEG",
    "image/png": "PNG",
    "image/apng": "PNG",
    "image/gif": "GIF",
    "image/webp": "WEBP",
    "image/avif": "AVIF",
    "image/tiff": "TIFF",
    "image/bmp": "BMP",
    "image/heic": "HEIF",
    "image/heif": "HEIF",
}
"""Sniffed media type → the one Pillow format the vault opens it as."""


def pillow_formats(content_type: str) -> tuple[str, ...]:
    """The ``formats=`` argument for ``Image.open`` of an item of ``content_type``: its one allowlisted Pillow
    format, or ``()`` when the vault does not decode it (not on :data:`DECODED_FORMATS`, or Pillow has no plugin
    for it, e.g. HEIC without ``pillow-heif``)."""
    name = DECODED_FORMATS.get(content_type)
    if name is None:
        return ()
    if name not in Image.OPEN:
        Image.init()  # imports every plugin once; a registered third-party one (pillow-heif) is found too
    return (name,) if name in Image.OPEN else ()
