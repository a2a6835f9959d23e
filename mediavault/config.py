"""Configuration of one Media Vault instance.

:class:`MediaVaultConfig` holds every setting named in the HTTP contract (``API-CONTRACT.md``,
"Operations") plus a few operational knobs. It is checked when built: a bad value raises
:class:`ValueError` naming the field. :meth:`MediaVaultConfig.from_env` builds one from
``MEDIAVAULT_<FIELD>`` environment variables for the reference server.
"""

from __future__ import annotations

import dataclasses
import ipaddress
import json
import os
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, get_type_hints

__all__ = ("DEFAULT_RETRY_SCHEDULE", "NOT_FROM_ENV", "MediaVaultConfig", "WebhookEndpoint")

DEFAULT_PATH_PREFIX = "/api/v1"
"""Where a vault's routes are mounted unless ``path_prefix`` says otherwise (the HTTP contract's prefix)."""

DEFAULT_RETRY_SCHEDULE: tuple[int, ...] = (5, 300, 1800, 7200, 18000, 36000, 50400, 72000, 86400)
"""Seconds between webhook attempts: the Standard Webhooks example schedule."""

NOT_FROM_ENV = ("plugins", "host_identity")
"""Fields :meth:`MediaVaultConfig.from_env` never reads (Python objects: set them in code)."""


@dataclass(frozen=True)
class WebhookEndpoint:
    """A host-level webhook endpoint that receives every event it subscribes to."""

    url: str
    """Absolute ``http(s)`` URL the deliveries are POSTed to."""
    secret: str
    """Signing secret, ``whsec_<base64>`` (Standard Webhooks)."""
    events: tuple[str, ...] = ()
    """Event names to deliver; empty means every event."""


