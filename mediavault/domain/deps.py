"""Typed names of the router's dependencies (the keys are set in :class:`~mediavault.MediaVault`)."""

from __future__ import annotations

from litestar.di import NamedDependency

from mediavault.auth.providers import Principal
from mediavault.domain.api_keys.services import ApiKeyService
from mediavault.domain.auth.services import AuthService
from mediavault.domain.collections.services import CollectionService
from mediavault.domain.media.query import MediaQuery
from mediavault.domain.media.services import MediaService
from mediavault.domain.shares.services import ShareService
from mediavault.domain.users.services import UserService
from mediavault.domain.webhooks.services import WebhookService
from mediavault.runtime import VaultRuntime

__all__ = (
    "ApiKeyServiceDep",
    "AuthServiceDep",
    "CollectionServiceDep",
    "CurrentPrincipal",
    "MediaQueryDep",
    "MediaServiceDep",
    "RuntimeDep",
    "ShareServiceDep",
    "UserServiceDep",
    "WebhookServiceDep",
)

CurrentPrincipal = NamedDependency[Principal]
"""``mediavault_principal``: who is calling (set by the router guard)."""
RuntimeDep = NamedDependency[VaultRuntime]
"""``mediavault_runtime``: the vault instance's live parts."""
AuthServiceDep = NamedDependency[AuthService]
"""``mediavault_auth_service``."""
UserServiceDep = NamedDependency[UserService]
"""``mediavault_user_service``."""
MediaQueryDep = NamedDependency[MediaQuery]
"""``mediavault_media_query``: page, per_page, sort, type and tag of a media listing."""
MediaServiceDep = NamedDependency[MediaService]
"""``mediavault_media_service``."""
ApiKeyServiceDep = NamedDependency[ApiKeyService]
"""``mediavault_api_key_service``."""
CollectionServiceDep = NamedDependency[CollectionService]
"""``mediavault_collection_service``."""
ShareServiceDep = NamedDependency[ShareService]
"""``mediavault_share_service``."""
WebhookServiceDep = NamedDependency[WebhookService]
"""``mediavault_webhook_service``."""
