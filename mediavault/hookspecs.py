"""Every extension point of Media Vault, as pluggy hook specifications.

Plugins implement them with :data:`hookimpl` and are registered per vault instance, through the
``mediavault`` entry-point group or :attr:`MediaVaultConfig.plugins
<mediavault.config.MediaVaultConfig.plugins>`. The built-in behaviour is itself a set of
``trylast`` implementations (:mod:`mediavault._builtins`), so any installed plugin wins by being there.
Hooks are called once, at start-up; their answers become the instance's dependencies.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import pluggy

if TYPE_CHECKING:
    from collections.abc import Awaitable

    from mediavault.auth.providers import AuthProvider
    from mediavault.config import MediaVaultConfig
    from mediavault.events import Event
    from mediavault.processing.base import MediaProcessor
    from mediavault.storage.base import StorageBackend
    from mediavault.webhooks.transport import WebhookTransport

__all__ = ("PROJECT_NAME", "hookimpl", "hookspec")

PROJECT_NAME = "mediavault"
hookspec = pluggy.HookspecMarker(PROJECT_NAME)
"""Marker of Media Vault's hook specifications."""
hookimpl = pluggy.HookimplMarker(PROJECT_NAME)
"""Marker for plugin implementations: ``@hookimpl def mediavault_storage_backend(config): ...``."""


@hookspec(firstresult=True)
def mediavault_storage_backend(config: MediaVaultConfig) -> StorageBackend | None:
    """Return the :class:`~mediavault.storage.base.StorageBackend` for ``config.storage_url``.

    The first non-``None`` answer wins. Return ``None`` to leave a URL to other plugins. The
    built-in implementation wraps ``fsspec.core.url_to_fs`` (``file://``, ``memory://``, ``s3://``...).

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            @hookimpl
            def mediavault_storage_backend(config):
                if not config.storage_url.startswith("encrypted+"):
                    return None  # not ours: other plugins or the built-in fsspec backend answer
                inner = FsspecStorage(config.storage_url.removeprefix("encrypted+"))
                return EncryptedStorage(inner, Keyring.from_text(os.environ["MEDIAVAULT_ENCRYPTION_KEYS"]))
    """


@hookspec
def mediavault_auth_providers(config: MediaVaultConfig) -> list[AuthProvider]:
    """Return extra :class:`~mediavault.auth.providers.AuthProvider` objects (OIDC, LDAP, a host's own users).

    Every plugin's providers are tried in turn, once per request and per realtime ``auth`` message; the first
    that recognises its credentials decides. The built-in providers (``trylast``) check
    ``Authorization: Bearer <JWT>``, then ``X-API-Key``. A realtime ``auth`` message's token is shown to the
    providers as ``Authorization: Bearer <token>`` (``X-API-Key`` for a vault API key), with no other header.

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            @hookimpl
            def mediavault_auth_providers(config):
                return [HeaderProvider("X-Remote-User")]
    """


@hookspec
def mediavault_on_event(event: Event) -> Awaitable[None] | None:
    """Be told about every committed event (``media.uploaded``, ``user.registered``...).

    Called on the event loop after the transaction that raised the event committed, never for a
    rolled-back change. Return ``None`` or an awaitable (it is awaited). Errors are logged and do not
    affect the request. For durable, retried delivery use webhooks: this hook is at-most-once and
    in-process.

    Args:
        event: the :class:`~mediavault.events.Event` (``id``, ``name``, ``data``, ``user_id``,
            ``created_at``, ``payload``).

    Examples:
        .. code-block:: python

            @hookimpl
            async def mediavault_on_event(event):
                if event.name == "media.uploaded":
                    await search_index.add(event.data["id"])
    """


@hookspec
def mediavault_webhook_transports(config: MediaVaultConfig) -> list[WebhookTransport]:
    """Return extra :class:`~mediavault.webhooks.WebhookTransport` objects: how deliveries leave (a queue,
    a broker, an HTTP client through a proxy).

    For each attempt the first transport whose ``handles(url)`` is true sends it; plugins' transports
    come before the built-in one (``trylast``), which ``POST``s ``http(s)`` URLs with httpx. Messages
    arrive already signed (Standard Webhooks headers); the transport answers an HTTP-like status (2xx
    success, 410 disables the endpoint, anything else is retried) or raises ``TransportError``.
    A user may register a non-``http(s)`` URL only if a transport handles it and its ``check_url``
    accepts it.

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            class QueueTransport(WebhookTransport):
                schemes = ("queue",)

                async def send(self, message):
                    await queue.put(message.body, headers=dict(message.headers))
                    return TransportResponse(202)

            @hookimpl
            def mediavault_webhook_transports(config):
                return [QueueTransport()]
    """


@hookspec
def mediavault_media_processors(config: MediaVaultConfig) -> list[MediaProcessor]:
    """Return extra :class:`~mediavault.processing.MediaProcessor` objects: work done on each new media item.

    The processing worker runs every processor whose ``accepts(media)`` is true once per item, after the upload
    committed (``processing_concurrency`` items at a time; a sync ``process`` in a worker thread). Each result is
    recorded on the item (``GET /media/{id}/metadata``), its variants stored next to the bytes and deleted with
    them. Plugins' processors come before the built-in ones (``trylast``: ``image``, ``thumbnails``, ``share``);
    a processor whose ``name`` is already taken replaces the later one of that name.

    Args:
        config: the vault's configuration.

    Examples:
        .. code-block:: python

            class PageCount:
                name = "pdf"

                def accepts(self, media):
                    return media.content_type == "application/pdf"

                def process(self, media):  # runs in a worker thread
                    with media.open() as fp:
                        return ProcessingResult(info={"pages": count_pages(fp)})

            @hookimpl
            def mediavault_media_processors(config):
                return [PageCount()]
    """
