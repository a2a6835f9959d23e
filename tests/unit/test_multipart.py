"""Streaming multipart/form-data uploads: mediavault.http.multipart.open_upload's stream, written to a storage writer
by mediavault.storage.base.write_stream (what the upload route and the media service do together)."""

from __future__ import annotations

import asyncio
import hashlib
import os
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass

import pytest

from mediavault.errors import PayloadTooLarge, UnsupportedMediaType, ValidationError
from mediavault.http.multipart import FRAMING_ALLOWANCE, open_upload
from mediavault.storage.base import HEAD_SIZE, StorageWriter, write_stream

BOUNDARY = "----mvBoundary7MA4YWxkTrZu0gW"
CT = f"multipart/form-data; boundary={BOUNDARY}"


class MemoryWriter(StorageWriter):
    """In-memory test double of the StorageWriter ABC."""

    def __init__(self, key: str = "media/test/1") -> None:
        self.key = key
        self.buffer = bytearray()
        self.writes = 0
        self.closed = False
        self.aborted = False

    async def write(self, data: bytes) -> None:
        assert not self.closed and not self.aborted
        assert isinstance(data, bytes)
        self.buffer += data
        self.writes += 1

    async def close(self) -> None:
        assert not self.aborted
        self.closed = True

    async def abort(self) -> None:
        assert not self.closed
        self.aborted = True
        self.buffer.clear()


class Opener:
    def __init__(self) -> None:
        self.writers: list[MemoryWriter] = []

    async def __call__(self) -> StorageWriter:
        writer = MemoryWriter()
        self.writers.append(writer)
        return writer

    @property
    def writer(self) -> MemoryWriter:
        assert len(self.writers) == 1
        return self.writers[0]

    @property
    def nothing_kept(self) -> bool:
        """No writer was opened (the error came with the chunk that began the file part), or each was aborted."""
        return all(w.aborted and not w.closed and not w.buffer for w in self.writers)


def encode(
    fields: Iterable[tuple[str, str]] = (),
    file: tuple[str, bytes] | None = None,
    *,
    file_field: str = "file",
    file_ct: str | None = "application/octet-stream",
    boundary: str = BOUNDARY,
    file_first: bool = False,
    disposition: str | None = None,
    closing: bool = True,
) -> bytes:
    """Encode a multipart/form-data body (RFC 7578) the way a browser would."""
    b = boundary.encode()
    parts: list[bytes] = []
    for name, value in fields:
        parts.append(
            b"--" + b + b"\r\n"
            b'Content-Disposition: form-data; name="' + name.encode() + b'"\r\n\r\n' + value.encode() + b"\r\n"
        )
    if file is not None:
        filename, content = file
        disp = disposition or f'form-data; name="{file_field}"; filename="{filename}"'
        head = b"--" + b + b"\r\nContent-Disposition: " + disp.encode() + b"\r\n"
        if file_ct is not None:
            head += b"Content-Type: " + file_ct.encode() + b"\r\n"
        part = head + b"\r\n" + content + b"\r\n"
        if file_first:
            parts.insert(0, part)
        else:
            parts.append(part)
    body = b"".join(parts)
    if closing:
        body += b"--" + b + b"--\r\n"
    return body


class Body:
    """An async body iterator that records how far it was consumed."""

    def __init__(self, data: bytes, chunk_size: int | Iterable[int] = 65536, fail_after: int | None = None) -> None:
        self.data = data
        self.sizes = chunk_size
        self.fail_after = fail_after
        self.advanced = 0
        self.consumed = 0

    def __aiter__(self) -> AsyncIterator[bytes]:
        return self._gen()

    async def _gen(self) -> AsyncIterator[bytes]:
        pos = 0
        sizes = iter(self.sizes) if not isinstance(self.sizes, int) else None
        while pos < len(self.data):
            if self.fail_after is not None and pos >= self.fail_after:
                raise ConnectionResetError("client disconnected")
            size = next(sizes, 65536) if sizes is not None else self.sizes
            chunk = self.data[pos : pos + size]
            pos += len(chunk)
            self.advanced += 1
            self.consumed = pos
            yield chunk


