"""Lossless metadata stripping (mediavault.processing.strip) on real JPEG, PNG and WebP files made by Pillow."""

from __future__ import annotations

import io
import struct
import zlib

import pytest
from PIL import Image, ImageCms

from mediavault.processing.strip import strip_metadata, strippable
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


@pytest.mark.parametrize(("fmt", "content_type"), [("PCX", "image/x-pcx"), ("JPEG2000", "image/jp2")])
def test_formats_the_vault_does_not_decode_are_not_stripped(fmt: str, content_type: str) -> None:
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, fmt)
    assert not strippable(content_type)
    with pytest.raises(ValueError, match="not decoded"):
        strip_metadata(buf.getvalue(), content_type, max_pixels=LIMIT)


@pytest.mark.parametrize("content_type", ["image/jpeg", "image/png", "image/webp"])
def test_a_file_of_another_type_is_refused(content_type: str) -> None:
    with pytest.raises(ValueError, match="not a"):
        strip_metadata(b"GIF89a not what it claims", content_type, max_pixels=LIMIT)


_XMP_GPS = (
    b'<x:xmpmeta xmlns:x="adobe:ns:meta/"><rdf:RDF xmlns:rdf="http://www.w3.org/1999/02/22-rdf-syntax-ns#">'
    b'<rdf:Description xmlns:exif="http://ns.adobe.com/exif/1.0/" exif:GPSLatitude="48,51.5N"/></rdf:RDF>'
    b"</x:xmpmeta>"
)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


@pytest.mark.parametrize("kind", [b"exIf", b"zxIf", b"prVt", b"caNv"])
def test_png_keeps_only_known_chunks(kind: bytes) -> None:
    """Pre-standard ``exIf`` (older ImageMagick), proposals and private chunks can carry the EXIF block too."""
    buf = io.BytesIO()
    Image.new("RGBA", (20, 10), (1, 2, 3, 100)).save(buf, "PNG")
    plain = buf.getvalue()
    original = plain[:33] + _png_chunk(kind, _exif_with_gps()) + plain[33:]  # after IHDR
    stripped, _ = strip_metadata(original, "image/png", max_pixels=LIMIT)
    assert b"SecretCam" in original and b"SecretCam" not in stripped and kind not in stripped
    assert _pixels(stripped) == _pixels(original)


def test_webp_keeps_only_known_chunks() -> None:
    buf = io.BytesIO()
    Image.effect_noise((32, 24), 60).convert("RGB").save(buf, "WEBP", lossless=True)
    body = buf.getvalue()[12:] + b"PRVT" + struct.pack("<I", len(_exif_with_gps())) + _exif_with_gps()
    original = b"RIFF" + struct.pack("<I", len(body) + 4) + b"WEBP" + body
    stripped, _ = strip_metadata(original, "image/webp", max_pixels=LIMIT)
    assert b"SecretCam" in original and b"SecretCam" not in stripped and b"PRVT" not in stripped
    assert _pixels(stripped) == _pixels(original)


def test_jpeg_keeps_app0_only_when_it_is_jfif() -> None:
    original = make_photo(gps=(1.0, 2.0))
    payload = b"SecretCam at 48.85N" + _exif_with_gps()
    hidden = b"\xff\xe0" + struct.pack(">H", len(payload) + 2) + payload  # an APP0 that is not JFIF
    stripped, _ = strip_metadata(original[:2] + hidden + original[2:], "image/jpeg", max_pixels=LIMIT)
    assert b"SecretCam" not in stripped
    assert _pixels(stripped) == _pixels(original)


def _gif_blocks(data: bytes) -> bytes:
    return b"".join(bytes([len(data[i : i + 255])]) + data[i : i + 255] for i in range(0, len(data), 255)) + b"\x00"


def test_gif_drops_xmp_comments_and_text_keeps_frames_and_loop() -> None:
    frames = [Image.new("RGB", (24, 16), color) for color in ((255, 0, 0), (0, 255, 0), (0, 0, 255))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], loop=0, duration=[40, 50, 60])
    plain = buf.getvalue()
    first = plain.index(b"\x21\xf9")  # the first frame's graphic control extension
    xmp = b"\x21\xff\x0bXMP DataXMP" + _gif_blocks(_XMP_GPS)
    comment = b"\x21\xfe" + _gif_blocks(b"taken at home by SecretCam")
    text = b"\x21\x01\x0c" + bytes(12) + _gif_blocks(b"SecretCam overlay")
    original = plain[:first] + xmp + comment + text + plain[first:]
    stripped, content_type = strip_metadata(original, "image/gif", max_pixels=LIMIT)
    assert content_type == "image/gif"
    for secret in (b"GPSLatitude", b"SecretCam", b"taken at home"):
        assert secret in original and secret not in stripped
    with Image.open(io.BytesIO(stripped)) as result, Image.open(io.BytesIO(plain)) as reference:
        assert result.n_frames == 3 and result.info.get("loop") == 0
        for index in range(3):
            result.seek(index)
            reference.seek(index)
            assert result.info["duration"] == reference.info["duration"]
            assert result.convert("RGBA").tobytes() == reference.convert("RGBA").tobytes()


@pytest.mark.parametrize("mode", ["CMYK", "I", "F", "I;16"])
def test_tiff_of_any_mode_is_reencoded(mode: str) -> None:
    """Print workflows make CMYK TIFFs, scientific ones 32-bit; PNG cannot hold either as they are."""
    buf = io.BytesIO()
    Image.new(mode, (30, 20)).save(buf, "TIFF", exif=_exif_with_gps())
    stripped, content_type = strip_metadata(buf.getvalue(), "image/tiff", max_pixels=LIMIT)
    assert content_type == "image/png" and b"SecretCam" not in stripped
    assert Image.open(io.BytesIO(stripped)).size == (30, 20)


def test_truncated_gif_is_stripped_as_far_as_it_goes() -> None:
    frames = [Image.new("RGB", (24, 16), color) for color in ((255, 0, 0), (0, 255, 0))]
    buf = io.BytesIO()
    frames[0].save(buf, "GIF", save_all=True, append_images=frames[1:], comment=b"SecretCam")
    whole = buf.getvalue()
    stripped, _ = strip_metadata(whole[: len(whole) - 8], "image/gif", max_pixels=LIMIT)
    assert b"SecretCam" in whole and b"SecretCam" not in stripped and stripped.endswith(b"\x3b")
    with Image.open(io.BytesIO(stripped)) as result:
        assert result.n_frames == 1 and result.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.parametrize(
    ("content_type", "signature"),
    [
        ("image/png", b"\x89PNG\r\n\x1a\n"),
        ("image/jpeg", b"\xff\xd8\xff\xe0"),
        ("image/webp", b"RIFF\x20\x00\x00\x00WEBP"),
    ],
)
def test_a_signature_followed_by_junk_is_kept_as_it_is(content_type: str, signature: bytes) -> None:
    junk = signature + b"0" * 100
    assert strip_metadata(junk, content_type, max_pixels=LIMIT) == (junk, content_type)


def test_a_photo_cut_off_before_its_pixels_is_refused_not_served_with_its_gps() -> None:
    photo = io.BytesIO()
    Image.new("RGB", (64, 64), "red").save(photo, "JPEG", exif=_exif_with_gps())
    data = photo.getvalue()
    cut = data[: data.index(b"\xff\xda")]  # everything before the scan: SOI, the Exif APP1 with GPS, tables
    assert b"SecretCam" in cut
    with pytest.raises(ValueError, match="carries metadata"):
        strip_metadata(cut, "image/jpeg", max_pixels=LIMIT)
