"""The built-in hook implementations, registered ``trylast`` so installed plugins win."""

from __future__ import annotations

from mediavault.auth.api_keys import ApiKeyProvider
from mediavault.auth.providers import AuthProvider, BearerTokenProvider
from mediavault.auth.tokens import TokenService
from mediavault.config import MediaVaultConfig
from mediavault.hookspecs import hookimpl
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
    """Any fsspec URL: ``file://``, ``memory://``, ``s3://`` (with s3fs installed)..."""
    return FsspecStorage(config.storage_url)


@hookimpl(trylast=True)
def mediavault_auth_providers(config: MediaVaultConfig) -> list[AuthProvider]:
    """``Authorization: Bearer <access JWT>``, then ``X-API-Key: mvk_...``."""
    return [BearerTokenProvider(token_service(config)), ApiKeyProvider()]


@hookimpl(trylast=True)
def mediavault_webhook_transports(config: MediaVaultConfig) -> list[WebhookTransport]:
    """``POST`` to ``http(s)`` URLs with httpx (no redirects followed, ``webhook_timeout`` per attempt)."""
    return [HttpTransport()]
