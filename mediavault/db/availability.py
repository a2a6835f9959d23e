"""Whether a database error is the database being briefly unavailable (a lost connection, SQLite's busy lock)
rather than a bug: the HTTP layer answers those 503 with ``Retry-After``, the background workers log one line and
try again."""

from __future__ import annotations

import logging

from sqlalchemy.exc import DBAPIError

__all__ = ("database_unavailable", "log_retry")

_RETRYABLE = ("40P01", "40001")
"""PostgreSQL's deadlock_detected and serialization_failure: the transaction was aborted to let another through, and
the same request a moment later succeeds."""


def database_unavailable(exc: BaseException) -> str | None:
    """Why ``exc`` (raised as it is, wrapped by SQLAlchemy or advanced-alchemy, or straight from the driver as
    :mod:`mediavault.db.statements` runs its reads) is the database being briefly unavailable rather than a bug:
    ``"busy"`` for SQLite's ``SQLITE_BUSY`` ("database is locked": another process held the one write lock past the
    busy timeout) and PostgreSQL's deadlock and serialization failures, ``"lost"`` for a connection that died (a
    terminated backend, a failover, a restart); else ``None``."""
    for error in (exc, exc.__cause__):
        if isinstance(error, DBAPIError):
            if error.connection_invalidated:
                return "lost"
            error = error.orig
        if getattr(error, "sqlite_errorname", "") == "SQLITE_BUSY" or getattr(error, "sqlstate", None) in _RETRYABLE:
            return "busy"
        if _asyncpg_connection_lost(error):
            return "lost"
    return None


def _asyncpg_connection_lost(error: BaseException | None) -> bool:
    """Whether ``error`` is asyncpg's own word for a dead connection (a read run on the driver connection)."""
    if error is None or not type(error).__module__.startswith("asyncpg"):
        return False
    from asyncpg import exceptions

    # InternalClientError ("another operation is in progress"): a connection whose backend was terminated while idle
    # can still be handed out before asyncpg notices the closed socket; it is unusable all the same
    lost = (
        exceptions.PostgresConnectionError,
        exceptions.AdminShutdownError,
        exceptions.CrashShutdownError,
        exceptions.InternalClientError,
    )
    closed = isinstance(error, exceptions.InterfaceError) and "connection is closed" in str(error)
    return closed or isinstance(error, lost)


def log_retry(logger: logging.Logger, exc: BaseException, message: str, *args: object) -> None:
    """Log ``message`` (%-formatted with ``args``) for background work that raised ``exc`` and will be tried again:
    one warning line, without the traceback, when the database was briefly unavailable (a restart, a failover: the
    next try gets a new connection), else an error with the traceback."""
    if reason := database_unavailable(exc):
        logger.warning(f"{message} (the database is briefly unavailable: %s, %s)", *args, reason, type(exc).__name__)
    else:
        logger.error(message, *args, exc_info=exc)
