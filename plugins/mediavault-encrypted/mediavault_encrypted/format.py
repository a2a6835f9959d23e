"""The encrypted object format: a header, then AES-256-GCM chunks, and a seekable decrypting reader.

Layout of one stored object (all integers big-endian)::

    header   48 bytes   magic b"MVE1" | chunk size (u32) | key id (8 bytes) | salt (32 random bytes)
    chunk 0  chunk size + 16 bytes   AES-256-GCM ciphertext + tag
    ...
    chunk n  1..chunk size + 16 bytes (the final chunk; 16 bytes for an empty object)

Each object gets its own AES-256 key, derived from the master key and the object's random salt with
HKDF-SHA256 (RFC 5869; info ``mediavault-encrypted/v1/object-key``), so nonces never repeat across objects
and a chunk can only be opened inside its own object. Chunks follow the STREAM construction (Hoang,
Reyhanitabar, Rogaway and Vizár, "Online Authenticated-Encryption and its Nonce-Reuse Misuse-Resistance",
CRYPTO 2015), as Tink's streaming AEAD and age do: the nonce is the chunk index (88 bits) and a final flag
(8 bits), and both, with the whole header and the storage key, are the associated data. So a chunk that was
changed, moved, reordered, dropped or appended, a truncated object, an object moved to another storage key
and a changed header all fail authentication (:class:`DecryptionError`) instead of decrypting to wrong bytes.

The key id (the first 8 bytes of HMAC-SHA256(master key, ``mediavault-encrypted/v1/key-id``)) names the
master key an object was written with, so several keys can be configured for rotation (:class:`Keyring`) and
a wrong key is reported as such rather than as tampering.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import io
import os
import struct
from collections.abc import Sequence
from typing import IO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

__all__ = (
    "DEFAULT_CHUNK_SIZE",
    "HEADER_SIZE",
    "TAG_SIZE",
    "DecryptingReader",
    "DecryptionError",
    "Keyring",
    "ObjectCipher",
    "UnknownKeyError",
    "check_chunk_size",
    "generate_key",
)

MAGIC = b"MVE1"
_HEADER = struct.Struct(">4sI8s32s")
HEADER_SIZE = _HEADER.size
"""Bytes of the header before the first chunk (48)."""
TAG_SIZE = 16
"""Bytes of the GCM tag after each chunk's ciphertext."""
KEY_SIZE = 32
"""Bytes of a master key (AES-256)."""
DEFAULT_CHUNK_SIZE = 64 * 1024
"""Plaintext bytes per chunk (64 KiB): a Range read decrypts at most this much it does not send, per end."""
MIN_CHUNK_SIZE = 1024
MAX_CHUNK_SIZE = 16 * 1024 * 1024
_MAX_CHUNKS = 2**64  # the index is bound as a u64 in the associated data
_KEY_ID_INFO = b"mediavault-encrypted/v1/key-id"
_OBJECT_KEY_INFO = b"mediavault-encrypted/v1/object-key"


class DecryptionError(OSError):
    """Stored bytes are not a valid encrypted object for this key: tampered with, truncated, reordered,
    moved from another storage key, or not written by this plugin at all."""


class UnknownKeyError(DecryptionError):
    """The object was encrypted with a master key that is not configured (a wrong or retired key)."""


def generate_key() -> str:
    """Return a new random master key: 32 bytes from :func:`os.urandom`, base64-encoded (44 characters)."""
    return base64.b64encode(os.urandom(KEY_SIZE)).decode("ascii")


def check_chunk_size(chunk_size: int) -> int:
    """Return ``chunk_size`` if it is a valid plaintext chunk size (1 KiB..16 MiB).

    Raises:
        ValueError: it is not.
    """
    if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
        raise ValueError(f"chunk_size must be between {MIN_CHUNK_SIZE} and {MAX_CHUNK_SIZE} bytes")
    return chunk_size


def _key_id(master: bytes) -> bytes:
    return hmac.new(master, _KEY_ID_INFO, hashlib.sha256).digest()[:8]