@dataclass
class ReceivedFile:
    filename: str
    client_content_type: str | None
    size: int
    checksum_sha256: str
    head: bytes
    writer: StorageWriter


@dataclass
class Received:
    fields: dict[str, str]
    file: ReceivedFile


async def receive(
    body: AsyncIterator[bytes],
    *,
    open_writer: Callable[[], Awaitable[StorageWriter]],
    content_type: str | None = CT,
    content_length: str | None = None,
    max_size: int = 1 << 20,
    **kwargs,
) -> Received:
    """Parse up to the file part, open a writer, stream the file into it (the upload route and service's way)."""
    stream = await open_upload(
        content_type=content_type, content_length=content_length, body=body, max_size=max_size, **kwargs
    )
    writer = await open_writer()
    written = await write_stream(writer, stream)
    file = ReceivedFile(
        stream.filename, stream.client_content_type, written.size, written.checksum_sha256, written.head, writer
    )
    return Received(fields=stream.fields, file=file)


def run(
    body: Body | bytes,
    *,
    opener: Opener | None = None,
    content_length: str | None = "auto",
    **kwargs,
) -> Received:
    if isinstance(body, bytes):
        body = Body(body)
    if content_length == "auto":
        content_length = str(len(body.data))
    return asyncio.run(
        receive(body.__aiter__(), open_writer=opener or Opener(), content_length=content_length, **kwargs)
    )


# ------------------------------------------------------------------------------- happy paths


@pytest.mark.parametrize("chunk_size", [1, 2, 3, 7, 61, 64, 1000, 4096, 65536, 1 << 20])
def test_roundtrip_in_odd_chunk_sizes(chunk_size: int) -> None:
    content = os.urandom(20_000) + b"\r\n--" + BOUNDARY[:-3].encode() + b"\r\n" + os.urandom(5000)
    data = encode([("title", "Sunset"), ("tags", "a,b")], ("photo.bin", content))
    opener = Opener()
    upload = run(Body(data, chunk_size), opener=opener)

    writer = opener.writer
    assert writer.closed and not writer.aborted
    assert bytes(writer.buffer) == content
    assert upload.file.writer is writer
    assert upload.file.size == len(content)
    assert upload.file.checksum_sha256 == hashlib.sha256(content).hexdigest()
    assert upload.file.head == content[:HEAD_SIZE]
    assert upload.file.filename == "photo.bin"
    assert upload.file.client_content_type == "application/octet-stream"
    assert upload.fields == {"title": "Sunset", "tags": "a,b"}


def test_boundary_split_across_every_position() -> None:
    content = b"x" * 300 + b"\r\n-" + b"y" * 50
    data = encode([("title", "t")], ("a.txt", content))
    closing = data.rindex(b"\r\n--" + BOUNDARY.encode())
    for split in range(closing - 2, closing + len(BOUNDARY) + 8):
        opener = Opener()
        upload = run(Body(data, [split, len(data)]), opener=opener)
        assert bytes(opener.writer.buffer) == content, split
        assert upload.fields == {"title": "t"}


def test_small_file_head_is_whole_file_and_writes_are_batched() -> None:
    content = b"tiny"
    opener = Opener()
    upload = run(Body(encode(file=("t.txt", content)), 1), opener=opener)
    assert upload.file.head == b"tiny"
    assert upload.file.size == 4
    assert opener.writer.writes == 1  # 1-byte chunks are coalesced, not written one by one


def test_fields_after_the_file_and_unicode_values() -> None:
    data = encode([("title", "Закат 🌅"), ("description", "")], ("f.bin", b"abc"), file_first=True)
    upload = run(data)
    assert upload.fields == {"title": "Закат 🌅", "description": ""}
    assert upload.file.size == 3