@dataclass
class MediaVaultConfig:
    """Settings of one :class:`~mediavault.MediaVault` instance.

    Every field is a constructor argument; the reference server reads each from
    ``MEDIAVAULT_<FIELD>`` (see :meth:`from_env`).

    Raises:
        ValueError: a field is out of range or malformed (the message names it).

    Examples:
        >>> cfg = MediaVaultConfig(secret_key="x" * 32, database_url="sqlite+aiosqlite:///vault.db")
        >>> cfg.path_prefix
        '/api/v1'
    """

    secret_key: str = ""
    """Key that signs JWTs (HS256). At least 32 characters; required. Keep it secret and identical in every
    process of one deployment."""
    path_prefix: str = DEFAULT_PATH_PREFIX
    """Where the vault's routes are mounted, e.g. ``/api/v1`` (no trailing slash)."""
    database_url: str = "sqlite+aiosqlite:///mediavault.db"
    """SQLAlchemy async URL: ``sqlite+aiosqlite:///path.db`` or ``postgresql+asyncpg://...`` (needs
    ``mediavault[postgres]``; a URL whose driver is not installed is refused, naming what to install)."""
    database_pool_size: int | None = None
    """Database connections each process keeps open in its pool. Unset: 20 for SQLite (an idle aiosqlite
    connection is only a parked thread, opening one costs a thread and four PRAGMAs), 5 for PostgreSQL
    (SQLAlchemy's default: every pooled connection of every process holds a server backend). Not used by an
    in-memory SQLite database."""
    database_max_overflow: int | None = None
    """Connections opened beyond ``database_pool_size`` under load, closed again when returned; requests beyond
    both wait for a free connection. Unset: 20 for SQLite, 10 for PostgreSQL (SQLAlchemy's default)."""
    database_busy_timeout: float = 30.0
    """SQLite: seconds a write waits for its turn (one write transaction at a time per process, then SQLite's
    ``busy_timeout`` for writers of other processes) before the request answers 503 ``service_unavailable`` with
    ``Retry-After``, having changed nothing. Not used by PostgreSQL."""
    storage_url: str = "file://./mediavault-media"
    """fsspec URL of the media byte store: ``file:///srv/media``, ``memory://vault``, ``s3://bucket/prefix``."""
    storage_options: dict[str, Any] = dataclasses.field(default_factory=dict, repr=False)
    """Options for the fsspec filesystem of ``storage_url``; for ``s3://`` those of ``s3fs.S3FileSystem``, e.g.
    ``{"endpoint_url": "http://minio:9000", "key": "...", "secret": "...", "client_kwargs": {"region_name":
    "eu-west-1"}}``. From the environment as a JSON object. Unset S3 options fall back to botocore's own sources
    (``AWS_*`` variables, ``~/.aws``, instance roles)."""
    storage_presigned_downloads: bool = False
    """Answer the owner's ``GET /media/{id}/content`` with a ``307`` redirect to a presigned storage URL (S3)
    instead of streaming the bytes through the app; see docs/configuration.md for when it applies."""
    storage_presigned_ttl: int = 300
    """Seconds a presigned download URL stays valid (1-604800, the SigV4 limit)."""
    storage_min_free_space: int = 64 * 1024 * 1024
    """Bytes: ``GET /health`` reports storage ``error`` (503) when local storage has less free space than this
    (default 64 MiB; 0 checks nothing). Object stores report no free space and are not checked this way."""
    temporary_file_max_age: float = 3600.0
    """Seconds a writer's hidden temporary file (``<key>.part-<hex>``, local storage) may go unwritten before the
    start-up sweep and ``mediavault fsck --repair`` remove it as left by a killed process. A live upload writes
    to it at least every 1 MiB received, so keep this far above ``client_body_timeout``."""
    fsck_interval: float | None = None
    """Seconds between runs of ``mediavault fsck --repair`` inside each app process (its lifespan; the first at
    start). Unset (the default): off; run ``mediavault fsck`` from cron instead, or set it on one process."""
    health_cache_ttl: float = 5.0
    """Seconds each process reuses the result of ``GET /health``'s database and storage checks (the route is public
    and not rate-limited: a probe flood must not become a flood of database queries and billable storage
    requests); 0 checks on every call."""
    redis_url: str | None = None
    """Optional Redis URL for shared rate-limit counters and the realtime broker (pub/sub); required with more
    than one process (see ``docs/deployment.md``). Token revocation does not use it: every request checks its
    login's row in the database, which every process sees at once."""
    access_token_ttl: int = 3600
    """Lifetime of access tokens, in seconds (``exp - iat``)."""
    refresh_token_ttl: int = 30 * 24 * 3600
    """Lifetime of refresh tokens, in seconds."""
    max_upload_size: int = 1024**3
    """Largest accepted file, in bytes (default 1 GiB). Larger uploads get 413."""
    upload_expiry: int = 86400
    """Seconds a resumable (tus) upload lives after its last append (default one day): then it is gone (404) and
    the expiry sweep removes it and its bytes; a finished one keeps answering ``HEAD`` with ``X-Media-Id`` until
    then."""
    upload_expiry_interval: float = 300.0
    """Seconds between two expiry sweeps of resumable uploads in each process running the processing worker."""
    max_json_body_size: int = 1024 * 1024
    """Largest accepted JSON request body, in bytes (default 1 MiB)."""
    allow_registration: bool = True
    """Whether ``POST /auth/register`` is open (otherwise it answers 403)."""
    rate_limit_anonymous: int = 60
    """Requests per minute for anonymous callers, per client address."""
    rate_limit_authenticated: int = 1000
    """Requests per minute for a signed-in user."""
    rate_limit_api_key: int = 5000
    """Requests per minute for one API key."""
    trusted_proxies: tuple[str, ...] = ()
    """Addresses or CIDR networks of reverse proxies whose ``X-Forwarded-For`` is believed."""
    hsts_max_age: int = 31_536_000
    """``Strict-Transport-Security: max-age=<seconds>`` on every vault response served over https (directly, or
    behind one of ``trusted_proxies`` that says ``X-Forwarded-Proto: https``), RFC 6797; 0 sends none."""
    client_header_timeout: float = 30.0
    """``mediavault serve``: seconds a request head may take from its first byte (a new connection: from the
    connection) to its last header; then the connection gets 408 ``request_timeout`` and is closed."""
    client_body_timeout: float = 60.0
    """``mediavault serve``: seconds a client may send nothing while its request body is awaited; then 408
    ``request_timeout`` (unless an answer already began) and the connection is closed. Nothing of an upload cut off
    this way is kept, except the bytes a tus ``PATCH`` received (tus: they count toward its offset)."""
    keep_alive_timeout: float = 75.0
    """``mediavault serve``: seconds an idle keep-alive connection stays open. Keep it longer than the idle timeout
    of any proxy's or client's connection pool in front (nginx ``keepalive_timeout`` 60 s, AWS ALB 60 s), so the
    server never closes a connection the other side is about to reuse."""
    log_format: str = "text"
    """``mediavault serve``'s logs: ``text`` (uvicorn's and Litestar's usual lines) or ``json`` (one JSON object per
    line, with the ``request_id`` of the request that logged it; :mod:`mediavault.logs`)."""
    metrics_enabled: bool = False
    """Serve Prometheus metrics at ``<path_prefix>/metrics`` (requests by route and status, latency, body bytes,
    rate-limit rejections, processing and webhook backlogs; see ``docs/deployment.md``). Needs ``metrics_token``."""
    metrics_token: str = dataclasses.field(default="", repr=False)
    """Bearer token a scraper sends (``Authorization: Bearer <metrics_token>``) to read the metrics; at least 32
    characters. Required with ``metrics_enabled``: route counts and backlogs are nobody else's business."""
    tracing_enabled: bool = False
    """Trace the vault's requests with OpenTelemetry: one server span per request, named by method and route
    template, with the ``mediavault.request_id`` attribute; exported by the global tracer provider the host
    configures (``docs/deployment.md``, "Tracing"). Needs ``mediavault[otel]``; the host's own routes stay untraced."""
    cors_allow_origins: tuple[str, ...] = ()
    """Origins allowed by CORS (none by default), e.g. ``https://app.example.com``; ``*`` allows any origin.
    Applied through Litestar's ``CORSConfig`` unless the host app configured CORS itself."""
    redis_key_prefix: str = "mediavault"
    """Prefix of every Redis key and pub/sub channel the vault uses. Processes of one deployment share it;
    unrelated deployments (or test runs) sharing one Redis must each use their own."""
    rate_limit_enabled: bool = True
    """Whether the vault counts requests against the ``rate_limit_*`` budgets (off: e.g. behind a gateway that
    already limits, or to measure the limiter's cost)."""
    rate_limit_fail_open: bool = True
    """What the rate limiter does while its counter store (Redis) cannot be reached: let requests through uncounted
    (true: the limiter protects capacity and must not become the outage) or answer 503 ``service_unavailable`` with
    ``Retry-After`` (false: no request goes uncounted). Either way one warning is logged when the store fails and
    one line when it answers again."""
    rate_limit_period: int = 60
    """Length, in seconds, of the window the ``rate_limit_*`` budgets apply to (60: requests per minute)."""
    rate_limit_login_per_address: int = 10
    """Failed ``POST /auth/login`` attempts allowed per period from one client address (against password
    guessing); successful logins spend nothing."""
    rate_limit_login_per_account: int = 5
    """Failed ``POST /auth/login`` attempts allowed per period for one account (email), from anywhere."""
    realtime_path: str = ""
    """Path of the realtime WebSocket endpoint (the whole path, not relative to ``path_prefix``). Unset: ``/realtime``
    (outside the prefix) for the default prefix ``/api/v1`` or an empty one, ``<path_prefix>/realtime`` for any other,
    so that vaults with different prefixes never share a socket path."""
    realtime_auth_timeout: float = 10.0
    """Seconds a new realtime socket has to send its ``auth`` message before it is closed with 4401."""
    realtime_max_backlog: int = 256
    """Events held in memory for one realtime socket that is slower than the event rate; beyond it the oldest
    are dropped, so a slow consumer cannot grow the server's memory."""
    realtime_recheck_interval: float = 30.0
    """Seconds between re-checks that a realtime socket's login is still alive (revocations by logout are
    pushed at once; this catches the rest, e.g. a deleted user)."""
    allow_private_webhook_targets: bool = False
    """Allow webhook URLs that resolve to loopback/private/link-local addresses (tests, intranets)."""
    webhook_retry_schedule: tuple[float, ...] = DEFAULT_RETRY_SCHEDULE
    """Seconds to wait before each retry; N entries mean up to N+1 attempts, the first immediate. Each wait
    gets ±20 % jitter and is lengthened to a receiver's ``Retry-After``."""
    webhook_timeout: float = 15.0
    """Seconds one webhook attempt may take."""
    webhooks: tuple[WebhookEndpoint, ...] = ()
    """Host-level webhook endpoints that receive every (subscribed) event."""
    webhook_failure_limit: int = 5
    """Disable a webhook endpoint after this many deliveries in a row failed every attempt (any success resets
    the count); the endpoint's ``disabled_reason`` says why. A 410 Gone answer disables it at once."""
    webhook_worker: bool = True
    """Run the webhook delivery worker inside the app (its lifespan). Turn off in web processes when
    ``mediavault worker`` runs on its own."""
    webhook_poll_interval: float = 1.0
    """Seconds between the delivery worker's looks for work raised by other processes (events committed in
    its own process wake it at once)."""
    outbox_retention: float = 7 * 86400.0
    """Seconds a dispatched outbox event is kept (default 7 days) before the webhook worker deletes it; an event
    that a kept delivery attempt points at stays as long as the attempt."""
    webhook_delivery_retention: float = 30 * 86400.0
    """Seconds a finished webhook delivery attempt (succeeded or failed) stays in the delivery log (default 30
    days) before the webhook worker deletes it; pending attempts are never deleted."""
    audit_retention: float = 365 * 86400.0
    """Seconds a line of the audit log (``GET /admin/audit``) is kept (default 365 days) before the webhook worker's
    hourly clean-up deletes it."""
    default_quota_bytes: int | None = None
    """Bytes each user may store (originals once per stored blob, with their previous versions and trash); unset:
    unlimited. An admin may set another quota per user (``PATCH /admin/users/{id}``); over it, uploads get 413
    ``quota_exceeded``."""
    processing_worker: bool = True
    """Run the media processing worker inside the app (its lifespan): metadata, thumbnails and the share copy of
    each new upload (see ``docs/processing.md``). Turn off in web processes when ``mediavault worker`` runs."""
    processing_concurrency: int = 2
    """Media items processed at once per process; each runs its CPU-heavy work (decoding, resizing) in a worker
    thread, so this also bounds the threads and the memory (a 24-megapixel JPEG adds ~40 MB while it is resized,
    ``benchmarks/thumbnails.py``; ``processing_memory_budget`` caps what decodes hold together)."""
    processing_timeout: float = 120.0
    """Seconds a worker holds an item (its lease). A process that dies mid-item leaves it to another worker
    after this long; an item claimed ``3`` times without finishing is marked failed."""
    processing_poll_interval: float = 2.0
    """Seconds between the processing worker's looks for uploads made by other processes (uploads in its own
    process wake it at once)."""
    processing_retry_delay: float = 30.0
    """Seconds before an item whose processing met a transient error (storage or database unavailable, a full disk)
    is tried again; doubled after each such failure, up to an hour. Those tries never mark the item failed."""
    thumbnail_sizes: tuple[int, ...] = (256, 1024)
    """Thumbnail sizes in pixels (the longer side; 16-4096). ``GET /media/{id}/thumbnail?size=`` accepts exactly
    these. Empty: no thumbnails."""
    thumbnail_format: str = "webp"
    """Format of the thumbnails: ``webp`` (keeps transparency) or ``jpeg``."""
    max_image_pixels: int = 89_478_485
    """Largest image (width x height) the processors decode, against decompression bombs; larger images get no
    thumbnails and a recorded error (Pillow's ``Image.MAX_IMAGE_PIXELS`` default: 0.25 GiB of 24-bit pixels)."""
    processing_memory_budget: int = 512 * 1024 * 1024
    """Bytes of decoded images the processors of this vault hold at once (Pillow decodes a PNG whole: 9000 x 9000
    pixels take 324 MB). Decodes that would exceed it wait for others to finish; an image that alone would exceed
    it gets no thumbnails and a recorded error. The default fits one RGB(A) image of ``max_image_pixels``."""
    share_strip_metadata: bool = True
    """Serve images of share links without their metadata (EXIF with GPS position and camera, XMP, text chunks):
    the link gets a stripped copy; the owner's own downloads stay byte-exact."""
    dedup: bool = False
    """Store identical uploads of one user once: a new upload whose SHA-256 matches one of the same user's files
    gets its own media item (title, tags) sharing the stored bytes; the answer says so in
    ``X-Mediavault-Deduplicated``. The bytes go when the last item using them is deleted."""
    trash_retention_days: float = 0
    """Days a deleted media item stays in the trash (``GET /trash``, restorable) before the worker purges it with its
    bytes. 0 (the default): ``DELETE /media/{id}`` deletes at once."""
    trash_purge_interval: float = 3600.0
    """Seconds between two looks of the worker (``processing_worker``) for trashed media past the retention."""
    max_versions: int = 10
    """Previous versions of an item's bytes kept after ``PUT /media/{id}/content``; older ones are purged with their
    bytes (0: none kept)."""
    jwt_algorithm: str = "HS256"
    """JWT signing algorithm; the only one accepted when verifying (RFC 8725 §3.1). HS256/HS384/HS512."""
    jwt_issuer: str = "mediavault"
    """``iss`` claim written and required."""
    jwt_audience: str = "mediavault"
    """``aud`` claim written and required."""
    argon2_time_cost: int = 3
    """Argon2id passes (RFC 9106 §4, second recommended option: t=3)."""
    argon2_memory_cost: int = 64 * 1024
    """Argon2id memory in KiB (RFC 9106 §4: 64 MiB)."""
    argon2_parallelism: int = 4
    """Argon2id lanes (RFC 9106 §4: p=4)."""
    password_hash_concurrency: int = 2
    """How many Argon2id hashes may run at once (each holds ``argon2_memory_cost`` KiB)."""
    auto_migrate: bool = True
    """Apply the vault's Alembic migrations when the app starts. Turn off when deploys run
    ``litestar mediavault migrate`` (or ``mediavault migrate``) themselves."""
    host_identity: Callable[[Any], Any] | None = None
    """Trust the host app's own authentication: a function of the request (Litestar's ``ASGIConnection``) returning
    a :class:`~mediavault.auth.host.HostIdentity` (the host's id for its user, with an optional email and display
    name) or ``None`` for no host user; it may be a coroutine function. ``mediavault.auth.host.request_user`` reads
    Litestar's ``request.user`` (its ``id``, ``email``, ``name``). Its vault user is created on first sight
    (``docs/embedding.md``, "The host's users"). Asked after the vault's own credentials, on HTTP requests and, for an
    ``auth`` message without a token, on a ``/realtime`` handshake whose ``Origin`` is allowed (``docs/security.md``).
    Not read from the environment."""
    plugins: tuple[object, ...] = ()
    """Extra pluggy plugins (modules or objects with ``@hookimpl`` functions) for this instance only,
    in addition to those installed through the ``mediavault`` entry-point group."""
    load_entry_points: bool = True
    """Whether to load plugins registered under the ``mediavault`` entry-point group."""

    def __post_init__(self) -> None:
        self.trusted_proxies = tuple(self.trusted_proxies)
        self.cors_allow_origins = tuple(self.cors_allow_origins)
        self.webhook_retry_schedule = tuple(float(s) for s in self.webhook_retry_schedule)
        self.webhooks = tuple(w if isinstance(w, WebhookEndpoint) else _endpoint(w) for w in self.webhooks)
        self.plugins = tuple(self.plugins)
        self.thumbnail_sizes = tuple(sorted({int(s) for s in self.thumbnail_sizes}))
        self.path_prefix = "/" + self.path_prefix.strip("/") if self.path_prefix.strip("/") else ""
        if not self.realtime_path:
            derived = self.path_prefix not in ("", DEFAULT_PATH_PREFIX)
            self.realtime_path = f"{self.path_prefix}/realtime" if derived else "/realtime"
        _check(len(self.secret_key) >= 32, "secret_key", "must be at least 32 characters")
        _check(self.jwt_algorithm in {"HS256", "HS384", "HS512"}, "jwt_algorithm", "must be HS256, HS384 or HS512")
        _check("://" in self.database_url, "database_url", "must be a SQLAlchemy URL")
        _check(not (missing := _missing_driver(self.database_url)), "database_url", missing)
        _check(bool(self.storage_url), "storage_url", "must not be empty")
        _check(isinstance(self.storage_options, Mapping), "storage_options", "must be a mapping")
        self.storage_options = dict(self.storage_options)
        _check(0 < self.storage_presigned_ttl <= 604_800, "storage_presigned_ttl", "must be 1-604800 seconds")
        for name in (
            "access_token_ttl",
            "refresh_token_ttl",
            "max_upload_size",
            "max_json_body_size",
            "database_busy_timeout",
            "client_header_timeout",
            "client_body_timeout",
            "keep_alive_timeout",
            "rate_limit_anonymous",
            "rate_limit_authenticated",
            "rate_limit_api_key",
            "rate_limit_period",
            "rate_limit_login_per_address",
            "rate_limit_login_per_account",
            "realtime_auth_timeout",
            "realtime_max_backlog",
            "realtime_recheck_interval",
            "argon2_time_cost",
            "argon2_parallelism",
            "password_hash_concurrency",
            "processing_concurrency",
            "processing_timeout",
            "processing_poll_interval",
            "processing_retry_delay",
            "max_image_pixels",
            "processing_memory_budget",
        ):
            _check(getattr(self, name) > 0, name, "must be positive")
        _check(self.argon2_memory_cost >= 8 * self.argon2_parallelism, "argon2_memory_cost", "must be >= 8 * p")
        _check(self.database_pool_size is None or self.database_pool_size > 0, "database_pool_size", "must be positive")
        _check(
            self.database_max_overflow is None or self.database_max_overflow >= 0,
            "database_max_overflow",
            "must be >= 0",
        )
        _check(self.hsts_max_age >= 0, "hsts_max_age", "must be >= 0")
        _check(self.trash_retention_days >= 0, "trash_retention_days", "must be >= 0")
        _check(self.trash_purge_interval > 0, "trash_purge_interval", "must be positive")
        _check(self.max_versions >= 0, "max_versions", "must be >= 0")
        _check(self.storage_min_free_space >= 0, "storage_min_free_space", "must be >= 0")
        _check(self.health_cache_ttl >= 0, "health_cache_ttl", "must be >= 0")
        _check(self.fsck_interval is None or self.fsck_interval > 0, "fsck_interval", "must be positive")
        _check(self.upload_expiry > 0, "upload_expiry", "must be positive")
        _check(self.upload_expiry_interval > 0, "upload_expiry_interval", "must be positive")
        _check(self.temporary_file_max_age > 0, "temporary_file_max_age", "must be positive")
        _check(self.log_format in {"text", "json"}, "log_format", "must be text or json")
        _check(
            not self.metrics_enabled or len(self.metrics_token) >= 32,
            "metrics_token",
            "must be at least 32 characters when metrics_enabled",
        )
        _check(self.webhook_timeout > 0, "webhook_timeout", "must be positive")
        _check(self.webhook_failure_limit > 0, "webhook_failure_limit", "must be positive")
        _check(self.webhook_poll_interval > 0, "webhook_poll_interval", "must be positive")
        _check(self.outbox_retention > 0, "outbox_retention", "must be positive")
        _check(self.webhook_delivery_retention > 0, "webhook_delivery_retention", "must be positive")
        _check(self.audit_retention > 0, "audit_retention", "must be positive")
        _check(self.default_quota_bytes is None or self.default_quota_bytes >= 0, "default_quota_bytes", "must be >= 0")
        _check(all(16 <= s <= 4096 for s in self.thumbnail_sizes), "thumbnail_sizes", "each must be 16-4096")
        _check(self.thumbnail_format in {"webp", "jpeg"}, "thumbnail_format", "must be webp or jpeg")
        _check(self.realtime_path.startswith("/"), "realtime_path", "must start with '/'")
        _check(self.host_identity is None or callable(self.host_identity), "host_identity", "must be callable")
        _check(bool(self.redis_key_prefix), "redis_key_prefix", "must not be empty")
        _check(all(s >= 0 for s in self.webhook_retry_schedule), "webhook_retry_schedule", "must be >= 0")
        for proxy in self.trusted_proxies:
            try:
                ipaddress.ip_network(proxy, strict=False)
            except ValueError as exc:
                raise ValueError(f"trusted_proxies: {proxy!r} is not an address or network") from exc

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **defaults: Any) -> MediaVaultConfig:
        """Build a config from ``MEDIAVAULT_<FIELD>`` variables, over ``defaults``.

        Booleans accept ``true/false/1/0/yes/no/on/off``; lists accept comma-separated values or JSON;
        ``MEDIAVAULT_WEBHOOKS`` is a JSON list of ``{"url", "secret", "events"}`` objects;
        ``MEDIAVAULT_STORAGE_OPTIONS`` is a JSON object; optional integers (``database_pool_size``,
        ``database_max_overflow``) accept an empty value or ``none`` for unset.

        Raises:
            ValueError: a variable cannot be converted (the message names it).
        """
        environ = os.environ if environ is None else environ
        hints = get_type_hints(cls)
        values: dict[str, Any] = dict(defaults)
        for f in dataclasses.fields(cls):
            raw = environ.get(f"MEDIAVAULT_{f.name.upper()}")
            if raw is None or f.name in NOT_FROM_ENV:
                continue
            try:
                values[f.name] = _convert(raw, hints[f.name])
            except ValueError as exc:
                raise ValueError(f"MEDIAVAULT_{f.name.upper()}: {exc}") from exc
        return cls(**values)


