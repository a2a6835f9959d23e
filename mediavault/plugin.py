"""The Litestar plugin: ``Litestar(plugins=[MediaVault(MediaVaultConfig(...))])``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar, cast

from litestar import Litestar, Request, Router
from litestar.config.cors import CORSConfig
from litestar.di import Provide
from litestar.exceptions import ImproperlyConfiguredException
from litestar.plugins import CLIPlugin, InitPlugin
from litestar.routes import HTTPRoute
from litestar.types import Message, Scope
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.backup import BackupError, Leftovers, export_vault, import_vault, sqlite_paths
from mediavault.config import MediaVaultConfig
from mediavault.db.engine import run_migrations
from mediavault.domain.admin.controllers import AdminController
from mediavault.domain.admin.services import AdminService
from mediavault.domain.api_keys.controllers import ApiKeyController
from mediavault.domain.api_keys.services import ApiKeyService
from mediavault.domain.auth.controllers import AuthController
from mediavault.domain.auth.services import AuthService
from mediavault.domain.collections.controllers import CollectionController
from mediavault.domain.collections.services import CollectionService
from mediavault.domain.link_uploads.controllers import GuestUploadController, SignedUploadController
from mediavault.domain.link_uploads.services import LinkUploadService
from mediavault.domain.media.controllers import MediaController
from mediavault.domain.media.query import provide_media_query
from mediavault.domain.media.services import MediaService
from mediavault.domain.search.controllers import SearchController
from mediavault.domain.shares.controllers import PublicShareController, ShareController
from mediavault.domain.shares.services import ShareService
from mediavault.domain.system import SystemController
from mediavault.domain.trash.controllers import TrashController
from mediavault.domain.trash.services import TrashService
from mediavault.domain.tus.controllers import TusController, add_tus_resumable
from mediavault.domain.tus.services import TusService
from mediavault.domain.users.controllers import UserController
from mediavault.domain.users.services import UserService
from mediavault.domain.versions.controllers import VersionController
from mediavault.domain.versions.services import VersionService
from mediavault.domain.webhooks.controllers import WebhookController
from mediavault.domain.webhooks.services import WebhookService
from mediavault.http.auth import AuthenticationMiddleware, provide_principal, require_principal
from mediavault.http.envelope import REQUEST_ID_HEADER, request_id, under_prefix
from mediavault.http.errors import app_level_handlers, exception_handlers
from mediavault.http.ratelimit import RateLimitMiddleware, client_address
from mediavault.http.security import UnknownRouteController, security_headers_for, served_over_https
from mediavault.http.session import RequestSessionMiddleware, request_session
from mediavault.http.strict import strict_input
from mediavault.inprocess.api import ActingUser, InProcess, VaultAPI
from mediavault.realtime import realtime_handler
from mediavault.runtime import VaultRuntime

if TYPE_CHECKING:
    from click import Group
    from litestar.config.app import AppConfig

__all__ = ("MediaVault", "litestar_group")

T = TypeVar("T")

CONTROLLERS = (
    AuthController,
    UserController,
    MediaController,
    SystemController,
    ApiKeyController,
    UnknownRouteController,
    CollectionController,
    ShareController,
    PublicShareController,
    SearchController,
    WebhookController,
    TusController,
    SignedUploadController,
    GuestUploadController,
    TrashController,
    VersionController,
    AdminController,
)
"""Every controller mounted under the vault's router. A new area adds its controller here..."""
SERVICES: dict[str, type[Any]] = {
    "mediavault_auth_service": AuthService,
    "mediavault_user_service": UserService,
    "mediavault_media_service": MediaService,
    "mediavault_api_key_service": ApiKeyService,
    "mediavault_collection_service": CollectionService,
    "mediavault_share_service": ShareService,
    "mediavault_webhook_service": WebhookService,
    "mediavault_tus_service": TusService,
    "mediavault_link_upload_service": LinkUploadService,
    "mediavault_trash_service": TrashService,
    "mediavault_version_service": VersionService,
    "mediavault_admin_service": AdminService,
}
"""...and its service here: a per-request dependency built by the service's factory in
:attr:`VaultRuntime.services <mediavault.runtime.VaultRuntime>` from the request's session (opened on first use and
closed by its owner, :mod:`mediavault.http.session`; the typed name for handlers lives in the area's
``controllers.py``)."""