def test_open_upload_returns_when_the_file_part_begins() -> None:
    data = encode([("title", "t")], ("f.bin", b"abc"))
    body = Body(data, 1)
    file_part_start = data.index(b'name="file"')

    async def main() -> None:
        stream = await open_upload(content_type=CT, content_length=None, body=body.__aiter__(), max_size=100)
        assert file_part_start < body.consumed <= data.index(b"abc")  # nothing of the file read yet
        assert (stream.filename, stream.fields) == ("f.bin", {"title": "t"})
        assert [chunk async for chunk in stream] == [b"abc"]
        assert body.consumed > data.rindex(b"--" + BOUNDARY.encode())  # read on to the closing boundary

    asyncio.run(main())


@pytest.mark.parametrize(("chunk_size", "arrived"), [(10**6, True), (7, False)])
def test_arrived_says_whether_the_closing_boundary_was_read(chunk_size: int, arrived: bool) -> None:
    """A body that came in one piece is parsed whole by open_upload; one still arriving is not."""
    data = encode([("title", "t")], ("f.bin", b"abc"))

    async def main() -> None:
        stream = await open_upload(
            content_type=CT, content_length=None, body=Body(data, chunk_size).__aiter__(), max_size=100
        )
        assert stream.arrived is arrived
        assert [chunk async for chunk in stream] == [b"abc"]
        assert stream.arrived

    asyncio.run(main())


def test_no_writer_when_body_fails_before_file_part() -> None:
    opener = Opener()
    with pytest.raises(ValidationError):
        run(encode([("title", "t")], None), opener=opener)
    assert opener.writers == []


@pytest.mark.parametrize(
    ("disposition", "expected"),
    [
        ('form-data; name="file"; filename="фото 📷.jpg"', "фото 📷.jpg"),
        ('form-data; name="file"; filename="../../etc/passwd"', "../../etc/passwd"),
        ('form-data; name="file"; filename="C:\\x\\y.png"', "C:\\x\\y.png"),
        ('form-data; name="file"; filename="a;b=c.png"', "a;b=c.png"),
        ('form-data; name="file"; filename="say \\"hi\\".txt"', 'say "hi".txt'),
        ('form-data; name="file"; filename=plain.txt', "plain.txt"),
        ('form-data; name="file"; filename=""', ""),
        ('form-data; name="file"', ""),
        ('form-data; name="file"; filename="x.bin"; filename*=UTF-8\'\'na%C3%AFve%20%E2%9C%93.txt', "naïve ✓.txt"),
        ("form-data; filename*=utf-8''%F0%9F%93%B7.png; NAME=file", "📷.png"),
        ('FORM-DATA; name="file"; filename="ok.txt"; filename*=bogus\'\'%FF', "ok.txt"),
    ],
)
def test_filenames_are_passed_through_raw(disposition: str, expected: str) -> None:
    upload = run(encode(file=("", b"data"), disposition=disposition))
    assert upload.file.filename == expected


def test_latin1_filename_bytes_fall_back() -> None:
    data = encode(file=("x", b"data")).replace(b'filename="x"', b'filename="caf\xe9.txt"')
    assert run(data).file.filename == "café.txt"


def test_client_content_type_absent_is_none() -> None:
    assert run(encode(file=("a", b"1"), file_ct=None)).file.client_content_type is None


def test_custom_file_field_and_quoted_boundary() -> None:
    data = encode(file=("a", b"123"), file_field="upload", boundary="a b:c")
    upload = run(data, content_type='Multipart/Form-Data; charset=utf-8; boundary="a b:c"', file_field="upload")
    assert upload.file.size == 3


def test_preamble_newlines_and_epilogue_ignored() -> None:
    data = b"\r\n" + encode(file=("a", b"xyz")) + b"epilogue garbage that is never parsed"
    assert run(data).file.size == 3


# ------------------------------------------------------------------------------- size limits


def test_content_length_over_limit_rejected_before_reading() -> None:
    data = encode(file=("a", b"x" * 100))
    body = Body(data)
    opener = Opener()
    with pytest.raises(PayloadTooLarge):
        run(body, opener=opener, max_size=10, content_length=str(10 + FRAMING_ALLOWANCE + 1))
    assert body.advanced == 0
    assert opener.writers == []


def test_content_length_within_framing_allowance_is_read() -> None:
    data = encode(file=("a", b"x" * 10))
    assert run(data, max_size=10, content_length=str(10 + FRAMING_ALLOWANCE)).file.size == 10


