"""The live parts of one vault instance: engine, sessions, storage, auth and events.

Built once per :class:`~mediavault.MediaVault` (never module-level), so two vaults can share a
process. The plugin manager is asked once, here; services receive what it answered.
"""

from __future__ import annotations

import asyncio
import inspect
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from functools import partial
from typing import TYPE_CHECKING, Any, TypeVar, cast

from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session

from mediavault._builtins import token_service
from mediavault._plugins import get_plugin_manager
from mediavault.auth.chain import ProviderChain
from mediavault.auth.host import HostUserProvider, HostUsers
from mediavault.auth.passwords import PasswordHasher
from mediavault.config import MediaVaultConfig
from mediavault.db.audit import AuditTrail
from mediavault.db.engine import create_engine, migrate
from mediavault.db.engine import dispose as dispose_engine
from mediavault.domain.admin.services import AdminService
from mediavault.domain.api_keys.services import ApiKeyService
from mediavault.domain.auth.services import AuthService
from mediavault.domain.collections.services import CollectionService
from mediavault.domain.health import HealthProbe
from mediavault.domain.link_uploads.services import LinkUploadService
from mediavault.domain.media.services import MediaService
from mediavault.domain.shares.services import ShareService
from mediavault.domain.trash.services import TrashService, purge_periodically
from mediavault.domain.tus.services import TusService, expire_uploads_periodically
from mediavault.domain.users.services import UserService
from mediavault.domain.versions.services import VersionService
from mediavault.domain.webhooks.services import WebhookService
from mediavault.events import Event, EventPublisher
from mediavault.fsck import fsck_periodically, sweep_temporary_files
from mediavault.http.ratelimit import RateLimiter, current_client
from mediavault.processing.worker import ProcessingWorker
from mediavault.realtime.hub import RealtimeHub
from mediavault.storage.base import StorageBackend
from mediavault.webhooks.transport import WebhookTransport
from mediavault.webhooks.worker import WebhookWorker

if TYPE_CHECKING:
    from mediavault.metrics import VaultMetrics

__all__ = ("VaultRuntime",)

logger = logging.getLogger("mediavault")

S = TypeVar("S")


