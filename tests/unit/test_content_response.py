"""content_response mounted in a tiny Litestar app, checked through TestClient and at the raw ASGI level."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from litestar import Litestar, Request, Response, route
from litestar.testing import TestClient

from mediavault.errors import RangeNotSatisfiable
from mediavault.http.content import (
    CONTENT_SECURITY_POLICY,
    content_disposition,
    content_response,
    is_passive_type,
    sanitize_filename,
)
from mediavault.storage.base import StoredFile
from mediavault.storage.fsspec import FsspecStorage

DATA = bytes(range(256)) * 4 + b"tail"  # 1028 bytes
SHA = hashlib.sha256(DATA).hexdigest()
ETAG = f'"{SHA}"'
LAST_MODIFIED = datetime(2024, 5, 17, 12, 30, 45, 654321, tzinfo=UTC)
LM_HEADER = "Fri, 17 May 2024 12:30:45 GMT"
KEY = "media/owner/file"
FILE = StoredFile(KEY, len(DATA), SHA, "image/png", "photo.png", LAST_MODIFIED)


class Meta:
    """What the route serves; tests tweak it."""

    size = len(DATA)
    sha = SHA
    content_type = "image/png"
    filename = "photo.png"
    key = KEY


def _run(coro: Any) -> Any:
    return asyncio.run(coro)


@pytest.fixture
def storage() -> Iterator[FsspecStorage]:
    backend = FsspecStorage(f"memory://content-test-{uuid.uuid4().hex}")

    async def put(key: str, data: bytes) -> None:
        writer = await backend.open_writer(key)
        await writer.write(data)
        await writer.close()

    _run(put(KEY, DATA))
    _run(put("media/owner/empty", b""))
    yield backend
    backend.fs.rm(backend.root, recursive=True)


@pytest.fixture
def meta() -> Iterator[type[Meta]]:
    saved = dict(vars(Meta))
    yield Meta
    for k in ("size", "sha", "content_type", "filename", "key"):
        setattr(Meta, k, saved[k])


@pytest.fixture
def app(storage: FsspecStorage, meta: type[Meta]) -> Litestar:
    @route("/f", http_method=["GET", "HEAD"])
    async def serve(request: Request) -> Response:
        return await content_response(
            method=request.method,
            headers=request.headers,
            storage=storage,
            file=StoredFile(meta.key, meta.size, meta.sha, meta.content_type, meta.filename, LAST_MODIFIED),
        )

    return Litestar(route_handlers=[serve])


@pytest.fixture
def client(app: Litestar) -> Iterator[TestClient]:
    with TestClient(app) as c:
        yield c


def _expected_common(**extra: str) -> dict[str, str]:
    return {
        "etag": ETAG,
        "last-modified": LM_HEADER,
        "cache-control": "private, no-cache",
        "accept-ranges": "bytes",
        "x-content-type-options": "nosniff",
        "content-security-policy": "default-src 'none'; sandbox",
        "content-type": "image/png",
        "content-disposition": "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png",
        **extra,
    }


def _headers(resp: Any) -> dict[str, str]:
    return {k.lower(): v for k, v in resp.headers.items()}


# --- 200 / HEAD -------------------------------------------------------------------------------------------------


def test_full_get(client: TestClient) -> None:
    resp = client.get("/f")
    assert resp.status_code == 200
    assert resp.content == DATA
    headers = _headers(resp)
    assert headers == {**_expected_common(), "content-length": str(len(DATA))}


def test_head_same_headers_no_body(client: TestClient) -> None:
    get = client.get("/f")
    head = client.head("/f")
    assert head.status_code == 200
    assert head.content == b""
    assert _headers(head) == _headers(get)


async def _asgi_call(app: Litestar, method: str, headers: list[tuple[bytes, bytes]] = ()) -> tuple[int, dict, bytes]:  # type: ignore[assignment]
    """Drive the ASGI app directly (TestClient drops HEAD bodies itself, hiding a server that sends one)."""
    messages: list[dict] = []
    request_sent = False
    response_done = asyncio.Event()

    async def receive() -> dict:
        nonlocal request_sent
        if not request_sent:
            request_sent = True
            return {"type": "http.request", "body": b"", "more_body": False}
        await response_done.wait()  # like a server: the client goes away once the response is complete
        return {"type": "http.disconnect"}

    async def send(message: dict) -> None:
        messages.append(message)
        if message["type"] == "http.response.body" and not message.get("more_body", False):
            response_done.set()

    scope = {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": "/f",
        "raw_path": b"/f",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"test"), *headers],
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
        "state": {},
    }
    await app(scope, receive, send)  # type: ignore[arg-type]
    start = messages[0]
    body = b"".join(m.get("body", b"") for m in messages[1:])
    return start["status"], {k.decode(): v.decode() for k, v in start["headers"]}, body


def test_head_sends_no_body_bytes_at_asgi_level(app: Litestar) -> None:
    with TestClient(app):  # runs the app's startup
        status, headers, body = _run(_asgi_call(app, "HEAD"))
    assert status == 200
    assert body == b""
    assert headers["content-length"] == str(len(DATA))

    with TestClient(app):
        status, headers, body = _run(_asgi_call(app, "GET"))
    assert (status, body) == (200, DATA)


def test_head_ignores_range(client: TestClient) -> None:
    resp = client.head("/f", headers={"Range": "bytes=0-9"})
    assert resp.status_code == 200
    assert "content-range" not in _headers(resp)
    assert _headers(resp)["content-length"] == str(len(DATA))


def test_content_type_kept_as_stored(client: TestClient, meta: type[Meta]) -> None:
    meta.content_type = "text/plain"
    resp = client.get("/f")
    assert resp.headers["content-type"] == "text/plain"  # no charset added
    assert resp.headers["content-disposition"].startswith("inline;")


def test_empty_object(client: TestClient, meta: type[Meta]) -> None:
    meta.key, meta.size, meta.sha = "media/owner/empty", 0, hashlib.sha256(b"").hexdigest()
    resp = client.get("/f")
    assert resp.status_code == 200
    assert resp.content == b""
    assert resp.headers["content-length"] == "0"


# --- 206 --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("range_header", "start", "end"),
    [
        ("bytes=0-0", 0, 1),
        ("bytes=5-10", 5, 11),
        ("bytes=1000-", 1000, 1028),
        ("bytes=-4", 1024, 1028),
        ("bytes=100-99999", 100, 1028),
        ("bytes=-5000", 0, 1028),
    ],
)
def test_single_range(client: TestClient, range_header: str, start: int, end: int) -> None:
    resp = client.get("/f", headers={"Range": range_header})
    assert resp.status_code == 206
    assert resp.content == DATA[start:end]
    assert _headers(resp) == {
        **_expected_common(),
        "content-length": str(end - start),
        "content-range": f"bytes {start}-{end - 1}/{len(DATA)}",
    }


@pytest.mark.parametrize("range_header", ["bytes=0-1,5-6", "items=0-5", "bytes=9-3", "bytes=x-"])
def test_ignored_ranges_give_full_200(client: TestClient, range_header: str) -> None:
    resp = client.get("/f", headers={"Range": range_header})
    assert resp.status_code == 200
    assert resp.content == DATA
    assert "content-range" not in _headers(resp)


@pytest.mark.parametrize(
    ("if_range", "status"),
    [
        (ETAG, 206),
        (LM_HEADER, 206),
        (f"W/{ETAG}", 200),
        ('"stale"', 200),
        ("Fri, 17 May 2024 12:30:44 GMT", 200),
        ("junk", 200),
    ],
)
def test_if_range(client: TestClient, if_range: str, status: int) -> None:
    resp = client.get("/f", headers={"Range": "bytes=0-9", "If-Range": if_range})
    assert resp.status_code == status
    assert resp.content == (DATA[:10] if status == 206 else DATA)


def test_if_range_without_range_is_ignored(client: TestClient) -> None:
    resp = client.get("/f", headers={"If-Range": '"stale"'})
    assert resp.status_code == 200


# --- 304 --------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("inm", [ETAG, f"W/{ETAG}", "*", f'"a", {ETAG}'])
@pytest.mark.parametrize("method", ["GET", "HEAD"])
def test_if_none_match_304(client: TestClient, inm: str, method: str) -> None:
    resp = client.request(method, "/f", headers={"If-None-Match": inm, "Range": "bytes=0-1"})
    assert resp.status_code == 304
    assert resp.content == b""
    assert _headers(resp) == {"etag": ETAG, "last-modified": LM_HEADER, "cache-control": "private, no-cache"}


def test_if_none_match_other_tag_full(client: TestClient) -> None:
    resp = client.get("/f", headers={"If-None-Match": '"other"', "If-Modified-Since": LM_HEADER})
    assert resp.status_code == 200  # If-Modified-Since is ignored when If-None-Match is present
    assert resp.content == DATA


def test_if_modified_since(client: TestClient) -> None:
    assert client.get("/f", headers={"If-Modified-Since": LM_HEADER}).status_code == 304
    assert client.get("/f", headers={"If-Modified-Since": "Fri, 17 May 2024 12:30:44 GMT"}).status_code == 200
    assert client.get("/f", headers={"If-Modified-Since": "garbage"}).status_code == 200


def test_if_none_match_repeated_lines(app: Litestar) -> None:
    with TestClient(app):
        status, _, body = _run(_asgi_call(app, "GET", [(b"if-none-match", b'"a"'), (b"if-none-match", ETAG.encode())]))
    assert (status, body) == (304, b"")


# --- 416 --------------------------------------------------------------------------------------------------------


def _call(
    storage: FsspecStorage, *, method: str = "GET", size: int = len(DATA), key: str = KEY, **headers: str
) -> Response:
    return asyncio.run(
        content_response(
            method=method,
            headers={k.replace("_", "-").lower(): v for k, v in headers.items()},
            storage=storage,
            file=replace(FILE, size=size, key=key),
        )
    )


@pytest.mark.parametrize(("range_header", "size"), [("bytes=1028-", 1028), ("bytes=-0", 1028), ("bytes=0-", 0)])
def test_unsatisfiable_raises(storage: FsspecStorage, range_header: str, size: int) -> None:
    with pytest.raises(RangeNotSatisfiable) as excinfo:
        _call(storage, size=size, range=range_header)
    assert excinfo.value.headers == {"Content-Range": f"bytes */{size}"}


def test_unsatisfiable_but_not_modified_is_304(storage: FsspecStorage) -> None:
    resp = _call(storage, range="bytes=5000-", if_none_match=ETAG)
    assert resp.status_code == 304


def test_unsatisfiable_with_stale_if_range_is_200(storage: FsspecStorage) -> None:
    resp = _call(storage, range="bytes=5000-", if_range='"stale"')
    assert resp.status_code == 200


def test_plain_dict_headers_any_case(storage: FsspecStorage) -> None:
    resp = asyncio.run(content_response(method="GET", headers={"Range": "bytes=0-1"}, storage=storage, file=FILE))
    assert resp.status_code == 206


def test_invalid_key_raises_before_streaming(storage: FsspecStorage) -> None:
    with pytest.raises(ValueError):
        _call(storage, key="../etc/passwd", size=1)


def test_missing_object_fails_before_the_response_starts(storage: FsspecStorage) -> None:
    with pytest.raises(FileNotFoundError):
        _call(storage, key="media/nobody/missing", size=10)


# --- disposition and active types -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("content_type", "passive"),
    [
        ("image/png", True),
        ("image/jpeg", True),
        ("IMAGE/GIF", True),
        ("image/webp", True),
        ("video/mp4", True),
        ("audio/mpeg", True),
        ("application/pdf", True),
        ("text/plain", True),
        ("text/plain; charset=utf-8", True),
        ("image/svg+xml", False),
        ("image/svg", False),
        ("text/html", False),
        ("text/html; charset=utf-8", False),
        ("application/xhtml+xml", False),
        ("text/xml", False),
        ("application/xml", False),
        ("application/rss+xml", False),
        ("application/javascript", False),
        ("text/javascript", False),
        ("text/css", False),
        ("application/octet-stream", False),
        ("application/json", False),
        ("application/x-shockwave-flash", False),
        ("image/", False),
        ("", False),
    ],
)
def test_is_passive_type(content_type: str, passive: bool) -> None:
    assert is_passive_type(content_type) is passive


@pytest.mark.parametrize(
    "content_type", ["text/html", "image/svg+xml", "application/xml", "application/xhtml+xml", "text/javascript"]
)
def test_active_types_are_attachments_with_sandbox(client: TestClient, meta: type[Meta], content_type: str) -> None:
    meta.content_type = content_type
    meta.filename = "evil.html"
    resp = client.get("/f")
    assert resp.status_code == 200
    assert resp.headers["content-type"] == content_type
    assert resp.headers["content-disposition"] == "attachment; filename=\"evil.html\"; filename*=UTF-8''evil.html"
    assert resp.headers["content-security-policy"] == CONTENT_SECURITY_POLICY
    assert "sandbox" in resp.headers["content-security-policy"]
    assert resp.headers["x-content-type-options"] == "nosniff"


def test_injected_content_type_is_neutralised(client: TestClient, meta: type[Meta]) -> None:
    meta.content_type = "text/html\r\nSet-Cookie: a=b"
    resp = client.get("/f")
    assert resp.headers["content-type"] == "application/octet-stream"
    assert "set-cookie" not in _headers(resp)


@pytest.mark.parametrize(
    ("filename", "expected"),
    [
        ("photo.png", "inline; filename=\"photo.png\"; filename*=UTF-8''photo.png"),
        ("my photo.png", "inline; filename=\"my photo.png\"; filename*=UTF-8''my%20photo.png"),
        ("café.png", "inline; filename=\"cafe.png\"; filename*=UTF-8''caf%C3%A9.png"),
        ("写真.png", "inline; filename=\"__.png\"; filename*=UTF-8''%E5%86%99%E7%9C%9F.png"),
        ('a"b.png', "inline; filename=\"a_b.png\"; filename*=UTF-8''a_b.png"),
        (
            "a\r\nSet-Cookie: x=y.png",
            "inline; filename=\"aSet-Cookie: x=y.png\"; filename*=UTF-8''aSet-Cookie%3A%20x%3Dy.png",
        ),
        ("..\\..\\etc/passwd", "inline; filename=\"_.._etc_passwd\"; filename*=UTF-8''_.._etc_passwd"),
        ("100%.png", "inline; filename=\"100_.png\"; filename*=UTF-8''100%25.png"),
        ("", "inline; filename=\"download\"; filename*=UTF-8''download"),
        ("\x00\x1f\x7f", "inline; filename=\"download\"; filename*=UTF-8''download"),
        ("a;b=c.png", "inline; filename=\"a;b=c.png\"; filename*=UTF-8''a%3Bb%3Dc.png"),
    ],
)
def test_content_disposition(filename: str, expected: str) -> None:
    value = content_disposition(filename, inline=True)
    assert value == expected
    value.encode("ascii")  # always a valid ASCII header value


def test_content_disposition_attachment() -> None:
    assert content_disposition("x.bin", inline=False) == "attachment; filename=\"x.bin\"; filename*=UTF-8''x.bin"


def test_sanitize_filename_length() -> None:
    name = sanitize_filename("a" * 1000 + ".jpeg")
    assert len(name) == 255 and name.endswith(".jpeg")
    assert len(sanitize_filename("b" * 1000)) == 255


def test_unicode_filename_through_http(client: TestClient, meta: type[Meta]) -> None:
    meta.filename = "Ünïcödé résumé.pdf"
    meta.content_type = "application/pdf"
    resp = client.get("/f")
    assert resp.headers["content-disposition"] == (
        "inline; filename=\"Unicode resume.pdf\"; filename*=UTF-8''%C3%9Cn%C3%AFc%C3%B6d%C3%A9%20r%C3%A9sum%C3%A9.pdf"
    )
