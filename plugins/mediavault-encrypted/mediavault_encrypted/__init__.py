"""Encryption at rest for Media Vault on top of any fsspec URL (an example storage plugin).

Set ``storage_url`` to ``encrypted+<any fsspec URL>`` (``encrypted+file:///srv/media``,
``encrypted+s3://bucket/media``) and give the master key:

* installed (``pip install ./plugins/mediavault-encrypted``), the ``mediavault`` entry point registers this
  module in every vault; it reads the keys from ``$MEDIAVAULT_ENCRYPTION_KEYS`` (comma-separated base64, the
  current key first) when a vault's URL asks for encryption, and leaves every other URL alone;
* or per vault: ``MediaVaultConfig(plugins=(EncryptedStoragePlugin(keys),), storage_url="encrypted+...")``.

``python -m mediavault_encrypted`` prints a new random key. The format and its guarantees are described in
:mod:`mediavault_encrypted.format`; the storage wrapper in :mod:`mediavault_encrypted.storage`.
"""

from __future__ import annotations

import dataclasses
import os
from collections.abc import Sequence

from mediavault import MediaVaultConfig, StorageBackend, _builtins, hookimpl
from mediavault_encrypted.format import (
    DEFAULT_CHUNK_SIZE,
    DecryptingReader,
    DecryptionError,
    Keyring,
    UnknownKeyError,
    generate_key,
)
from mediavault_encrypted.storage import EncryptedStorage, EncryptedWriter

__all__ = (
    "ENV_KEYS",
    "URL_PREFIX",
    "DecryptingReader",
    "DecryptionError",
    "EncryptedStorage",
    "EncryptedStoragePlugin",
    "EncryptedWriter",
    "Keyring",
    "UnknownKeyError",
    "build_storage",
    "generate_key",
    "mediavault_storage_backend",
)

URL_PREFIX = "encrypted+"
"""``storage_url`` prefix that selects this backend; the rest of the URL is where the ciphertext goes."""
ENV_KEYS = "MEDIAVAULT_ENCRYPTION_KEYS"
"""Environment variable with the master keys for the entry-point registration (comma-separated base64)."""


def build_storage(
    config: MediaVaultConfig, keyring: Keyring, chunk_size: int = DEFAULT_CHUNK_SIZE
) -> EncryptedStorage | None:
    """The encrypting backend for ``config.storage_url``, or ``None`` if it does not start with ``encrypted+``.

    The ciphertext goes to the backend the vault would build for the rest of the URL on its own.

    Raises:
        ValueError: nothing after the prefix, or ``chunk_size`` out of range.
    """
    if not config.storage_url.startswith(URL_PREFIX):
        return None
    inner_url = config.storage_url.removeprefix(URL_PREFIX)
    if not inner_url:
        raise ValueError(f"storage_url: put the URL of the encrypted bytes after {URL_PREFIX!r}")
    # The ciphertext goes where the vault itself would put plaintext for that URL: the built-in backend
    # (fsspec; S3 multipart uploads for s3://), with the config's storage_options.
    inner = _builtins.mediavault_storage_backend(dataclasses.replace(config, storage_url=inner_url))
    return EncryptedStorage(inner, keyring, chunk_size)


class EncryptedStoragePlugin:
    """Encryption for one vault: ``MediaVaultConfig(plugins=(EncryptedStoragePlugin(keys),))``.

    Args:
        keys: A :class:`Keyring`, a sequence of 32-byte keys, or their comma-separated base64 text; the
            current key first.
        chunk_size: Plaintext bytes per chunk of new objects (default 64 KiB).

    Raises:
        ValueError: a key is malformed (see :class:`Keyring`).
    """

    def __init__(self, keys: Keyring | Sequence[bytes] | str, chunk_size: int = DEFAULT_CHUNK_SIZE) -> None:
        if isinstance(keys, str):
            keys = Keyring.from_text(keys)
        self.keyring = keys if isinstance(keys, Keyring) else Keyring(keys)
        self.chunk_size = chunk_size

    @hookimpl
    def mediavault_storage_backend(self, config: MediaVaultConfig) -> StorageBackend | None:
        return build_storage(config, self.keyring, self.chunk_size)


@hookimpl
def mediavault_storage_backend(config: MediaVaultConfig) -> StorageBackend | None:
    """Entry-point registration: ``encrypted+`` URLs, keys from ``$MEDIAVAULT_ENCRYPTION_KEYS``.

    Raises:
        ValueError: an ``encrypted+`` URL while the variable is unset or malformed (the vault does not start
            rather than store plaintext).
    """
    if not config.storage_url.startswith(URL_PREFIX):
        return None
    text = os.environ.get(ENV_KEYS, "")
    if not text.strip():
        raise ValueError(
            f"storage_url asks for encryption: set {ENV_KEYS} (python -m mediavault_encrypted makes a key)"
        )
    return build_storage(config, Keyring.from_text(text))
