"""The built-in hook implementations, registered ``trylast`` so installed plugins win."""

from __future__ import annotations

from mediavault.auth.api_keys import ApiKeyProvider
from mediavault.auth.providers import AuthProvider, BearerTokenProvider
from mediavault.auth.tokens import TokenService
from mediavault.config import MediaVaultConfig
from mediavault.hookspecs import hookimpl
from mediavault.processing.base import MediaProcessor
from mediavault.processing.budget import MemoryBudget
from mediavault.processing.images import ImageMetadataProcessor, ShareCopyProcessor, ThumbnailProcessor
from mediavault.storage.base import StorageBackend
from mediavault.storage.fsspec import FsspecStorage
from mediavault.webhooks.transport import HttpTransport, WebhookTransport


def token_service(config: MediaVaultConfig) -> TokenService:
    """The :class:`TokenService` configured by ``config``."""
    return TokenService(
        secret=config.secret_key,
        algorithm=config.jwt_algorithm,
        issuer=config.jwt_issuer,
        audience=config.jwt_audience,
        access_ttl=config.access_token_ttl,
        refresh_ttl=config.refresh_token_ttl,
    )


@hookimpl(trylast=True)
def mediavault_storage_backend(config: MediaVaultConfig) -> StorageBackend:
    """``s3://`` (and ``s3a://``): :class:`~mediavault.storage.s3.S3Storage` (needs ``mediavault[s3]``); any other
    fsspec URL (``file://``, ``memory://`` ...): :class:`FsspecStorage`. Both get ``config.storage_options``."""
    if config.storage_url.startswith(("s3://", "s3a://")):
        from mediavault.storage.s3 import S3Storage, part_size_for  # imports s3fs: only when asked for

        part_size = part_size_for(config.max_upload_size)
        return S3Storage(config.storage_url, part_size=part_size, **config.storage_options)
    return FsspecStorage(config.storage_url, **config.storage_options)


@hookimpl(trylast=True)
def mediavault_auth_providers(config: MediaVaultConfig) -> list[AuthProvider]:
    """``Authorization: Bearer <access JWT>``, then ``X-API-Key: mvk_...``."""
    return [BearerTokenProvider(token_service(config)), ApiKeyProvider()]


@hookimpl(trylast=True)
def mediavault_webhook_transports(config: MediaVaultConfig) -> list[WebhookTransport]:
    """``POST`` to ``http(s)`` URLs with httpx (no redirects followed, ``webhook_timeout`` per attempt)."""
    return [HttpTransport()]


@hookimpl(trylast=True)
def mediavault_media_processors(config: MediaVaultConfig) -> list[MediaProcessor]:
    """Image metadata, thumbnails and the metadata-free share copy (Pillow), sharing one memory budget."""
    budget = MemoryBudget(config.processing_memory_budget)
    return [ImageMetadataProcessor(config), ThumbnailProcessor(config, budget), ShareCopyProcessor(config, budget)]
