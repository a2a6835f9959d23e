"""Structured logs: one JSON object per line, with the request id of the request that logged it.

``mediavault serve`` uses them with ``log_format=json`` (the app's loggers and uvicorn's, access log included); a host
app can put :class:`RequestIdFilter` and :class:`JsonFormatter` in its own logging configuration. Every vault request
sets :data:`REQUEST_ID` (the ``X-Request-ID`` it answers with) for the code it runs, so a line logged on its behalf
carries ``"request_id"``; lines logged outside a request (start-up, the background workers) carry none.
"""

from __future__ import annotations

import datetime as dt
import json
import logging
from collections.abc import Mapping
from contextvars import ContextVar
from typing import Any

__all__ = ("REQUEST_ID", "REQUEST_SCOPE", "JsonFormatter", "RequestIdFilter", "logging_config")

REQUEST_ID: ContextVar[str | None] = ContextVar("mediavault_request_id", default=None)
"""The id of the vault request being served in this context (``None`` outside one)."""
REQUEST_SCOPE: ContextVar[Mapping[str, Any] | None] = ContextVar("mediavault_request_scope", default=None)
"""The ASGI scope of the vault request being served in this context (``None`` outside one): the audit log reads the
client's address and user agent from it, only when it writes a line."""


class RequestIdFilter(logging.Filter):
    """Stamp each record with ``request_id`` (:data:`REQUEST_ID`) where it is logged, before a queue handler hands
    it to another thread."""

    def filter(self, record: logging.LogRecord) -> bool:
        if not hasattr(record, "request_id"):
            record.request_id = REQUEST_ID.get()
        return True


class JsonFormatter(logging.Formatter):
    """``{"time", "level", "logger", "message", "request_id"?, "exception"?}`` on one line (UTC RFC 3339 time)."""

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": dt.datetime.fromtimestamp(record.created, dt.UTC).isoformat().replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        if request_id := getattr(record, "request_id", None):
            line["request_id"] = request_id
        if record.exc_info:
            line["exception"] = self.formatException(record.exc_info)
        return json.dumps(line, ensure_ascii=False)


def logging_config(level: str = "INFO") -> dict[str, Any]:
    """A :func:`logging.config.dictConfig` dictionary: every logger (root, uvicorn's) as JSON lines on stderr, with
    request ids. Given to uvicorn as ``log_config`` by ``mediavault serve`` with ``log_format=json``."""
    handler = {"class": "logging.StreamHandler", "formatter": "json", "filters": ["request_id"]}
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "filters": {"request_id": {"()": RequestIdFilter}},
        "formatters": {"json": {"()": JsonFormatter}},
        "handlers": {"json": handler},
        "root": {"level": level, "handlers": ["json"]},
        "loggers": {
            name: {"level": level, "handlers": ["json"], "propagate": False}
            for name in ("uvicorn", "uvicorn.error", "uvicorn.access")
        },
    }