class MediaVault(InitPlugin, CLIPlugin):
    """Mount a complete media vault API into a Litestar app.

    ``on_app_init`` only adds to the host's configuration: one :class:`~litestar.Router` at
    ``config.path_prefix`` (the vault's routes, guard, rate limiter, dependencies and exception handlers,
    all keyed ``mediavault_*``), the realtime WebSocket route at ``config.realtime_path``, lifespan hooks
    (migrations, engine disposal, the vault's own realtime broker and rate-limit store), app-level 404/405
    handlers that answer with the vault's envelope only under its prefix, ``X-Request-ID`` and security
    headers on the vault's responses, and a ``CORSConfig`` from ``cors_allow_origins`` unless the host set
    its own. Several instances can live in one app, each with its own ``path_prefix`` (the realtime path follows it
    unless set); two with the same prefix or realtime path are refused (``docs/embedding.md``).

    Args:
        config: the instance's settings.

    Examples:
        >>> from litestar import Litestar
        >>> app = Litestar(plugins=[MediaVault(MediaVaultConfig(secret_key="s" * 32))])
    """

    def __init__(self, config: MediaVaultConfig) -> None:
        self.config = config
        self.runtime = VaultRuntime(config)
        self._inprocess = InProcess(self.runtime)
        self._hsts = f"max-age={config.hsts_max_age}".encode() if config.hsts_max_age else None
        self._allow: dict[str, bytes] = {}

    def api(self, user: ActingUser | None = None, *, session: AsyncSession | None = None) -> VaultAPI:
        """The vault for host code, without HTTP (:class:`~mediavault.inprocess.VaultAPI`: ``.media``,
        ``.collections``, ``.shares``, ``.users``), with the rules of the HTTP API; ``docs/embedding.md``.

        Needs the vault started: by the app's lifespan, or :meth:`running` outside an app.

        Args:
            user: who the calls act for: a vault user's id, a :class:`~mediavault.Principal` or the host app's user
                (a :class:`~mediavault.HostIdentity`, its vault user created on first sight); another user's
                resources are :class:`~mediavault.errors.NotFound`. ``None``: only ``users.create``.
            session: the host's ``AsyncSession`` on the vault's database: each call then works inside the session's
                transaction (begun if needed), and the host's commit keeps it (events delivered after it) while a
                rollback undoes it, stored bytes included. ``None``: each call commits on its own, as an HTTP request.
        """
        return VaultAPI(self._inprocess, user, session)

    @asynccontextmanager
    async def running(self) -> AsyncIterator[MediaVault]:
        """Run the vault without an app (a script, a job, a CLI command): what the app's lifespan starts (migrations
        when ``auto_migrate``, the workers, the realtime broker, the rate-limit store), stopped on exit.

        Examples:
            >>> async def main() -> None:
            ...     async with MediaVault(config).running() as vault:
            ...         await vault.api(user=user_id).media.upload(pathlib.Path("a.jpg"))
        """
        async with self.runtime.lifespan(), self.runtime.realtime, self.runtime.limiter:
            yield self

    def on_app_init(self, app_config: AppConfig) -> AppConfig:
        """Add the vault to ``app_config`` (never replacing what the host set).

        Raises:
            ImproperlyConfiguredException: another vault of the app has the same ``path_prefix`` or
                ``realtime_path`` (the second would shadow the first).
        """
        _check_distinct([p for p in app_config.plugins if isinstance(p, MediaVault)])
        runtime = self.runtime
        app_config.route_handlers.append(self._router())
        app_config.route_handlers.append(
            realtime_handler(self.config, runtime.session, runtime.auth_chain, runtime.realtime)
        )
        app_config.lifespan.append(runtime.lifespan)
        app_config.lifespan.append(runtime.realtime)
        app_config.lifespan.append(runtime.limiter)
        if self.config.cors_allow_origins and app_config.cors_config is None:
            app_config.cors_config = self._cors_config()
        app_config.exception_handlers = {
            **app_config.exception_handlers,
            **app_level_handlers(self.config.path_prefix, app_config.exception_handlers),
        }
        app_config.before_send.append(self._add_request_id)
        if add_tus_resumable not in app_config.before_send:
            app_config.before_send.append(add_tus_resumable)
        return app_config

    def _cors_config(self) -> CORSConfig:
        """CORS for ``cors_allow_origins``: the vault's methods and request headers, and its response headers
        exposed to scripts (request id, rate limits, download metadata). No credentials: the vault authenticates
        with headers, never cookies."""
        return CORSConfig(
            allow_origins=list(self.config.cors_allow_origins),
            allow_methods=["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"],
            allow_headers=[
                "Authorization",
                "Content-Type",
                "X-API-Key",
                "X-Request-ID",
                "X-Share-Password",
                "Range",
                "If-None-Match",
                "If-Modified-Since",
                "If-Range",
                "Tus-Resumable",
                "Upload-Length",
                "Upload-Offset",
                "Upload-Metadata",
                "Upload-Checksum",
            ],
            expose_headers=[
                "X-Request-ID",
                "X-RateLimit-Limit",
                "X-RateLimit-Remaining",
                "X-RateLimit-Reset",
                "Retry-After",
                "ETag",
                "Last-Modified",
                "Content-Range",
                "Content-Disposition",
                "Accept-Ranges",
                "Location",
                "Upload-Offset",
                "Upload-Length",
                "Upload-Expires",
                "Tus-Resumable",
                "Tus-Version",
                "Tus-Extension",
                "Tus-Max-Size",
                "X-Media-Id",
            ],
            allow_credentials=False,
            max_age=600,
        )

    def on_cli_init(self, cli: Group) -> None:
        """Add ``litestar mediavault ...`` (e.g. ``litestar mediavault migrate``)."""
        cli.add_command(litestar_group())

    def _router(self) -> Router:
        runtime = self.runtime
        trusted = runtime.limiter.trusted

        def service(cls: type[Any]) -> Provide:
            factory = runtime.services[cls]

            def build(scope: Scope) -> Any:
                return factory(request_session(scope))  # the session the principal lookup used, if any

            return Provide(build, sync_to_thread=False)

        metrics_handlers, metrics_middleware, metrics_dependency = self._metrics()

        def constant(value: object) -> Provide:
            return Provide(lambda: value, sync_to_thread=False, use_cache=True)

        def provide_client_address(request: Request[Any, Any, Any]) -> str:
            return client_address(request.scope, trusted)

        return Router(
            path=self.config.path_prefix or "/",
            route_handlers=[*CONTROLLERS, *metrics_handlers],
            guards=[require_principal],
            dependencies={
                "mediavault_config": constant(self.config),
                "mediavault_storage": constant(runtime.storage),
                "mediavault_health": constant(runtime.health),
                "mediavault_engine": Provide(lambda: runtime.engine, sync_to_thread=False),
                "mediavault_client_address": Provide(provide_client_address, sync_to_thread=False),
                "mediavault_principal": Provide(provide_principal, sync_to_thread=False),
                "mediavault_media_query": Provide(provide_media_query, sync_to_thread=False),
                **{key: service(cls) for key, cls in SERVICES.items()},
                **metrics_dependency,
            },
            exception_handlers=exception_handlers(),
            before_request=strict_input,
            request_max_body_size=self.config.max_json_body_size,
            middleware=[  # outermost first: tracing, metrics, the session's owner, one principal lookup, the budgets
                *self._tracing(),
                *metrics_middleware,
                RequestSessionMiddleware(runtime.session),
                AuthenticationMiddleware(runtime.auth_chain, rate_limited=self.config.rate_limit_enabled),
                *([RateLimitMiddleware(runtime.limiter)] if self.config.rate_limit_enabled else []),
            ],
        )

    def _metrics(self) -> tuple[list[Any], list[Any], dict[str, Provide]]:
        """The metrics' route, middleware (outermost) and dependency when ``metrics_enabled``; nothing otherwise."""
        metrics = self.runtime.metrics
        if metrics is None:
            return [], [], {}
        from mediavault.metrics import MetricsController, MetricsMiddleware

        provide = Provide(lambda: metrics, sync_to_thread=False, use_cache=True)
        return [MetricsController], [MetricsMiddleware(metrics)], {"mediavault_metrics": provide}

    def _tracing(self) -> list[Any]:
        """The OpenTelemetry middleware when ``tracing_enabled`` (:mod:`mediavault.tracing`); nothing otherwise."""
        if not self.config.tracing_enabled:
            return []
        from mediavault.tracing import tracing_middleware

        return [tracing_middleware()]

    def _allowed_methods(self, app: Litestar, path_template: str) -> bytes:
        """The ``Allow`` value of a path: every method of the route at ``path_template``, sorted."""
        if not self._allow:
            self._allow = {
                route.path_format: ", ".join(sorted(route.methods)).encode()
                for route in app.routes
                if isinstance(route, HTTPRoute)
            }
        return self._allow.get(path_template, b"OPTIONS")

    async def _add_request_id(self, message: Message, scope: Scope) -> None:
        if message["type"] != "http.response.start":
            return
        if not under_prefix(scope, self.config.path_prefix):
            return
        headers = cast("list[tuple[bytes, bytes]]", message.setdefault("headers", []))
        if scope.get("method") == "OPTIONS" and message["status"] == 204 and "path_template" in scope:
            # Litestar's automatic OPTIONS answer lists the methods of the first handlers registered on a path only
            # (GET, OPTIONS for /users/me); Allow must list them all (RFC 9110 §10.2.1).
            allow = self._allowed_methods(scope["app"], scope["path_template"])  # type: ignore[typeddict-item]
            headers[:] = [(k, v) for k, v in headers if k.lower() != b"allow"] + [(b"allow", allow)]
        if not any(k.lower() == REQUEST_ID_HEADER.encode() for k, _ in headers):
            headers.append((REQUEST_ID_HEADER.encode(), request_id(scope).encode("latin-1")))
        headers.extend(security_headers_for(headers))
        if self._hsts and served_over_https(scope, self.runtime.limiter.trusted):
            headers.append((b"strict-transport-security", self._hsts))


