"""Media processing with real images: metadata, thumbnails, EXIF-free share downloads, bombs and broken files."""

from __future__ import annotations

import hashlib
import io
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from fsspec.core import url_to_fs
from litestar import Litestar
from litestar.testing import TestClient
from PIL import Image, PngImagePlugin
from sqlalchemy import event, insert

from mediavault import MediaVault, hookimpl
from mediavault.db.models import MediaVariant
from mediavault.processing import MediaSource, ProcessingError, ProcessingResult, Variant
from tests.api._checks import concurrently, error, processed, success
from tests.backends import query, stored_objects
from tests.conftest import PREFIX, Account, make_config
from tests.files import (
    MATROSKA_FRAME,
    PARIS_ISO6709,
    make_jpeg,
    make_mp4,
    make_pdf,
    make_photo,
    make_png,
    make_png_bomb,
    make_png_with_text,
    make_webm,
)

PARIS = (48.8584, 2.2945)
SIZES = (32, 64)


@pytest.fixture(scope="module")
def vault(shared_dir: Path) -> Iterator[TestClient[Litestar]]:
    config = make_config(shared_dir, processing_worker=True, thumbnail_sizes=SIZES, rate_limit_anonymous=100_000)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        yield client


@pytest.fixture(scope="module")
def owner(vault: TestClient[Litestar]) -> Account:
    return Account(vault, "photographer@example.com")


def picture(data: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(data))
    image.load()
    return image


def share_content(account: Account, media_id: str) -> Any:
    share = success(account.client.post(f"{PREFIX}/shares", headers=account.headers, json={"media_id": media_id}), 201)
    return account.client.get(f"{PREFIX}/s/{share['token']}/content")


def test_photo_metadata_without_gps(owner: Account) -> None:
    photo = make_photo(orientation=6, gps=PARIS, camera=("Canon", "EOS R5"), taken="2024:05:01 12:30:00")
    media = owner.upload(photo, "paris.jpg")
    state = processed(owner, media["id"])
    assert state["status"] == "done" and state["errors"] == {}
    assert state["metadata"]["image"] == {
        "format": "JPEG",
        "width": 120,
        "height": 80,
        "orientation": 6,
        "display_width": 80,
        "display_height": 120,
        "mode": "RGB",
        "has_alpha": False,
        "captured_at": "2024-05-01T12:30:00",
        "camera_make": "Canon",
        "camera_model": "EOS R5",
        "has_location": True,
    }
    raw = owner.client.get(f"{PREFIX}/media/{media['id']}/metadata", headers=owner.headers).text
    assert "48.8" not in raw and "2.29" not in raw and "gps" not in raw.lower() and "latitude" not in raw
    assert sorted(v["name"] for v in state["variants"]) == ["share", "thumb-32", "thumb-64"]


def test_thumbnails_are_oriented_sized_and_cached_like_content(owner: Account) -> None:
    media = owner.upload(make_photo(orientation=6), "turned.jpg")
    processed(owner, media["id"])
    url = f"{PREFIX}/media/{media['id']}/thumbnail"
    response = owner.client.get(url, params={"size": 64}, headers=owner.headers)
    assert response.status_code == 200
    assert response.headers["content-type"] == "image/webp"
    assert response.headers["x-content-type-options"] == "nosniff"
    assert 'filename="turned-64.webp"' in response.headers["content-disposition"]
    thumb = picture(response.content)
    assert thumb.format == "WEBP" and thumb.size == (43, 64)  # 120x80 stored, shown turned: 80x120
    # Orientation 6: the stored left half (red) is the top once turned, the right half (blue) the bottom.
    red, blue = thumb.convert("RGB").getpixel((21, 8)), thumb.convert("RGB").getpixel((21, 56))
    assert red[0] > 150 > red[2] and blue[2] > 150 > blue[0]
    assert response.headers["etag"] == f'"{hashlib.sha256(response.content).hexdigest()}"'
    etag = response.headers["etag"]
    assert (
        owner.client.get(url, params={"size": 64}, headers={**owner.headers, "If-None-Match": etag}).status_code == 304
    )
    part = owner.client.get(url, params={"size": 64}, headers={**owner.headers, "Range": "bytes=0-9"})
    assert part.status_code == 206 and part.content == response.content[:10]
    smallest = owner.client.get(url, headers=owner.headers)
    assert picture(smallest.content).size == (22, 32)  # 64x43 shrunk (then turned): 21.5 rounds to the closer aspect