def test_file_exactly_max_size_ok_one_more_byte_413() -> None:
    assert run(encode(file=("a", b"x" * 1000)), max_size=1000).file.size == 1000
    opener = Opener()
    with pytest.raises(PayloadTooLarge):
        run(encode(file=("a", b"x" * 1001)), max_size=1000, opener=opener)
    assert opener.nothing_kept


def test_file_over_limit_while_streaming_stops_reading_and_aborts() -> None:
    max_size = 100_000
    data = encode(file=("a", os.urandom(1_000_000)))
    body = Body(data, 4096)
    opener = Opener()
    with pytest.raises(PayloadTooLarge):
        run(body, opener=opener, max_size=max_size, content_length=None)  # chunked: no declared length
    assert opener.writer.aborted
    assert opener.writer.buffer == b""
    assert body.consumed < max_size + 3 * 4096  # stopped right after crossing the limit


def test_lying_content_length_still_caught_while_streaming() -> None:
    opener = Opener()
    with pytest.raises(PayloadTooLarge):
        run(encode(file=("a", b"x" * 5000)), opener=opener, max_size=1000, content_length="10")
    assert opener.nothing_kept


def test_whole_body_limit_while_streaming_without_content_length() -> None:
    # Endless "epilogue-like" preamble of CRLFs: never a file byte, but the body is capped.
    body = Body(b"\r\n" * (FRAMING_ALLOWANCE + 600), 1024)
    with pytest.raises(PayloadTooLarge):
        run(body, max_size=1000, content_length=None)


def test_invalid_content_length() -> None:
    with pytest.raises(ValidationError):
        run(encode(file=("a", b"x")), content_length="12abc")


# ------------------------------------------------------------------------------- bad requests


@pytest.mark.parametrize(
    "content_type", [None, "", "application/json", "multipart/mixed; boundary=x", "text/plain; boundary=x"]
)
def test_wrong_content_type_is_415(content_type: str | None) -> None:
    body = Body(encode(file=("a", b"x")))
    with pytest.raises(UnsupportedMediaType) as info:
        run(body, content_type=content_type)
    assert info.value.status_code == 415
    assert body.advanced == 0


@pytest.mark.parametrize(
    "content_type", ["multipart/form-data", "multipart/form-data; boundary=", 'multipart/form-data; boundary=""']
)
def test_missing_boundary_is_400(content_type: str) -> None:
    with pytest.raises(ValidationError) as info:
        run(encode(file=("a", b"x")), content_type=content_type)
    assert info.value.status_code == 400


def test_overlong_boundary_is_400() -> None:
    with pytest.raises(ValidationError):
        run(b"", content_type="multipart/form-data; boundary=" + "x" * 300)


def test_missing_file_part() -> None:
    with pytest.raises(ValidationError) as info:
        run(encode([("title", "t")]))
    assert info.value.details == [{"field": "file", "message": "is required"}]


def test_empty_file_is_rejected_and_aborted() -> None:
    opener = Opener()
    with pytest.raises(ValidationError) as info:
        run(encode(file=("a.png", b"")), opener=opener)
    assert info.value.details == [{"field": "file", "message": "must not be empty"}]
    assert opener.writer.aborted and not opener.writer.closed


@pytest.mark.parametrize("chunk_size", [1, 65536])
def test_no_closing_boundary_aborts(chunk_size: int) -> None:
    opener = Opener()
    with pytest.raises(ValidationError) as info:
        run(Body(encode(file=("a", b"abc"), closing=False), chunk_size), opener=opener)
    assert "no closing boundary" in info.value.message
    assert opener.writer.aborted and not opener.writer.closed


def test_truncated_body_aborts() -> None:
    data = encode(file=("a", b"a" * 1000))
    opener = Opener()
    with pytest.raises(ValidationError):
        run(data[:600], opener=opener)
    assert opener.writer.aborted


def test_empty_body() -> None:
    with pytest.raises(ValidationError):
        run(b"")


def test_garbage_body_is_malformed() -> None:
    opener = Opener()
    with pytest.raises(ValidationError) as info:
        run(b"this is not multipart at all", opener=opener)
    assert info.value.message == "malformed multipart body"
    assert opener.writers == []


