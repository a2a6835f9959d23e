"""A webhook transport that appends each delivery to a JSON-lines file (an example Media Vault plugin).

``jsonl://<name>`` URLs go to ``<directory>/<name>.jsonl``; one line per attempt with the URL, event id,
event name, attempt number, the signed headers and the body exactly as sent (a string), so a consumer
can verify the Standard Webhooks signature as an HTTP receiver would. Installed, the ``mediavault``
entry point registers this module (directory ``$MEDIAVAULT_JSONL_DIR``, default ``./mediavault-webhooks``);
:class:`JsonlPlugin` registers it for one vault with its own directory.
"""

from __future__ import annotations

import json
import os
import re
import threading
from pathlib import Path
from urllib.parse import urlsplit

import anyio.to_thread

from mediavault import MediaVaultConfig, hookimpl
from mediavault.webhooks import TransportError, TransportResponse, WebhookMessage, WebhookTransport

__all__ = ("JsonlPlugin", "JsonlTransport", "mediavault_webhook_transports")

_NAME = re.compile(r"^[A-Za-z0-9_-]{1,64}$")


class JsonlTransport(WebhookTransport):
    """Append deliveries to ``<directory>/<name>.jsonl`` for ``jsonl://<name>`` URLs.

    Args:
        directory: where the files live (created on first write).
    """

    schemes = ("jsonl",)

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self._lock = threading.Lock()

    def path_for(self, url: str) -> Path:
        """The file of ``url``.

        Raises:
            ValueError: the URL is not ``jsonl://<name>`` with a safe name (no paths, no query).
        """
        parts = urlsplit(url)
        name = parts.netloc
        if parts.scheme != "jsonl" or not _NAME.match(name) or parts.path not in ("", "/") or parts.query:
            raise ValueError("use jsonl://<name>, the name being 1-64 of A-Z a-z 0-9 _ -")
        return self.directory / f"{name}.jsonl"

    def check_url(self, url: str) -> None:
        self.path_for(url)

    async def send(self, message: WebhookMessage) -> TransportResponse:
        try:
            path = self.path_for(message.url)
        except ValueError as exc:
            raise TransportError(str(exc)) from exc
        line = json.dumps(
            {
                "url": message.url,
                "event_id": message.event_id,
                "event": message.event,
                "attempt": message.attempt,
                "headers": dict(message.headers),
                "body": message.body.decode("utf-8"),
            },
            separators=(",", ":"),
        )
        try:
            await anyio.to_thread.run_sync(self._append, path, line + "\n")
        except OSError as exc:
            raise TransportError(f"could not write {path.name}: {exc.strerror}") from exc
        return TransportResponse(200)

    def _append(self, path: Path, line: str) -> None:
        with self._lock:
            path.parent.mkdir(parents=True, exist_ok=True)
            with path.open("a", encoding="utf-8") as fh:
                fh.write(line)
                fh.flush()
                os.fsync(fh.fileno())  # durable before the attempt is recorded as succeeded


class JsonlPlugin:
    """Register the transport for one vault: ``MediaVaultConfig(plugins=(JsonlPlugin(directory),))``."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = directory

    @hookimpl
    def mediavault_webhook_transports(self, config: MediaVaultConfig) -> list[WebhookTransport]:
        return [JsonlTransport(self.directory)]


@hookimpl
def mediavault_webhook_transports(config: MediaVaultConfig) -> list[WebhookTransport]:
    """Entry-point registration: files under ``$MEDIAVAULT_JSONL_DIR`` (default ``./mediavault-webhooks``)."""
    return [JsonlTransport(os.environ.get("MEDIAVAULT_JSONL_DIR", "./mediavault-webhooks"))]