def test_thumbnail_size_must_be_a_configured_one(owner: Account) -> None:
    media = owner.upload(make_jpeg(), "plain.jpg")
    processed(owner, media["id"])
    response = owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail?size=100", headers=owner.headers)
    assert error(response, 400, "validation_error")["details"][0]["field"] == "size"
    assert "32, 64" in response.text
    not_a_number = owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail?size=big", headers=owner.headers)
    error(not_a_number, 400, "validation_error")


def test_no_thumbnail_for_documents_nor_for_others(owner: Account, vault: TestClient[Litestar]) -> None:
    pdf = owner.upload(make_pdf(), "doc.pdf")
    assert processed(owner, pdf["id"])["variants"] == []
    never = error(owner.client.get(f"{PREFIX}/media/{pdf['id']}/thumbnail", headers=owner.headers), 404, "not_found")
    assert never["message"] == "This media type has no thumbnails"  # not "(yet)": none will ever be made
    photo = owner.upload(make_jpeg(), "mine.jpg")
    processed(owner, photo["id"])
    stranger = Account(vault, "stranger@example.com")
    for suffix in ("thumbnail", "metadata"):
        error(stranger.client.get(f"{PREFIX}/media/{photo['id']}/{suffix}", headers=stranger.headers), 404, "not_found")


def test_share_download_has_no_gps_nor_camera_and_keeps_the_orientation(owner: Account) -> None:
    photo = make_photo(orientation=6, gps=PARIS, camera=("Canon", "EOS R5"), taken="2024:05:01 12:30:00")
    media = owner.upload(photo, "paris.jpg")
    processed(owner, media["id"])
    original = owner.client.get(f"{PREFIX}/media/{media['id']}/content", headers=owner.headers)
    assert original.content == photo  # the owner's own download is byte-exact
    shared = share_content(owner, media["id"])
    assert shared.status_code == 200 and shared.headers["content-type"] == "image/jpeg"
    image = picture(shared.content)
    exif = image.getexif()
    assert dict(exif.get_ifd(0x8825)) == {} and dict(exif.get_ifd(0x8769)) == {}
    assert dict(exif) == {0x0112: 6}
    assert image.size == (120, 80) and image.format == "JPEG"
    assert b"Canon" not in shared.content and b"GPS" not in shared.content
    assert shared.headers["etag"] == f'"{hashlib.sha256(shared.content).hexdigest()}"' != original.headers["etag"]


def test_share_copies_have_dimensions_and_are_not_stored_twice(owner: Account) -> None:
    photo = owner.upload(make_photo(gps=PARIS), "gps.jpg")
    [share] = [v for v in processed(owner, photo["id"])["variants"] if v["name"] == "share"]
    assert (share["width"], share["height"]) == (120, 80)
    plain = make_png()  # no metadata at all: its share copy would be the same bytes
    media = owner.upload(plain, "plain.png")
    state = processed(owner, media["id"])
    assert [v["name"] for v in state["variants"]] == ["thumb-32", "thumb-64"]
    assert state["metadata"]["share"] == {"unchanged": True}
    shared = share_content(owner, media["id"])
    assert shared.content == plain and shared.headers["etag"] == f'"{media["checksum_sha256"]}"'