def test_malformed_after_file_data_aborts() -> None:
    good = encode(file=("a", b"a" * 100))
    bad = good.replace(b"--" + BOUNDARY.encode() + b"--", b"--" + BOUNDARY.encode() + b"\r\nBad Header\r\n\r\n")
    opener = Opener()
    with pytest.raises(ValidationError):
        run(Body(bad, 64), opener=opener)  # small chunks: the file part is open when the error comes
    assert opener.writer.aborted


def test_two_file_parts() -> None:
    one = encode(file=("a", b"first"), closing=False)
    data = one + encode(file=("b", b"second"))
    opener = Opener()
    with pytest.raises(ValidationError) as info:
        run(Body(data, len(one)), opener=opener)  # the second part arrives once the first one is being written
    assert info.value.details[0]["field"] == "file"
    assert opener.writer.aborted


def test_file_under_another_field_name() -> None:
    data = encode(file=("a", b"x"), closing=False) + encode(file=("b", b"y"), file_field="other")
    with pytest.raises(ValidationError) as info:
        run(data)
    assert info.value.details[0]["field"] == "other"


def test_text_field_too_large() -> None:
    with pytest.raises(ValidationError) as info:
        run(encode([("description", "d" * 101)], ("a", b"x")), max_field_size=100)
    assert info.value.details[0]["field"] == "description"
    assert run(encode([("description", "d" * 100)], ("a", b"x")), max_field_size=100).fields["description"]


def test_too_many_parts() -> None:
    fields = [(f"f{i}", "v") for i in range(5)]
    with pytest.raises(ValidationError):
        run(encode(fields, ("a", b"x")), max_fields=5)
    assert len(run(encode(fields[:4], ("a", b"x")), max_fields=5).fields) == 4


def test_repeated_field_rejected() -> None:
    with pytest.raises(ValidationError) as info:
        run(encode([("title", "a"), ("title", "b")], ("a", b"x")))
    assert info.value.details[0]["field"] == "title"


def test_invalid_utf8_field() -> None:
    data = encode([("title", "XX")], ("a", b"x")).replace(b"XX", b"\xff\xfe")
    with pytest.raises(ValidationError):
        run(data)


@pytest.mark.parametrize(
    "disposition",
    ['attachment; name="file"; filename="a"', 'form-data; filename="a"', "form-data"],
)
def test_bad_content_disposition(disposition: str) -> None:
    with pytest.raises(ValidationError):
        run(encode(file=("a", b"x"), disposition=disposition))


# ------------------------------------------------------------------------------- disconnects/cancellation


def test_client_disconnect_mid_body_aborts_and_reraises() -> None:
    data = encode([("title", "t")], ("a", os.urandom(200_000)))
    opener = Opener()
    with pytest.raises(ConnectionResetError):
        run(Body(data, 8192, fail_after=50_000), opener=opener)
    assert opener.writer.aborted and not opener.writer.closed
    assert opener.writer.buffer == b""


def test_cancellation_aborts_writer() -> None:
    opener = Opener()
    started = asyncio.Event()

    async def slow_body() -> AsyncIterator[bytes]:
        data = encode(file=("a", b"x" * 10_000), closing=False)
        yield data
        started.set()
        await asyncio.sleep(3600)
        yield b"never"

    async def main() -> None:
        task = asyncio.create_task(receive(slow_body(), open_writer=opener))
        await started.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError):
            await task

    asyncio.run(main())
    assert opener.writer.aborted and not opener.writer.closed


def test_writer_error_aborts() -> None:
    class Failing(MemoryWriter):
        async def write(self, data: bytes) -> None:
            raise OSError("disk full")

    writers: list[MemoryWriter] = []

    async def opener() -> StorageWriter:
        writers.append(Failing())
        return writers[-1]

    with pytest.raises(OSError, match="disk full"):
        asyncio.run(receive(Body(encode(file=("a", b"x" * 10))).__aiter__(), open_writer=opener, max_size=100))
    assert writers[0].aborted
