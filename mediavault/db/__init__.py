"""Persistence: models, engine set-up and migrations of the vault's own tables; :func:`media_fk` for host models
that reference media (imported on first use, PEP 562, so ``import mediavault.db.<module>`` loads only that)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mediavault.db.references import media_fk

__all__ = ("media_fk",)


def __getattr__(name: str) -> Any:
    if name != "media_fk":
        raise AttributeError(f"module 'mediavault.db' has no attribute {name!r}")
    from mediavault.db.references import media_fk

    return media_fk