@pytest.mark.parametrize(("brand", "content_type"), [(b"isom", "video/mp4"), (b"qt  ", "video/quicktime")])
def test_share_links_serve_videos_without_their_location(owner: Account, brand: bytes, content_type: str) -> None:
    """Phones write where a video was taken into ``moov/udta/©xyz`` (Android), ``moov/meta`` keys (iPhone) and XMP,
    action cameras into a timed GPS track; a share link serves the video with those boxes and samples blanked in
    place (same size, every chunk offset intact)."""
    video = make_mp4(brand=brand, apple_location=PARIS_ISO6709, xmp_gps=True, gps_samples=(b"GPS5 +48.85840",) * 3)
    media = owner.upload(video, "holiday.mov")
    assert media["content_type"] == content_type and media["type"] == "video"
    state = processed(owner, media["id"])
    [share] = state["variants"]
    assert (share["name"], share["content_type"], share["size"]) == ("share", content_type, len(video))
    assert owner.client.get(f"{PREFIX}/media/{media['id']}/content", headers=owner.headers).content == video
    token = success(owner.client.post(f"{PREFIX}/shares", headers=owner.headers, json={"media_id": media["id"]}), 201)[
        "token"
    ]
    shared = owner.client.get(f"{PREFIX}/s/{token}/content")
    assert shared.status_code == 200 and len(shared.content) == len(video)
    for secret in (b"48.8584", b"Pixel8", b"com.apple.quicktime.location", b"GPSLatitude", b"GPS5"):
        assert secret in video and secret not in shared.content
    stco = shared.content.index(b"stco") + 12  # the video's chunk offset, and the video samples it points at
    first = int.from_bytes(video[stco : stco + 4], "big")
    assert shared.content[stco : stco + 4] == video[stco : stco + 4]
    assert shared.content[first : first + 14] == video[first : first + 14] != bytes(14)
    item = success(owner.client.get(f"{PREFIX}/s/{token}"))["media"]
    assert item["checksum_sha256"] == hashlib.sha256(shared.content).hexdigest() != media["checksum_sha256"]
    ranged = owner.client.get(f"{PREFIX}/s/{token}/content", headers={"Range": "bytes=0-99"})
    assert ranged.status_code == 206 and ranged.content == shared.content[:100]
    plain = owner.upload(make_mp4(location=None), "plain.mp4")  # nothing to strip: served as it is, not copied
    assert processed(owner, plain["id"])["variants"] == []
    assert share_content(owner, plain["id"]).content == make_mp4(location=None)


@pytest.mark.parametrize(
    ("video", "content_type", "frame"),
    [
        (make_webm(cover=make_photo(gps=PARIS)), "video/webm", MATROSKA_FRAME),
        (make_webm(doc_type=b"matroska", live=True), "video/x-matroska", MATROSKA_FRAME),
        (make_mp4(location=None, subtitles=(b"GPS 48.8584N 2.2945E 35m",) * 2), "video/mp4", b"\x65\x88\x84\x00\x2f"),
    ],
    ids=["webm-tags-cover", "mkv-live-tags", "mp4-gps-subtitles"],
)
def test_share_links_blank_matroska_tags_and_gps_subtitles(
    owner: Account, video: bytes, content_type: str, frame: bytes
) -> None:
    """WebM/Matroska ``Tags`` (a ``LOCATION``) and ``Attachments`` (a cover photo with EXIF GPS) become ``Void``
    elements, and a drone's GPS subtitles become blank text samples: same size, every other byte as stored."""
    media = owner.upload(video, "flight.bin")
    assert media["content_type"] == content_type and media["type"] == "video"
    [share] = processed(owner, media["id"])["variants"]
    assert (share["name"], share["content_type"], share["size"]) == ("share", content_type, len(video))
    assert owner.client.get(f"{PREFIX}/media/{media['id']}/content", headers=owner.headers).content == video
    shared = share_content(owner, media["id"])
    assert shared.status_code == 200 and len(shared.content) == len(video)
    assert b"48.8584" in video and b"48.8584" not in shared.content
    assert shared.content.count(frame) == video.count(frame) == 1  # the video's own frame, where it was


