"""The reference server: a Litestar app that is only a Media Vault, configured from the environment.

``mediavault serve`` runs :func:`create_app` under uvicorn. With nothing set it keeps everything under
the data directory (``MEDIAVAULT_DATA_DIR``, default ``./mediavault-data``): the SQLite database
``mediavault.db``, the media bytes in ``media/``, and a generated ``secret_key`` file reused across
restarts (so tokens survive them).
"""

from __future__ import annotations

import contextlib
import logging
import logging.config
import os
import secrets
from pathlib import Path
from typing import Any

from litestar import Litestar
from litestar.logging import LoggingConfig

from mediavault import logs
from mediavault.config import MediaVaultConfig
from mediavault.http.apidocs import api_docs_config
from mediavault.meta import VERSION
from mediavault.plugin import MediaVault

__all__ = ("DEFAULT_DATA_DIR", "create_app", "load_config", "multiprocess_problems")

DEFAULT_DATA_DIR = "./mediavault-data"


def _secret_key(data_dir: Path) -> str:
    """The key stored in ``<data_dir>/secret_key``, created (mode 0600) on first use.

    Several processes may start at once on a fresh data dir (``--workers N``, or gunicorn/granian workers calling
    :func:`create_app`): each writes a candidate key to its own temporary file and hard-links it into place
    (``link`` fails when the name exists, POSIX), so exactly one candidate wins, nobody reads a half-written file,
    and every process reads the same key.
    """
    path = data_dir / "secret_key"
    if not path.exists():
        data_dir.mkdir(parents=True, exist_ok=True)
        candidate = data_dir / f".secret_key.{os.getpid()}.{secrets.token_hex(4)}"
        fd = os.open(candidate, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        try:
            with os.fdopen(fd, "w") as fh:
                fh.write(secrets.token_urlsafe(48))
                fh.flush()
                os.fsync(fh.fileno())
            with contextlib.suppress(FileExistsError):
                os.link(candidate, path)
        finally:
            candidate.unlink()
    return path.read_text().strip()


def load_config(data_dir: str | os.PathLike[str] | None = None, **overrides: object) -> MediaVaultConfig:
    """Build the server's config: ``MEDIAVAULT_*`` variables over data-dir defaults.

    Args:
        data_dir: where the default database, media and secret key live
            (default ``$MEDIAVAULT_DATA_DIR`` or ``./mediavault-data``).
        overrides: fields that win over the environment (e.g. ``auto_migrate=False``).
    """
    root = Path(data_dir or os.environ.get("MEDIAVAULT_DATA_DIR") or DEFAULT_DATA_DIR).expanduser().resolve()
    defaults: dict[str, Any] = {
        "database_url": f"sqlite+aiosqlite:///{root / 'mediavault.db'}",
        "storage_url": (root / "media").as_uri(),
    }
    if not os.environ.get("MEDIAVAULT_SECRET_KEY"):
        defaults["secret_key"] = _secret_key(root)
    config = MediaVaultConfig.from_env(**defaults)
    for name, value in overrides.items():
        setattr(config, name, value)
    return config


def multiprocess_problems(config: MediaVaultConfig) -> list[str]:
    """Why ``config`` cannot be served by several processes at once (empty when it can).

    Several processes need state they all see: a database and byte store outside process memory, and Redis
    (``redis_url``) as the realtime broker (the contract: an event raised in one process reaches sockets held by
    the others) and for rate-limit budgets shared by all processes instead of one budget per process.
    """
    problems = []
    if not config.redis_url:
        problems.append("redis_url is not set: realtime events and rate-limit budgets would stay in each process")
    if config.storage_url.startswith("memory://"):
        problems.append("storage_url is memory://: each process would hold its own bytes")
    if config.database_url.startswith("sqlite") and ":memory:" in config.database_url:
        problems.append("database_url is an in-memory SQLite database: each process would hold its own")
    return problems


def create_app(config: MediaVaultConfig | None = None) -> Litestar:
    """The reference server app (also the uvicorn factory ``mediavault.server:create_app``)."""
    config = config or load_config(auto_migrate=os.environ.get("MEDIAVAULT_AUTO_MIGRATE", "true") != "false")
    logging_config: LoggingConfig | None = LoggingConfig(
        root={"level": logging.getLevelName(logging.INFO), "handlers": ["queue_listener"]},
        log_exceptions="never",
    )
    if config.log_format == "json":  # every logger as JSON lines with request ids, whatever server runs the app
        logging.config.dictConfig(logs.logging_config())
        logging_config = None
    return Litestar(
        plugins=[MediaVault(config)],
        openapi_config=api_docs_config(config, title="Media Vault", version=VERSION),
        logging_config=logging_config,
    )