class VaultRuntime:
    """Everything one vault instance needs at run time.

    Attributes:
        config: the instance's configuration.
        storage: the byte store chosen by the ``mediavault_storage_backend`` hook.
        auth_chain: the principal sources from ``mediavault_auth_providers``, plugins' first, asked in order, and
            last the host's users (:class:`~mediavault.auth.host.HostUserProvider`) when ``host_identity`` is set.
        host_users: the vault users of the host app's users (``host_identity``, ``vault.api(user=HostIdentity)``).
        tokens: JWT issuer/verifier.
        passwords: Argon2id hasher.
        events: the outbox publisher.
        limiter: the rate-limit budgets (memory, or Redis when ``redis_url`` is set).
        audit: the audit log's writer, given to the services that record actions.
        health: ``GET /health``'s checks, cached per process for ``health_cache_ttl`` seconds.
        metrics: the Prometheus metrics when ``metrics_enabled``, else ``None``.
        realtime: the realtime broker (its lifespan is run by the app; fed by ``events``).
        webhook_transports: how webhook deliveries leave, from ``mediavault_webhook_transports``, plugins' first.
        webhooks: the webhook delivery worker (run in the lifespan when ``webhook_worker``).
        processing: the media processing worker, with the processors from ``mediavault_media_processors``
            (run in the lifespan when ``processing_worker``).
        services: each domain service's factory (see :meth:`service`).
    """

    def __init__(self, config: MediaVaultConfig) -> None:
        self.config = config
        self.plugin_manager = get_plugin_manager(config)
        hook = self.plugin_manager.hook
        storage = hook.mediavault_storage_backend(config=config)
        if storage is None:
            raise ValueError(f"storage_url: no storage backend handles {config.storage_url!r}")
        self.storage: StorageBackend = storage
        self.health = HealthProbe(storage, min_free_space=config.storage_min_free_space, ttl=config.health_cache_ttl)
        self.tokens = token_service(config)
        self.passwords = PasswordHasher(
            time_cost=config.argon2_time_cost,
            memory_cost=config.argon2_memory_cost,
            parallelism=config.argon2_parallelism,
            concurrency=config.password_hash_concurrency,
        )
        self.events = EventPublisher()
        self.events.subscribe(self._notify_plugins)
        providers = [p for group in hook.mediavault_auth_providers(config=config) for p in group]
        self.host_users = HostUsers(session_factory=self.session, events=self.events)
        if config.host_identity is not None:  # last: a vault credential sent with the request decides first
            providers.append(HostUserProvider(config.host_identity, self.host_users))
        self.auth_chain = ProviderChain(providers)
        self.limiter = RateLimiter(config)
        self.audit = AuditTrail(client=partial(current_client, self.limiter.trusted))
        self.metrics: VaultMetrics | None = None
        if config.metrics_enabled:
            from mediavault.metrics import VaultMetrics

            self.metrics = VaultMetrics()
            self.limiter.on_rejected = self.metrics.rate_limited_by
        self.realtime = RealtimeHub(config)
        self.events.subscribe(self.realtime.on_event)
        self.webhook_transports: list[WebhookTransport] = [
            t for group in hook.mediavault_webhook_transports(config=config) for t in group
        ]
        self.webhooks = WebhookWorker(config, self.session, self.webhook_transports)
        self.events.subscribe(self.webhooks.notify)
        self.processing = ProcessingWorker(
            config,
            self.session,
            storage,
            [p for group in hook.mediavault_media_processors(config=config) for p in group],
        )
        self.events.subscribe(self.processing.notify)
        self._engine: AsyncEngine | None = None
        self._sessionmaker: async_sessionmaker[AsyncSession] | None = None
        self.services: dict[type[Any], Callable[[AsyncSession], Any]] = self.service_factories(storage)

    def service_factories(self, storage: StorageBackend) -> dict[type[Any], Callable[[AsyncSession], Any]]:
        """Each domain service with the parts it uses, its bytes in ``storage`` (:attr:`storage`, or the in-process
        API's view of it inside a host's transaction); the request's session is the one argument left."""
        config, events, passwords, revoked = self.config, self.events, self.passwords, self.realtime.logins_revoked
        audit, quota = self.audit, config.default_quota_bytes
        media = partial(
            MediaService,
            config=config,
            storage=storage,
            events=events,
            processing_owed=self.processing.owed,
            audit=audit,
        )
        shares = partial(
            ShareService,
            passwords=passwords,
            events=events,
            share_copy=self.processing.share_copy,
            strip_metadata=config.share_strip_metadata,
            audit=audit,
        )
        factories: list[partial[Any]] = [
            partial(
                AuthService,
                passwords=passwords,
                tokens=self.tokens,
                events=events,
                throttle=self.limiter,
                logins_revoked=revoked,
                allow_registration=config.allow_registration,
                audit=audit,
            ),
            partial(UserService, passwords=passwords, logins_revoked=revoked, default_quota_bytes=quota),
            media,
            partial(TusService, config=config, storage=storage, media=media),
            partial(
                TrashService,
                events=events,
                retention_days=config.trash_retention_days,
                media_service=media,
                audit=audit,
            ),
            partial(VersionService, storage=storage, media_service=media),
            partial(ApiKeyService, audit=audit),
            partial(CollectionService, events=events),
            shares,
            partial(WebhookService, check_url=self.webhooks.check_url),
            partial(LinkUploadService, media=media, shares=shares, max_upload_size=config.max_upload_size),
            partial(AdminService, default_quota_bytes=quota, logins_revoked=revoked, audit=audit),
        ]
        return {cast("type[Any]", factory.func): factory for factory in factories}

    def service(self, cls: type[S], session: AsyncSession) -> S:
        """The domain service ``cls`` working on ``session`` (e.g. ``runtime.service(AuthService, session)``)."""
        return self.services[cls](session)  # type: ignore[no-any-return]

    async def _notify_plugins(self, event: Event) -> None:
        for result in self.plugin_manager.hook.mediavault_on_event(event=event):
            if inspect.isawaitable(result):
                await result

    @property
    def engine(self) -> AsyncEngine:
        """The database engine (created on first use)."""
        if self._engine is None:
            self._engine = create_engine(
                self.config.database_url,
                pool_size=self.config.database_pool_size,
                max_overflow=self.config.database_max_overflow,
                busy_timeout=self.config.database_busy_timeout,
            )
            # A Session subclass of this instance's own, so commit listeners never see a host's sessions.
            session_class = type("MediaVaultSession", (Session,), {})
            self.events.attach(session_class)
            self._sessionmaker = async_sessionmaker(
                self._engine, expire_on_commit=False, sync_session_class=session_class
            )
        return self._engine

    def session(self) -> AsyncSession:
        """A new database session (use as ``async with runtime.session() as s``)."""
        _ = self.engine
        assert self._sessionmaker is not None
        return self._sessionmaker()

    async def migrate(self) -> None:
        """Apply the vault's migrations to the configured database."""
        await migrate(self.engine)

    @asynccontextmanager
    async def lifespan(self, _app: Any = None) -> AsyncIterator[None]:
        """App lifespan: migrate when ``auto_migrate``, remove temporary upload files a killed process left
        (:func:`~mediavault.fsck.sweep_temporary_files`), run the periodic fsck when ``fsck_interval`` is set, start
        the webhook worker when ``webhook_worker`` and the processing worker (and the expiry sweep of resumable uploads,
        and the trash's purge when ``trash_retention_days`` > 0) when ``processing_worker``; at shutdown
        stop them and dispose of the engine."""
        if self.config.auto_migrate:
            await self.migrate()
        try:  # what a killed process left: never a reason not to start
            await sweep_temporary_files(self.storage, self.config.temporary_file_max_age)
        except Exception:
            logger.exception("sweeping temporary upload files failed")
        if self.config.webhook_worker:
            await self.webhooks.start()
        if self.config.processing_worker:
            await self.processing.start()
        try:
            async with self.periodic_tasks(processing=self.config.processing_worker):
                yield
        finally:
            await self.events.drain()
            await self.processing.stop()
            await self.webhooks.stop()
            await self.dispose()

    @asynccontextmanager
    async def periodic_tasks(self, *, processing: bool) -> AsyncIterator[None]:
        """Run the periodic background tasks while inside: the expiry sweep of resumable uploads and the trash's purge
        when ``processing`` (the processes doing background work), and :func:`~mediavault.fsck.fsck_periodically`
        when ``fsck_interval`` is set. Cancelled on exit. Used by app processes (:meth:`lifespan`) and by
        ``mediavault worker``, so both run the same tasks."""
        loop = asyncio.get_running_loop()
        tasks: list[asyncio.Task[None]] = []
        if processing:
            tasks.append(self.start_upload_expiry())
            if (purge := self.start_trash_purge()) is not None:
                tasks.append(purge)
        if self.config.fsck_interval:
            tasks.append(
                loop.create_task(
                    fsck_periodically(
                        self.storage,
                        self.session,
                        interval=self.config.fsck_interval,
                        max_age=self.config.temporary_file_max_age,
                    )
                )
            )
        try:
            yield
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def start_upload_expiry(self) -> asyncio.Task[None]:
        """Start the expiry sweep of resumable uploads (every ``upload_expiry_interval`` seconds, the first now) as a
        task of the running loop; cancel it to stop."""
        sweep = expire_uploads_periodically(self.storage, self.session, interval=self.config.upload_expiry_interval)
        return asyncio.get_running_loop().create_task(sweep)

    def start_trash_purge(self) -> asyncio.Task[None] | None:
        """Start the purge of trashed media past ``trash_retention_days`` (every ``trash_purge_interval`` seconds, the
        first now) as a task of the running loop, or ``None`` when there is no trash; cancel it to stop."""
        if self.config.trash_retention_days <= 0:
            return None
        purge = purge_periodically(
            self.session,
            self.services[MediaService],
            retention_days=self.config.trash_retention_days,
            interval=self.config.trash_purge_interval,
        )
        return asyncio.get_running_loop().create_task(purge)

    async def dispose(self) -> None:
        """Close every pooled database connection."""
        if self._engine is not None:
            await dispose_engine(self._engine)
            self._engine = None
            self._sessionmaker = None