def test_png_alpha_survives_and_text_chunks_do_not(owner: Account) -> None:
    media = owner.upload(make_png_with_text(), "alpha.png")
    state = processed(owner, media["id"])
    assert state["metadata"]["image"]["has_alpha"] is True
    thumb = picture(owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail?size=32", headers=owner.headers).content)
    assert thumb.mode == "RGBA" and thumb.size == (32, 24)
    assert thumb.getpixel((4, 12))[3] == 255 and thumb.getpixel((28, 12))[3] == 0
    shared = picture(share_content(owner, media["id"]).content)
    assert shared.mode == "RGBA" and "Author" not in shared.info and "Location" not in shared.info


def test_decompression_bomb_keeps_its_upload_and_gets_no_thumbnail(owner: Account) -> None:
    bomb = make_png_bomb()
    assert len(bomb) < 200
    media = owner.upload(bomb, "bomb.png")
    assert media["type"] == "image" and media["width"] is None  # the upload never decodes it either
    state = processed(owner, media["id"])
    assert state["status"] == "done"
    assert "too large" in state["errors"]["thumbnails"] or "limit" in state["errors"]["thumbnails"]
    assert state["variants"] == [] and state["metadata"]["share"] == {"unchanged": True}  # no metadata to strip
    error(owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail", headers=owner.headers), 404, "not_found")
    assert owner.client.get(f"{PREFIX}/media/{media['id']}/content", headers=owner.headers).content == bomb


def _png_with_exif_after_its_pixels(width: int, height: int, orientation: int) -> bytes:
    """A noisy PNG whose ``eXIf`` chunk (orientation, GPS) follows its image data, as the PNG spec allows."""
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    buf = io.BytesIO()
    Image.effect_noise((width, height), 60).convert("RGB").save(buf, "PNG", exif=exif.tobytes())
    data = buf.getvalue()
    start = data.index(b"eXIf") - 4
    end = start + 12 + int.from_bytes(data[start : start + 4], "big")
    chunk, data = data[start:end], data[:start] + data[end:]
    iend = data.index(b"IEND") - 4
    return data[:iend] + chunk + data[iend:]


def test_png_exif_in_imagemagick_raw_profile_text(owner: Account) -> None:
    """ImageMagick keeps a converted photo's Exif in a ``Raw profile type exif`` text chunk (hex): the GPS position
    there is found too, without decoding the pixels."""
    exif = Image.Exif()
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    raw = (b"Exif\x00\x00" + exif.tobytes()).hex()
    info = PngImagePlugin.PngInfo()
    lines = "\n".join(raw[i : i + 72] for i in range(0, len(raw), 72))
    info.add_text("Raw profile type exif", f"\nexif\n{len(raw) // 2:8d}\n{lines}\n", zip=True)
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, "PNG", pnginfo=info)
    media = owner.upload(buf.getvalue(), "converted.png")
    assert processed(owner, media["id"])["metadata"]["image"]["has_location"] is True
    shared = share_content(owner, media["id"]).content
    assert b"Raw profile" not in shared and b"zTXt" not in shared


def test_decoding_is_bounded_by_the_memory_budget(tmp_path: Path) -> None:
    """A 1000 x 1000 PNG decodes to ~4 MB (Pillow keeps RGB in 4 bytes a pixel): over a 2 MiB budget it gets no
    thumbnails and says why; its metadata, read without decoding a pixel, and its share copy (rewritten, not
    decoded) are still made. A small image is processed as usual."""
    config = make_config(tmp_path, processing_worker=True, thumbnail_sizes=SIZES, processing_memory_budget=2 * 2**20)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "frugal@example.com")
        big = owner.upload(_png_with_exif_after_its_pixels(1000, 1000, orientation=6), "big.png")
        state = processed(owner, big["id"])
        assert "over the processing memory budget of 2 MiB" in state["errors"]["thumbnails"]
        assert set(state["errors"]) == {"thumbnails"}
        image = state["metadata"]["image"]
        assert (image["width"], image["orientation"], image["has_location"]) == (1000, 6, True)
        assert [v["name"] for v in state["variants"]] == ["share"]
        small = owner.upload(make_photo(), "small.jpg")
        assert [v["name"] for v in processed(owner, small["id"])["variants"]] == ["share", "thumb-32", "thumb-64"]


