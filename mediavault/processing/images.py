"""The built-in processors: image metadata and thumbnails (Pillow), and the metadata-free copy for share links (of
images, and of MP4/QuickTime and WebM/Matroska videos).

Every one of them decodes at most ``config.max_image_pixels`` pixels (against decompression bombs: a tiny file
that declares a huge canvas is refused before any pixel is decoded) and fails alone: a truncated or corrupt image
keeps its upload, it just gets no thumbnails and a recorded error.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import io
from typing import IO, Any

from PIL import ExifTags, Image

from mediavault.config import MediaVaultConfig
from mediavault.processing.base import MediaSource, ProcessingError, ProcessingResult, Variant
from mediavault.processing.budget import MemoryBudget, decoded_size
from mediavault.processing.formats import pillow_formats
from mediavault.processing.isobmff import ISOBMFF_TYPES, metadata_boxes
from mediavault.processing.matroska import MATROSKA_TYPES, matroska_blanks
from mediavault.processing.patched import Patch, PatchedReader
from mediavault.processing.strip import MAX_STRIP_BYTES, rewritten_in_place, strip_metadata, strippable

__all__ = (
    "ImageMetadataProcessor",
    "ShareCopyProcessor",
    "ThumbnailProcessor",
    "is_raster",
    "open_image",
    "stripped_when_shared",
)

_EXIF_IFD, _GPS_IFD = 0x8769, 0x8825
_UPRIGHT = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}
"""What turns a picture of each Exif orientation (Exif 2.3 tag 0x0112) upright, as ``ImageOps.exif_transpose``."""
_THUMBNAIL_FORMATS = {"webp": ("WEBP", "image/webp"), "jpeg": ("JPEG", "image/jpeg")}


def is_raster(kind: str, content_type: str) -> bool:
    """Whether a media item of ``kind`` and ``content_type`` is a raster image (SVG is markup, not pixels)."""
    return kind == "image" and "svg" not in content_type


def stripped_when_shared(kind: str, content_type: str) -> bool:
    """Whether share links serve an item of ``kind`` and ``content_type`` without its metadata, as its ``share``
    copy (raster images, MP4/QuickTime videos: :data:`~mediavault.processing.isobmff.ISOBMFF_TYPES`, and WebM/Matroska
    files: :data:`~mediavault.processing.matroska.MATROSKA_TYPES`), rather than as stored."""
    return is_raster(kind, content_type) or content_type in ISOBMFF_TYPES or content_type in MATROSKA_TYPES


def open_image(fp: IO[bytes], content_type: str, max_pixels: int) -> Image.Image:
    """Open an image lazily (only its header is read), with the parser of its sniffed ``content_type`` alone, and
    refuse it if it is larger than ``max_pixels``.

    Raises:
        ProcessingError: a format the vault does not decode (:mod:`~mediavault.processing.formats`), not an image
            of its type Pillow can read, or over the limit (a decompression bomb).
    """
    formats = pillow_formats(content_type)
    if not formats:
        raise ProcessingError(f"{content_type} images are not decoded (see docs/processing.md)")
    try:
        image = Image.open(fp, formats=formats)
    except Image.DecompressionBombError as exc:  # over twice Pillow's own limit
        raise ProcessingError(f"image too large: {exc}") from exc
    except (OSError, ValueError, SyntaxError) as exc:
        raise ProcessingError(f"not a readable image: {exc}") from exc
    if image.width * image.height > max_pixels:
        image.close()
        raise ProcessingError(f"image of {image.width}x{image.height} pixels is over the limit of {max_pixels}")
    return image


class ImageMetadataProcessor:
    """``image``: dimensions, orientation, capture time and camera; the GPS position is kept private.

    Public ``info``: ``format``, ``width``/``height`` (as stored), ``orientation`` (Exif 2.3 tag 0x0112, 1-8),
    ``display_width``/``display_height`` (after orientation), ``mode``, ``has_alpha``, ``captured_at``
    (``DateTimeOriginal``, else ``DateTime``, as written by the camera, no time zone), ``camera_make``,
    ``camera_model`` and ``has_location``. ``private``: ``gps`` = ``{"latitude", "longitude", "altitude"}`` in
    degrees / metres (WGS 84), never exposed by the API.
    """

    name = "image"

    def __init__(self, config: MediaVaultConfig) -> None:
        self.max_pixels = config.max_image_pixels

    def accepts(self, media: MediaSource) -> bool:
        """Raster images only."""
        return is_raster(media.kind, media.content_type)

    def process(self, media: MediaSource) -> ProcessingResult:
        """Read the header and the EXIF block; no pixel is decoded (a PNG's ``eXIf`` chunk, which may follow the
        pixels, is found by walking the chunks: Pillow would decode the image to reach it)."""
        with media.open() as fp, open_image(fp, media.content_type, self.max_pixels) as image:
            if image.format == "PNG" and "exif" not in image.info:
                exif = _png_exif(fp, image.info.get("Raw profile type exif"))
            else:
                try:
                    exif = image.getexif()
                except (OSError, ValueError, SyntaxError):  # a broken Exif block: no Exif facts, the header's stay
                    exif = Image.Exif()
            details = exif.get_ifd(_EXIF_IFD)
            orientation = exif.get(ExifTags.Base.Orientation, 1)
            orientation = orientation if isinstance(orientation, int) and 1 <= orientation <= 8 else 1
            turned = orientation in (5, 6, 7, 8)
            gps = _gps(exif.get_ifd(_GPS_IFD))
            info = {
                "format": image.format,
                "width": image.width,
                "height": image.height,
                "orientation": orientation,
                "display_width": image.height if turned else image.width,
                "display_height": image.width if turned else image.height,
                "mode": image.mode,
                "has_alpha": image.mode in ("RGBA", "LA", "PA") or "transparency" in image.info,
                "captured_at": _exif_time(
                    details.get(ExifTags.Base.DateTimeOriginal) or exif.get(ExifTags.Base.DateTime)
                ),
                "camera_make": _text(exif.get(ExifTags.Base.Make)),
                "camera_model": _text(exif.get(ExifTags.Base.Model)),
                "has_location": gps is not None,
            }
        return ProcessingResult(info=info, private={"gps": gps} if gps else {})


class ThumbnailProcessor:
    """``thumbnails``: one ``thumb-<size>`` variant per ``config.thumbnail_sizes`` (longer side at most ``size``
    pixels, never enlarged), EXIF orientation applied, in ``config.thumbnail_format`` (WebP keeps transparency;
    JPEG gets a white background). JPEGs are decoded with ``draft()`` (DCT scaling, up to 8x fewer pixels decoded)
    at the smallest scale still at least the largest size; each smaller size is made from the one above it. The
    decode reserves its memory from ``budget`` first (:class:`~mediavault.processing.budget.MemoryBudget`); the
    decoded image is shrunk in place and turned upright only once small, so it is never copied whole.
    """

    name = "thumbnails"

    def __init__(self, config: MediaVaultConfig, budget: MemoryBudget | None = None) -> None:
        self.sizes = sorted(config.thumbnail_sizes, reverse=True)
        self.format, self.content_type = _THUMBNAIL_FORMATS[config.thumbnail_format]
        self.max_pixels = config.max_image_pixels
        self.budget = budget or MemoryBudget(config.processing_memory_budget)

    def accepts(self, media: MediaSource) -> bool:
        """Images the vault decodes (:mod:`~mediavault.processing.formats`), when sizes are configured."""
        return bool(self.sizes and pillow_formats(media.content_type))

    def process(self, media: MediaSource) -> ProcessingResult:
        """Decode, resize and orient.

        Raises:
            ProcessingError: unreadable, truncated, over ``max_image_pixels``, or its decode alone is over the
                memory budget.
        """
        with media.open() as fp, open_image(fp, media.content_type, self.max_pixels) as image:
            if image.format == "JPEG":
                image.draft("RGB", (self.sizes[0], self.sizes[0]))
            pixels = image.width * image.height
            # convert() to RGB(A) makes a 4-byte copy; a JPEG thumbnail of an image with alpha a background too
            converted = 4 * pixels if image.mode not in ("RGB", "RGBA") else 0
            if self.format == "JPEG" and (image.mode != "RGB" or "transparency" in image.info):
                converted += 4 * pixels
            resized = 4 * min(pixels, (2 * self.sizes[0]) ** 2)  # thumbnail()'s reduce() step
            cost = decoded_size(image.width, image.height, image.mode) + converted + resized
            with self.budget.reserve(cost, f"an image of {image.width}x{image.height} pixels"):
                try:
                    image.load()
                    orientation = image.getexif().get(ExifTags.Base.Orientation)
                except (OSError, ValueError, SyntaxError) as exc:
                    raise ProcessingError(f"could not decode the image: {exc}") from exc
                upright = _UPRIGHT.get(orientation) if isinstance(orientation, int) else None
                current = self._convert(image)
                if current is not image:
                    image.close()  # the decoded original goes now, not at the end of the block
                variants = []
                for size in self.sizes:
                    current.thumbnail((size, size), Image.Resampling.LANCZOS)  # in place: the large buffer goes
                    shown = current.transpose(upright) if upright is not None else current
                    out = io.BytesIO()
                    shown.save(out, self.format, quality=82, **({"method": 4} if self.format == "WEBP" else {}))
                    thumb = Variant(f"thumb-{size}", self.content_type, out.getvalue(), shown.width, shown.height)
                    variants.append(thumb)
        return ProcessingResult(info={"sizes": [v.name for v in variants]}, variants=variants)

    def _convert(self, image: Image.Image) -> Image.Image:
        alpha = image.mode in ("RGBA", "LA", "PA") or (image.mode == "P" and "transparency" in image.info)
        if self.format == "JPEG" and alpha:
            rgba = image.convert("RGBA")
            background = Image.new("RGB", rgba.size, (255, 255, 255))
            background.paste(rgba, mask=rgba.getchannel("A"))
            return background
        wanted = "RGBA" if alpha else "RGB"
        return image if image.mode == wanted else image.convert(wanted)


class ShareCopyProcessor:
    """``share``: the ``share`` variant, the image without its metadata (:func:`~mediavault.processing.strip.
    strip_metadata`), or the video with its metadata blanked in place (MP4/QuickTime:
    :mod:`~mediavault.processing.isobmff`; WebM/Matroska: :mod:`~mediavault.processing.matroska`), served by share
    links when ``config.share_strip_metadata`` is on. An item that carries no metadata is served as it is: no copy
    is stored, ``info`` says ``{"unchanged": true}``."""

    name = "share"

    def __init__(self, config: MediaVaultConfig, budget: MemoryBudget | None = None) -> None:
        self.enabled = config.share_strip_metadata
        self.max_pixels = config.max_image_pixels
        self.budget = budget or MemoryBudget(config.processing_memory_budget)

    def accepts(self, media: MediaSource) -> bool:
        """Raster images, MP4/QuickTime and WebM/Matroska files (:func:`stripped_when_shared`), when
        ``share_strip_metadata`` is on."""
        return self.enabled and stripped_when_shared(media.kind, media.content_type)

    def process(self, media: MediaSource) -> ProcessingResult:
        """Rewrite the container without metadata.

        Raises:
            ProcessingError: larger than :data:`~mediavault.processing.strip.MAX_STRIP_BYTES`, or malformed.
        """
        variant = self.make(media)
        return ProcessingResult(info={"unchanged": True}) if variant is None else ProcessingResult(variants=[variant])

    def make(self, media: MediaSource) -> Variant | None:
        """The ``share`` variant of ``media`` (blocking; also used on a share download that comes before
        processing), with its dimensions; ``None`` when it would be the very same bytes (nothing to strip).

        Raises:
            ProcessingError: as :meth:`process`.
        """
        if media.content_type in ISOBMFF_TYPES or media.content_type in MATROSKA_TYPES:
            return self._video(media)
        if media.size > MAX_STRIP_BYTES:
            raise ProcessingError(f"images over {MAX_STRIP_BYTES} bytes are not stripped")
        if not strippable(media.content_type):
            raise ProcessingError(f"{media.content_type} images are not decoded (see docs/processing.md)")
        cost = 0
        with media.open() as fp:
            if not rewritten_in_place(media.content_type):  # decoded, turned upright, re-encoded
                with open_image(fp, media.content_type, self.max_pixels) as image:
                    cost = 2 * decoded_size(image.width, image.height, image.mode) + 4 * image.width * image.height
                    what = f"an image of {image.width}x{image.height} pixels"
                fp.seek(0)
            data = fp.read()
        with self.budget.reserve(cost, what) if cost else contextlib.nullcontext():
            try:
                stripped, content_type = strip_metadata(data, media.content_type, max_pixels=self.max_pixels)
            except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
                raise ProcessingError(f"could not remove the metadata: {exc}") from exc
        if stripped == data:
            return None
        formats = pillow_formats(content_type)
        with contextlib.suppress(Exception), Image.open(io.BytesIO(stripped), formats=formats) as image:
            return Variant("share", content_type, stripped, image.width, image.height)
        return Variant("share", content_type, stripped)  # a file that only starts like an image: no size to tell

    @staticmethod
    def _video(media: MediaSource) -> Variant | None:
        """Reads box or element headers (and metadata tracks' sample tables) only; the copy is streamed from the
        original through the patches by the worker when it stores it."""
        try:
            with media.open() as fp:
                patches: list[Patch] = (
                    metadata_boxes(fp, media.size).patches()
                    if media.content_type in ISOBMFF_TYPES
                    else matroska_blanks(fp, media.size)
                )
        except ValueError as exc:
            raise ProcessingError(f"could not remove the metadata: {exc}") from exc
        if not patches:
            return None
        return Variant("share", media.content_type, io.BufferedReader(PatchedReader(media.open, patches)))


def _png_exif(fp: IO[bytes], raw_profile: object = None) -> Image.Exif:
    """The ``eXIf`` chunk of the PNG ``fp`` (PNG spec 3rd ed. §11.3.6.1), found by reading chunk headers and seeking
    past their data, else ImageMagick's ``Raw profile type exif`` text (``raw_profile``: a header of three lines,
    then hex); an empty :class:`~PIL.Image.Exif` when there is neither or the file ends first."""
    exif = Image.Exif()
    if isinstance(raw_profile, str):
        with contextlib.suppress(Exception):  # a broken profile: no Exif facts
            exif.load(bytes.fromhex("".join(raw_profile.split("\n")[3:])))
            return exif
    fp.seek(8)
    while len(head := fp.read(8)) == 8:
        length, kind = int.from_bytes(head[:4], "big"), head[4:]
        if kind == b"eXIf":
            data = fp.read(length)
            if len(data) == length:
                with contextlib.suppress(Exception):  # a broken Exif block: no Exif facts
                    exif.load(data)
            break
        if kind == b"IEND":
            break
        fp.seek(length + 4, io.SEEK_CUR)
    return exif


def _text(value: Any) -> str | None:
    if isinstance(value, bytes):
        value = value.decode("utf-8", errors="replace")
    if not isinstance(value, str):
        return None
    value = value.replace("\x00", "").strip()
    return value[:200] or None


def _exif_time(value: Any) -> str | None:
    """An EXIF ``YYYY:MM:DD HH:MM:SS`` (Exif 2.3 §4.6.5) as ISO 8601 ``YYYY-MM-DDTHH:MM:SS``, else ``None``."""
    text = _text(value)
    if not text:
        return None
    try:
        return dt.datetime.strptime(text[:19], "%Y:%m:%d %H:%M:%S").isoformat()
    except ValueError:
        return None


def _degrees(value: Any, ref: Any, negative: str) -> float | None:
    try:
        degrees, minutes, seconds = (float(part) for part in value)
    except (TypeError, ValueError, ZeroDivisionError):
        return None
    result = degrees + minutes / 60 + seconds / 3600
    return -result if _text(ref) == negative else result


def _gps(ifd: dict[int, Any]) -> dict[str, float | None] | None:
    """Latitude/longitude (degrees, WGS 84; south and west negative) and altitude (metres) of a GPS IFD."""
    latitude = _degrees(ifd.get(ExifTags.GPS.GPSLatitude), ifd.get(ExifTags.GPS.GPSLatitudeRef), "S")
    longitude = _degrees(ifd.get(ExifTags.GPS.GPSLongitude), ifd.get(ExifTags.GPS.GPSLongitudeRef), "W")
    if latitude is None or longitude is None:
        return None
    try:
        altitude: float | None = float(ifd[ExifTags.GPS.GPSAltitude])
    except (KeyError, TypeError, ValueError, ZeroDivisionError):
        altitude = None
    return {"latitude": round(latitude, 7), "longitude": round(longitude, 7), "altitude": altitude}
