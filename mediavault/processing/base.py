"""What a media processor is: the :class:`MediaProcessor` protocol, its input and its result.

Processors come from the ``mediavault_media_processors`` hook. For each new media item, every processor whose
:meth:`~MediaProcessor.accepts` is true runs once, after the upload committed, in the processing worker
(:mod:`mediavault.processing.worker`). A plain ``def process`` runs in a worker thread (decode and resize as you
like, the event loop is never blocked); an ``async def process`` runs on the event loop and must not block it.
"""

from __future__ import annotations

import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import IO, Any, Protocol, runtime_checkable

from mediavault.config import MediaVaultConfig

__all__ = ("MediaProcessor", "MediaSource", "ProcessingError", "ProcessingResult", "Variant")

VARIANT_NAME = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
"""Variant names: lower-case letters, digits and ``-``, at most 64 characters (``thumb-256``, ``share``)."""


class ProcessingError(Exception):
    """A processor could not handle an item (bad or unsupported input); its message is recorded for the owner."""


@dataclass(frozen=True)
class MediaSource:
    """A stored media item as a processor sees it.

    Attributes:
        id: the media id.
        filename: the sanitised filename.
        content_type: the sniffed media type, e.g. ``image/jpeg``.
        kind: ``image``, ``video``, ``audio``, ``document`` or ``other``.
        size: length in bytes.
        checksum_sha256: hex SHA-256 of the bytes.
        open: opens the stored bytes for blocking, seekable reads; call it from a worker thread only (a sync
            ``process`` runs in one) and close what it returns.
        config: the vault's configuration.
    """

    id: str
    filename: str
    content_type: str
    kind: str
    size: int
    checksum_sha256: str
    open: Callable[[], IO[bytes]]
    config: MediaVaultConfig


@dataclass
class Variant:
    """A derived file to store with the item (served by ``GET /media/{id}/thumbnail`` for ``thumb-<size>``).

    Attributes:
        name: unique per item, matching :data:`VARIANT_NAME`.
        content_type: its media type.
        data: its bytes, or (a large one) a binary file positioned at its start, which the worker reads to its end
            in chunks, from a worker thread, and closes.
        width: pixels, for images.
        height: pixels, for images.
    """

    name: str
    content_type: str
    data: bytes | IO[bytes]
    width: int | None = None
    height: int | None = None

    def __post_init__(self) -> None:
        if not VARIANT_NAME.match(self.name):
            raise ValueError(f"variant name {self.name!r} must match {VARIANT_NAME.pattern}")


@dataclass
class ProcessingResult:
    """What a processor found or made.

    Attributes:
        info: JSON-able facts shown to the owner by ``GET /media/{id}/metadata`` under the processor's name.
        private: JSON-able facts kept on the server and never exposed by the API (e.g. the GPS position).
        variants: derived files to store.
    """

    info: dict[str, Any] = field(default_factory=dict)
    private: dict[str, Any] = field(default_factory=dict)
    variants: list[Variant] = field(default_factory=list)


@runtime_checkable
class MediaProcessor(Protocol):
    """Work done on each new media item (metadata extraction, thumbnails, transcoding...).

    Attributes:
        name: unique among the vault's processors; keys its results. A plugin's processor replaces a built-in one
            of the same name (``image``, ``thumbnails``, ``share``).

    Examples:
        .. code-block:: python

            class PageCount:
                name = "pdf"

                def accepts(self, media):
                    return media.content_type == "application/pdf"

                def process(self, media):  # runs in a worker thread
                    with media.open() as fp:
                        return ProcessingResult(info={"pages": count_pages(fp)})
    """

    name: str

    def accepts(self, media: MediaSource) -> bool:
        """Whether to run on ``media`` (cheap; called on the event loop)."""
        ...

    def process(self, media: MediaSource) -> ProcessingResult | Awaitable[ProcessingResult]:
        """Process ``media``. Sync: runs in a worker thread. Async: runs on the event loop.

        Raises:
            ProcessingError: the item cannot be processed (recorded as this processor's error; other
                processors still run and the upload stays). Any other exception is recorded the same way, as
                ``"<ExceptionType>"`` only, and logged.
        """
        ...