def test_truncated_jpeg_keeps_its_upload_and_records_the_error(owner: Account) -> None:
    whole = make_photo(600, 400, gps=PARIS)
    media = owner.upload(whole[: len(whole) // 2], "cut.jpg")
    state = processed(owner, media["id"])
    assert state["status"] == "done"
    assert "decode" in state["errors"]["thumbnails"]
    assert state["metadata"]["image"]["width"] == 600  # the header was still readable
    error(owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail", headers=owner.headers), 404, "not_found")
    shared = share_content(owner, media["id"])
    assert shared.status_code == 200 and b"GPS" not in shared.content and b"Exif" not in shared.content


def test_truncated_png_keeps_its_header_metadata(owner: Account) -> None:
    """Pillow reads a PNG's EXIF by decoding it (an eXIf chunk may follow the pixels): a cut-off PNG still gets
    the facts of its header, and clear errors rather than a bare exception name."""
    buf = io.BytesIO()
    Image.effect_noise((300, 200), 80).convert("RGB").save(buf, "PNG")
    whole = buf.getvalue()
    media = owner.upload(whole[: len(whole) // 2], "cut.png")
    state = processed(owner, media["id"])
    assert state["status"] == "done"
    assert "image" not in state["errors"], state["errors"]
    assert state["metadata"]["image"]["width"] == 300 and state["metadata"]["image"]["has_location"] is False
    assert "decode" in state["errors"]["thumbnails"]


def test_svg_is_shared_as_stored_and_undecodable_images_not_at_all(owner: Account) -> None:
    svg = b'<svg xmlns="http://www.w3.org/2000/svg"><metadata>x</metadata><rect width="4" height="4"/></svg>'
    media = owner.upload(svg, "drawing.svg")
    assert media["type"] == "image"
    state = processed(owner, media["id"])  # the image processors skip markup
    assert (state["status"], state["metadata"], state["errors"], state["variants"]) == ("done", {}, {}, [])
    shared = share_content(owner, media["id"])
    assert shared.content == svg and shared.headers["content-disposition"].startswith("attachment")
    heic = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(200)  # no Pillow plugin decodes it
    media = owner.upload(heic, "phone.heic")
    assert media["content_type"] == "image/heic"
    assert "image/heic images are not decoded" in processed(owner, media["id"])["errors"]["image"]
    refused = error(share_content(owner, media["id"]), 403, "forbidden")
    assert "metadata" in refused["message"]
    buf = io.BytesIO()
    Image.new("RGB", (30, 20), (10, 200, 10)).save(buf, "TIFF")
    media = owner.upload(buf.getvalue(), "scan.tiff")
    shared = share_content(owner, media["id"])  # re-encoded without metadata
    assert (
        shared.headers["content-type"] == "image/png" and 'filename="scan.png"' in shared.headers["content-disposition"]
    )


@pytest.mark.parametrize(
    ("fmt", "content_type"),
    [
        ("PPM", "image/x-portable-pixmap"),
        ("PCX", "image/x-pcx"),
        ("SGI", "image/x-rgb"),
        ("DDS", "image/x-dds"),
        ("ICNS", "image/x-icns"),
        ("JPEG2000", "image/jp2"),
    ],
)
def test_only_allowlisted_formats_are_decoded(owner: Account, fmt: str, content_type: str) -> None:
    """Pillow reads dozens of formats, each a parser exposed to whoever uploads; the vault decodes only the web's
    image formats (docs/processing.md), the others are kept, served to their owner, and never decoded."""
    buf = io.BytesIO()
    Image.new("RGB", (40, 30), (10, 200, 10)).save(buf, fmt)
    media = owner.upload(buf.getvalue(), f"odd.{fmt.lower()}")
    assert (media["content_type"], media["type"]) == (content_type, "image")
    assert (media["width"], media["height"]) == (None, None)  # not even its header was parsed
    state = processed(owner, media["id"])
    assert state["metadata"] == {} and state["variants"] == []
    reason = f"{content_type} images are not decoded (see docs/processing.md)"
    assert state["errors"] == {"image": reason, "share": reason}  # no thumbnails are even tried
    never = error(owner.client.get(f"{PREFIX}/media/{media['id']}/thumbnail", headers=owner.headers), 404, "not_found")
    assert never["message"] == "This media type has no thumbnails"
    refused = error(share_content(owner, media["id"]), 403, "forbidden")  # cannot be shown without metadata
    assert "metadata" in refused["message"]


def test_share_link_never_serves_the_original_before_processing(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=False)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "early@example.com")
        media = owner.upload(make_photo(gps=PARIS, camera=("Nikon", "Z8")), "early.jpg")
        state = success(client.get(f"{PREFIX}/media/{media['id']}/metadata", headers=owner.headers))
        assert state["status"] == "pending" and state["variants"] == []
        text = owner.upload(b"no processor wants me", "note.txt")  # nothing owed: done at once, no worker needed
        assert success(client.get(f"{PREFIX}/media/{text['id']}/metadata", headers=owner.headers))["status"] == "done"
        shared = share_content(owner, media["id"])
        assert shared.status_code == 200
        assert dict(picture(shared.content).getexif().get_ifd(0x8825)) == {} and b"Nikon" not in shared.content
        again = share_content(owner, media["id"])  # the copy made on the spot is kept (same bytes, same ETag)
        assert again.headers["etag"] == shared.headers["etag"]
        other = owner.upload(make_photo(orientation=8, gps=PARIS), "burst.jpg")
        token = success(client.post(f"{PREFIX}/shares", headers=owner.headers, json={"media_id": other["id"]}), 201)[
            "token"
        ]
        burst = client.blocking_portal.call(concurrently, client.app, [("GET", f"/s/{token}/content", {})] * 6)
        assert {r.status_code for r in burst} == {200} and len({r.headers["etag"] for r in burst}) == 1
        assert dict(picture(burst[0].content).getexif()) == {0x0112: 8}
        burst_state = success(client.get(f"{PREFIX}/media/{other['id']}/metadata", headers=owner.headers))
        assert [v["name"] for v in burst_state["variants"]] == ["share"]
        state = success(client.get(f"{PREFIX}/media/{media['id']}/metadata", headers=owner.headers))
        assert [v["name"] for v in state["variants"]] == ["share"]


def test_sharing_unstripped_when_turned_off(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=True, share_strip_metadata=False)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "open@example.com")
        photo = make_photo(gps=PARIS)
        media = owner.upload(photo, "open.jpg")
        assert "share" not in [v["name"] for v in processed(owner, media["id"])["variants"]]
        assert share_content(owner, media["id"]).content == photo


class _Plugin:
    """A plugin with a sync and an async processor, one that fails, and one replacing the built-in thumbnails."""

    class Checksum:
        name = "checksum"

        def accepts(self, media: MediaSource) -> bool:
            return True

        def process(self, media: MediaSource) -> ProcessingResult:
            with media.open() as fp:
                digest = hashlib.sha256(fp.read()).hexdigest()
            return ProcessingResult(info={"matches": digest == media.checksum_sha256}, private={"secret": "hidden"})

    class Greeting:
        name = "greeting"

        def accepts(self, media: MediaSource) -> bool:
            return media.kind == "document"

        async def process(self, media: MediaSource) -> ProcessingResult:
            return ProcessingResult(info={"hello": media.filename}, variants=[Variant("note", "text/plain", b"hi")])

    class Broken:
        name = "broken"

        def accepts(self, media: MediaSource) -> bool:
            return True

        def process(self, media: MediaSource) -> ProcessingResult:
            raise ProcessingError("cannot do that")

    class NoThumbnails:
        name = "thumbnails"

        def accepts(self, media: MediaSource) -> bool:
            return False

        def process(self, media: MediaSource) -> ProcessingResult:
            raise AssertionError("never called")

    @hookimpl
    def mediavault_media_processors(self, config: object) -> list[object]:
        return [self.Checksum(), self.Greeting(), self.Broken(), self.NoThumbnails()]


def test_plugin_processors_run_fail_alone_and_replace_builtins(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=True, plugins=(_Plugin(),))
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "plugins@example.com")
        pdf = owner.upload(make_pdf(), "doc.pdf")
        state = processed(owner, pdf["id"])
        assert state["metadata"] == {"checksum": {"matches": True}, "greeting": {"hello": "doc.pdf"}}
        assert state["errors"] == {"broken": "cannot do that"}
        assert [(v["name"], v["size"], v["url"]) for v in state["variants"]] == [("note", 2, None)]
        assert "hidden" not in client.get(f"{PREFIX}/media/{pdf['id']}/metadata", headers=owner.headers).text
        photo = owner.upload(make_jpeg(), "photo.jpg")
        state = processed(owner, photo["id"])
        assert "image" in state["metadata"] and state["variants"] == []  # no thumbnails; a share copy is not needed
        assert state["metadata"]["share"] == {"unchanged": True}


def test_deleting_media_deletes_its_variants(tmp_path: Path) -> None:
    config = make_config(tmp_path, processing_worker=True, thumbnail_sizes=SIZES)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "tidy@example.com")
        media = owner.upload(make_photo(gps=PARIS), "tidy.jpg")
        processed(owner, media["id"])
        storage = client.app.plugins.get(MediaVault).runtime.storage
        keys = client.blocking_portal.call(_variant_keys, client, media["id"])
        assert len(keys) == 3 and all(client.blocking_portal.call(storage.exists, key) for key in keys)
        assert client.delete(f"{PREFIX}/media/{media['id']}", headers=owner.headers).status_code == 204
        assert not any(client.blocking_portal.call(storage.exists, key) for key in keys)


async def _variant_keys(client: TestClient[Litestar], media_id: str) -> list[str]:
    from sqlalchemy import select

    from mediavault.db.models import MediaVariant

    runtime = client.app.plugins.get(MediaVault).runtime
    async with runtime.session() as session:
        rows = await session.scalars(select(MediaVariant.storage_key).where(MediaVariant.media_id == media_id))
        return list(rows)


def test_a_variant_recorded_while_its_media_is_deleted_loses_its_bytes_too(tmp_path: Path) -> None:
    """The worker may commit a variant between the moment the delete reads the item's variant keys and the moment
    it deletes the row: the row's delete cascades to that variant, so its bytes must be deleted too, not left
    behind. The worker's commit is made (once, just before the delete's first write or row lock) by a listener on
    the vault's engine."""
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "racing@example.com")
        media = owner.upload(make_photo(), "racing.jpg")
        [[storage_key]] = query(config, "SELECT storage_key FROM mediavault_media WHERE owner_id IS NOT NULL")
        late_key = f"{storage_key}.share.{uuid.uuid4().hex[:12]}"
        armed = [True]

        def worker_commits_now(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
            sql = statement.lstrip().upper()
            if armed and (sql.startswith(("INSERT", "UPDATE", "DELETE")) or "FOR UPDATE" in sql):  # first write/lock
                armed.clear()
                fs, root = url_to_fs(config.storage_url, **config.storage_options)
                fs.pipe_file(f"{root.rstrip('/')}/{late_key}", b"late share copy")
                row = {"media_id": uuid.UUID(media["id"]), "name": "share", "storage_key": late_key}
                row |= {"content_type": "image/jpeg", "size": 15, "checksum_sha256": "0" * 64}
                query(config, insert(MediaVariant).values(id=uuid.uuid4(), created_at=datetime.now(UTC), **row))

        engine = client.app.plugins.get(MediaVault).runtime.engine.sync_engine
        event.listen(engine, "before_cursor_execute", worker_commits_now)
        try:
            assert client.delete(f"{PREFIX}/media/{media['id']}", headers=owner.headers).status_code == 204
        finally:
            event.remove(engine, "before_cursor_execute", worker_commits_now)
        assert not armed
        assert query(config, "SELECT storage_key FROM mediavault_media_variant") == []
        assert stored_objects(config) == {}