_DRIVER_EXTRAS = {"asyncpg": "postgres"}
"""The package extra that installs a database driver (``pip install 'mediavault[postgres]'``)."""


def _missing_driver(database_url: str) -> str:
    """What to install for ``database_url``'s driver when it is not installed, else ``""`` (an unknown dialect or a
    malformed URL is left to the engine, which names it)."""
    from sqlalchemy.engine import make_url

    try:
        make_url(database_url).get_dialect().import_dbapi()  # type: ignore[attr-defined]
    except ModuleNotFoundError as exc:
        extra = _DRIVER_EXTRAS.get(exc.name or "")
        install = f"pip install 'mediavault[{extra}]'" if extra else f"pip install {exc.name}"
        return f"its driver {exc.name} is not installed: {install}"
    except Exception:  # noqa: S110 - not this check's business
        pass
    return ""


def _check(ok: bool, name: str, message: str) -> None:
    if not ok:
        raise ValueError(f"{name}: {message}")


def _endpoint(raw: Any) -> WebhookEndpoint:
    if not isinstance(raw, Mapping) or "url" not in raw or "secret" not in raw:
        raise ValueError("webhooks: each entry needs 'url' and 'secret'")
    return WebhookEndpoint(url=str(raw["url"]), secret=str(raw["secret"]), events=tuple(raw.get("events") or ()))


def _convert(raw: str, hint: Any) -> Any:
    text = str(hint)
    if hint is bool:
        lowered = raw.strip().lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise ValueError(f"{raw!r} is not a boolean")
    if hint is int:
        return int(raw)
    if text in ("int | None", "typing.Optional[int]"):
        return None if raw.strip().lower() in ("", "none") else int(raw)
    if hint is float:
        return float(raw)
    if text in ("float | None", "typing.Optional[float]"):
        return None if raw.strip().lower() in ("", "none") else float(raw)
    if text.startswith("dict"):
        value = json.loads(raw)
        if not isinstance(value, dict):
            raise ValueError("must be a JSON object")
        return value
    if text.startswith("tuple"):
        stripped = raw.strip()
        items: Sequence[Any] = (
            json.loads(stripped) if stripped.startswith("[") else [s.strip() for s in stripped.split(",") if s.strip()]
        )
        return tuple(items)
    return raw