class Keyring:
    """The master keys: the first encrypts new objects, every one decrypts the objects written with it.

    Args:
        keys: 32-byte AES-256 master keys, the current one first (add a new key in front to rotate; keep old
            ones while objects written with them exist).

    Raises:
        ValueError: no key, a key that is not 32 bytes, or the same key twice. Messages never show key bytes.
    """

    def __init__(self, keys: Sequence[bytes]) -> None:
        if not keys:
            raise ValueError("at least one encryption key is needed")
        self._keys: dict[bytes, bytes] = {}
        for number, key in enumerate(keys, 1):
            if not isinstance(key, bytes) or len(key) != KEY_SIZE:
                raise ValueError(f"encryption key {number} must be {KEY_SIZE} bytes")
            key_id = _key_id(key)
            if key_id in self._keys:
                raise ValueError(f"encryption key {number} is given twice")
            self._keys[key_id] = key
        self.current_id = _key_id(keys[0])
        """Key id of the key that encrypts new objects."""

    @classmethod
    def from_text(cls, text: str) -> Keyring:
        """Parse comma-separated base64 keys (standard or URL-safe alphabet), as :func:`generate_key` makes them.

        Raises:
            ValueError: a part is not base64 of 32 bytes (the message names its position, not its value).
        """
        keys = []
        for number, part in enumerate((p.strip() for p in text.split(",") if p.strip()), 1):
            try:
                keys.append(base64.b64decode(part.replace("-", "+").replace("_", "/"), validate=True))
            except (binascii.Error, ValueError):
                raise ValueError(f"encryption key {number} is not base64") from None
        return cls(keys)

    def master(self, key_id: bytes) -> bytes:
        """The master key with ``key_id``.

        Raises:
            UnknownKeyError: no configured key has that id.
        """
        try:
            return self._keys[key_id]
        except KeyError:
            raise UnknownKeyError(f"object was encrypted with key id {key_id.hex()}, which is not configured") from None

    def __repr__(self) -> str:
        return f"Keyring(current_id={self.current_id.hex()!r}, keys={len(self._keys)})"