def _check_distinct(vaults: list[MediaVault]) -> None:
    """Refuse two vaults of one app that would answer on the same path: Litestar would route every request (or
    socket) to one of them and the other would silently get nothing."""
    for name in ("path_prefix", "realtime_path"):
        seen: dict[str, int] = {}
        for index, vault in enumerate(vaults):
            value = getattr(vault.config, name) or "/"
            if value in seen:
                raise ImproperlyConfiguredException(
                    f"MediaVault: the vaults #{seen[value] + 1} and #{index + 1} of this app both have {name}="
                    f"{value!r}; give each vault its own {name}"
                )
            seen[value] = index


def litestar_group() -> Group:
    """``litestar mediavault``: the vault's commands for a host app (``migrate``: every vault of the app; ``export``
    and ``import``: one vault, chosen with ``--vault PREFIX`` when the app has several)."""
    import click
    from litestar.cli._utils import LitestarGroup

    # LitestarGroup injects ``app`` into its commands, loading the app itself when the CLI only holds the lazy loader
    # in ``ctx.obj`` (reading ``ctx.obj.app`` directly breaks on a second in-process invocation of the CLI).
    @click.group("mediavault", cls=LitestarGroup)
    def group() -> None:
        """Media Vault commands for the host app, e.g. 'litestar mediavault migrate'."""

    @group.command("migrate")
    def migrate(app: Litestar) -> None:
        """Apply the migrations of every MediaVault plugin of the app."""
        vaults = [p for p in app.plugins if isinstance(p, MediaVault)]
        for vault in vaults:
            run_migrations(vault.config.database_url)
            click.echo(f"migrations applied for the vault at {vault.config.path_prefix or '/'}")
        if not vaults:
            raise click.ClickException("this app has no MediaVault plugin")

    vault_option = click.option("--vault", "prefix", help="The path prefix of the vault, when the app has several.")

    @group.command("export")
    @click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
    @vault_option
    def export(app: Litestar, directory: Path, prefix: str | None) -> None:
        """Export the vault's rows and stored objects into DIRECTORY (as 'mediavault export')."""
        report = _on_vault(app, prefix, lambda runtime: export_vault(runtime.engine, runtime.storage, directory))
        for line in report.summary():
            click.echo(line)

    @group.command("import")
    @click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
    @vault_option
    def import_(app: Litestar, directory: Path, prefix: str | None) -> None:
        """Import an export from DIRECTORY into the vault, whose database is empty and migrated, by this command when
        the vault's auto_migrate is on (as 'mediavault import')."""
        manifest = _on_vault(
            app,
            prefix,
            lambda runtime: import_vault(
                runtime.engine,
                runtime.storage,
                directory,
                migrate=runtime.config.auto_migrate,
                migrate_command="litestar mediavault migrate",
            ),
        )
        click.echo(f"imported {manifest.summary()}")

    return group


def _on_vault(app: Litestar, prefix: str | None, work: Callable[[VaultRuntime], Awaitable[T]]) -> T:
    """Run ``work`` on the runtime of ``app``'s vault at ``prefix`` (the only one when ``None``), its engine disposed
    of afterwards; a refusal of :mod:`mediavault.backup` becomes the command's error (exit status 1)."""
    import click

    vaults = {p.config.path_prefix: p for p in app.plugins if isinstance(p, MediaVault)}
    if prefix is None and len(vaults) > 1:
        raise click.UsageError(
            f"this app has {len(vaults)} vaults: choose one with --vault ({', '.join(sorted(vaults))})"
        )
    vault = next(iter(vaults.values()), None) if prefix is None else vaults.get(prefix)
    if vault is None:
        raise click.ClickException(f"this app has no MediaVault plugin{f' at {prefix}' if prefix else ''}")

    async def run() -> T:
        try:
            return await work(vault.runtime)
        finally:
            await vault.runtime.dispose()

    try:
        with Leftovers() as leftovers:  # a failed command leaves no new SQLite database behind
            leftovers.watch(*sqlite_paths(vault.config.database_url))
            return asyncio.run(run())
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
