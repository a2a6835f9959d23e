"""Lossless metadata stripping (mediavault.processing.strip) on real JPEG, PNG and WebP files made by Pillow."""

from __future__ import annotations

import io

import pytest
from PIL import Image, ImageCms

from mediavault.processing.strip import strip_metadata
from tests.files import make_photo, make_png_with_text

LIMIT = 10**8


def _exif_with_gps(orientation: int = 1) -> bytes:
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x010F] = "SecretCam"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    return exif.tobytes()


def _pixels(data: bytes) -> bytes:
    with Image.open(io.BytesIO(data)) as image:
        return image.convert("RGBA").tobytes()


@pytest.mark.parametrize("progressive", [False, True])
def test_jpeg_keeps_pixels_icc_and_orientation_only(progressive: bool) -> None:
    icc = ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()
    image = Image.effect_noise((96, 64), 60).convert("RGB")
    buf = io.BytesIO()
    xmp = b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><GPSLatitude>48.85</GPSLatitude></x:xmpmeta>'
    image.save(
        buf, "JPEG", exif=_exif_with_gps(8), icc_profile=icc, comment=b"shot at home", progressive=progressive, xmp=xmp
    )
    original = buf.getvalue() + b"\xff\xd8trailing MPF image with Exif GPS\xff\xd9"
    stripped, content_type = strip_metadata(original, "image/jpeg", max_pixels=LIMIT)
    assert content_type == "image/jpeg"
    for secret in (b"SecretCam", b"GPSLatitude", b"shot at home", b"trailing MPF"):
        assert secret in original and secret not in stripped
    with Image.open(io.BytesIO(stripped)) as result:
        assert dict(result.getexif()) == {0x0112: 8}
        assert result.info.get("icc_profile") == icc
    assert _pixels(stripped) == _pixels(buf.getvalue())


def test_jpeg_without_orientation_gets_no_exif_at_all() -> None:
    stripped, _ = strip_metadata(make_photo(gps=(1.0, 2.0)), "image/jpeg", max_pixels=LIMIT)
    assert b"Exif" not in stripped
    assert Image.open(io.BytesIO(stripped)).size == (120, 80)


def test_truncated_jpeg_is_stripped_as_far_as_it_goes() -> None:
    whole = make_photo(300, 200, gps=(1.0, 2.0))
    stripped, _ = strip_metadata(whole[: len(whole) // 2], "image/jpeg", max_pixels=LIMIT)
    assert stripped.startswith(b"\xff\xd8") and b"Exif" not in stripped and b"GPS" not in stripped


def test_png_drops_text_and_exif_chunks_keeps_pixels() -> None:
    original = make_png_with_text()
    image = Image.open(io.BytesIO(original))
    buf = io.BytesIO()
    image.save(buf, "PNG", exif=_exif_with_gps(), pnginfo=None)
    for data in (original, buf.getvalue() + b"junk after IEND"):
        stripped, content_type = strip_metadata(data, "image/png", max_pixels=LIMIT)
        assert content_type == "image/png"
        assert b"tEXt" not in stripped and b"iTXt" not in stripped and b"eXIf" not in stripped
        assert stripped.endswith(b"IEND\xaeB`\x82")
        assert _pixels(stripped) == _pixels(data)


def test_webp_drops_exif_and_xmp_chunks_and_flags() -> None:
    image = Image.effect_noise((64, 48), 60).convert("RGB")
    buf = io.BytesIO()
    image.save(buf, "WEBP", exif=_exif_with_gps(), xmp=b"<x:xmpmeta>GPSLatitude</x:xmpmeta>", lossless=True)
    original = buf.getvalue()
    stripped, content_type = strip_metadata(original, "image/webp", max_pixels=LIMIT)
    assert content_type == "image/webp"
    assert b"SecretCam" in original and b"SecretCam" not in stripped and b"GPSLatitude" not in stripped
    with Image.open(io.BytesIO(stripped)) as result:
        assert "exif" not in result.info and "xmp" not in result.info
    assert _pixels(stripped) == _pixels(original)


def test_other_formats_are_reencoded_without_metadata() -> None:
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, "TIFF", exif=_exif_with_gps(6))
    stripped, content_type = strip_metadata(buf.getvalue(), "image/tiff", max_pixels=LIMIT)
    assert content_type == "image/png" and b"SecretCam" not in stripped
    assert Image.open(io.BytesIO(stripped)).size == (20, 30)  # orientation 6 applied
    with pytest.raises(ValueError, match="over the limit"):
        strip_metadata(buf.getvalue(), "image/tiff", max_pixels=100)


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp"])
def test_a_file_of_another_type_is_refused(content_type: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        strip_metadata(b"GIF89a not what it claims", content_type, max_pixels=LIMIT)