class ObjectCipher:
    """Seals and opens the chunks of one object (key derived from the master key and the header's salt).

    Build one with :meth:`new` (writing) or :meth:`from_header` (reading).

    Attributes:
        header: The object's 48 header bytes.
        chunk_size: Plaintext bytes per chunk (all but the final chunk are exactly this long).
    """

    def __init__(self, master: bytes, header: bytes, storage_key: str) -> None:
        _, self.chunk_size, _, salt = _HEADER.unpack(header)
        self.header = header
        derived = HKDF(algorithm=hashes.SHA256(), length=KEY_SIZE, salt=salt, info=_OBJECT_KEY_INFO).derive(master)
        self._aead = AESGCM(derived)
        self._aad_suffix = storage_key.encode("utf-8")

    @classmethod
    def new(cls, keyring: Keyring, storage_key: str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> ObjectCipher:
        """A cipher for a new object at ``storage_key``, with a fresh random salt, under the current key.

        Raises:
            ValueError: ``chunk_size`` outside 1 KiB..16 MiB.
        """
        header = _HEADER.pack(MAGIC, check_chunk_size(chunk_size), keyring.current_id, os.urandom(32))
        return cls(keyring.master(keyring.current_id), header, storage_key)

    @classmethod
    def from_header(cls, keyring: Keyring, header: bytes, storage_key: str) -> ObjectCipher:
        """The cipher of a stored object from its header.

        Raises:
            DecryptionError: not a header of this format (short, wrong magic, impossible chunk size).
            UnknownKeyError: written with a key that is not in ``keyring``.
        """
        if len(header) != HEADER_SIZE:
            raise DecryptionError(f"{storage_key!r} is too short to be an encrypted object")
        magic, chunk_size, key_id, _ = _HEADER.unpack(header)
        if magic != MAGIC or not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise DecryptionError(f"{storage_key!r} is not an encrypted object (bad header)")
        return cls(keyring.master(key_id), header, storage_key)

    def _nonce_and_aad(self, index: int, final: bool) -> tuple[bytes, bytes]:
        if not 0 <= index < _MAX_CHUNKS:
            raise ValueError("chunk index out of range")
        position = struct.pack(">QB", index, final)
        return index.to_bytes(11, "big") + bytes([final]), self.header + position + self._aad_suffix

    def seal(self, index: int, final: bool, plaintext: bytes | memoryview) -> bytes:
        """Encrypt chunk ``index`` (``final``: the last chunk of the object); returns ciphertext + 16-byte tag."""
        nonce, aad = self._nonce_and_aad(index, final)
        return self._aead.encrypt(nonce, plaintext, aad)

    def open(self, index: int, final: bool, ciphertext: bytes) -> bytes:
        """Decrypt and authenticate chunk ``index``.

        Raises:
            DecryptionError: the chunk fails authentication (changed, moved, reordered or truncated).
        """
        nonce, aad = self._nonce_and_aad(index, final)
        try:
            return self._aead.decrypt(nonce, ciphertext, aad)
        except InvalidTag:
            raise DecryptionError(
                f"chunk {index} of {self._aad_suffix.decode()!r} failed authentication "
                "(tampered with, truncated, reordered or moved)"
            ) from None


class DecryptingReader(io.RawIOBase):
    """A blocking, seekable file object over a stored encrypted object, giving back its plaintext.

    Reads decrypt only the chunks they touch; one decrypted chunk is kept (memory: one chunk). ``read(n)``
    returns ``n`` bytes unless the end is reached (never a short read mid-object), so parsers such as Pillow
    can use it directly. Closing it closes ``raw``.

    Args:
        raw: The stored ciphertext, opened for seekable binary reads (taken over: closed with this reader).
        keyring: The master keys.
        storage_key: The object's storage key (bound into every chunk).

    Attributes:
        size: Plaintext length in bytes.

    Raises:
        DecryptionError: ``raw`` is not a complete encrypted object (header, length); chunk contents are
            checked when read.
        UnknownKeyError: written with a key that is not in ``keyring``.
    """

    def __init__(self, raw: IO[bytes], keyring: Keyring, storage_key: str) -> None:
        super().__init__()
        self._raw = raw
        self._cipher = ObjectCipher.from_header(keyring, raw.read(HEADER_SIZE), storage_key)
        chunk = self._chunk_size = self._cipher.chunk_size
        body = raw.seek(0, io.SEEK_END) - HEADER_SIZE
        self._chunks = -(-body // (chunk + TAG_SIZE))  # ceil
        last = body - (self._chunks - 1) * (chunk + TAG_SIZE)
        if body < TAG_SIZE or last < TAG_SIZE:
            raise DecryptionError(f"{storage_key!r} is truncated")
        self.size = body - self._chunks * TAG_SIZE
        self._pos = 0
        self._cached: tuple[int, bytes] | None = None

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        """Move to ``offset`` (from the start, the current position or the end, as :meth:`io.IOBase.seek`).

        Raises:
            ValueError: an unknown ``whence`` or a position before the start.
        """
        bases = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}
        if whence not in bases:
            raise ValueError(f"invalid whence {whence!r}")
        base = bases[whence]
        if base + offset < 0:
            raise ValueError("negative seek position")
        self._pos = base + offset
        return self._pos

    def _chunk(self, index: int) -> bytes:
        if self._cached is None or self._cached[0] != index:
            stride = self._chunk_size + TAG_SIZE
            self._raw.seek(HEADER_SIZE + index * stride)
            data = self._raw.read(stride)
            self._cached = (index, self._cipher.open(index, index == self._chunks - 1, data))
        return self._cached[1]

    def readinto(self, buffer: memoryview | bytearray) -> int:  # type: ignore[override]
        """Fill ``buffer`` from the current position; fewer bytes only at the end of the object.

        Raises:
            DecryptionError: a chunk read fails authentication.
        """
        view = memoryview(buffer).cast("B")
        filled = 0
        while filled < len(view) and self._pos < self.size:
            index, offset = divmod(self._pos, self._chunk_size)
            chunk = self._chunk(index)
            n = min(len(view) - filled, len(chunk) - offset)
            view[filled : filled + n] = memoryview(chunk)[offset : offset + n]
            filled += n
            self._pos += n
        return filled

    def close(self) -> None:
        if not self.closed:
            self._cached = None
            self._raw.close()
        super().close()
