"""The memory the image processors of one vault may hold in decoded pixels at once.

Pillow decodes a whole image into memory (PNG, WebP, GIF, TIFF cannot be decoded at a smaller scale; JPEG can,
with ``draft()``): a 300 kB PNG of 9000 x 9000 pixels takes 324 MB once decoded (Pillow keeps RGB in 4 bytes a
pixel). Each decode first reserves its cost from a :class:`MemoryBudget` (``processing_memory_budget``): decodes
that would exceed it wait for others to finish, and one that alone would exceed it is refused. When the last
reservation is given back, the C allocator is asked to return freed memory to the system (glibc's
``malloc_trim``: Pillow's 16 MiB blocks freed by worker threads otherwise stay in their arenas, so a process that
once decoded a large image kept its peak).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from mediavault.processing.base import ProcessingError

__all__ = ("MemoryBudget", "decoded_size")

_MIB = 1024 * 1024
_TRIM_FROM = 32 * _MIB
"""Reservations from this size on give memory back to the system when they end."""


def _load_malloc_trim() -> Callable[[], object] | None:
    """glibc's ``malloc_trim(0)``, or ``None`` elsewhere (musl, macOS, Windows: their allocators give back alone)."""
    try:
        trim = ctypes.CDLL(ctypes.util.find_library("c")).malloc_trim
    except (OSError, AttributeError, TypeError):
        return None
    trim.argtypes = [ctypes.c_size_t]
    return lambda: trim(0)


_MALLOC_TRIM = _load_malloc_trim()


def decoded_size(width: int, height: int, mode: str) -> int:
    """Bytes Pillow holds for a decoded ``width`` x ``height`` image in ``mode`` (1 byte a pixel for ``1``, ``L``,
    ``P``; 2 for 16-bit grey; 4 for everything else, RGB included)."""
    if mode in ("1", "L", "P"):
        per_pixel = 1
    elif mode.startswith("I;16"):
        per_pixel = 2
    else:
        per_pixel = 4
    return width * height * per_pixel


class MemoryBudget:
    """Bytes of decoded images the processors may hold at once (thread-safe: processors run in worker threads).

    Args:
        limit: the budget in bytes.
    """

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self._used = 0
        self._free = threading.Condition()

    @property
    def used(self) -> int:
        """Bytes reserved right now."""
        return self._used

    @contextmanager
    def reserve(self, cost: int, what: str) -> Iterator[None]:
        """Hold ``cost`` bytes of the budget for the ``with`` block, waiting while other decodes hold too much.

        Raises:
            ProcessingError: ``cost`` alone is over the budget (``what`` names the image in the message).
        """
        if cost > self.limit:
            raise ProcessingError(
                f"{what} needs about {cost // _MIB} MiB to decode, over the processing memory budget of "
                f"{self.limit // _MIB} MiB"
            )
        with self._free:
            self._free.wait_for(lambda: self._used + cost <= self.limit)
            self._used += cost
        try:
            yield
        finally:
            with self._free:
                self._used -= cost
                idle = self._used == 0
                self._free.notify_all()
            if idle and cost >= _TRIM_FROM and _MALLOC_TRIM is not None:
                _MALLOC_TRIM()
