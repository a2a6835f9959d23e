"""Columns of a host app's own models that point at the vault's tables (``docs/embedding.md``, "Host rows that
reference media").

A host that shares the vault's database declares its reference to a media item with :func:`media_fk`: a foreign
key to ``mediavault_media.id`` of the vault's own id type (``GUID``: ``UUID`` on PostgreSQL, 16 bytes on SQLite),
``ON DELETE RESTRICT`` unless the host chooses another action. The vault's delete then refuses media a host row
still references (409 ``conflict``, :meth:`~mediavault.domain.media.services.MediaService.delete`); with
``CASCADE`` or ``SET NULL`` the database removes or clears the host's rows together with the media.
"""

from __future__ import annotations

import uuid
from typing import Any, Literal

from advanced_alchemy.types import GUID
from sqlalchemy import ForeignKey
from sqlalchemy.orm import MappedColumn, mapped_column

from mediavault.db.models import Media

__all__ = ("OnDelete", "media_fk")

OnDelete = Literal["RESTRICT", "NO ACTION", "CASCADE", "SET NULL"]
"""What the database does to a host row when the media it references is deleted (SQL ``ON DELETE``)."""


def media_fk(
    *, ondelete: OnDelete = "RESTRICT", nullable: bool | None = None, index: bool = True, **column: Any
) -> MappedColumn[uuid.UUID]:
    """A declarative column referencing a vault media item, for a host model in the vault's database.

    Use it as ``photo_id: Mapped[uuid.UUID] = media_fk()``. The foreign key names the vault's ``Media.id`` column
    object, so the host's models may live on their own ``MetaData`` (the vault's tables are never created by the
    host's ``create_all``).

    Args:
        ondelete: ``RESTRICT`` (default: deleting referenced media answers 409 ``conflict``, nothing changes),
            ``NO ACTION`` (the same, checked at the end of the statement), ``CASCADE`` (the host's rows go with
            the media) or ``SET NULL`` (they stay, the column cleared).
        nullable: whether the column accepts ``NULL``; by default only with ``SET NULL``.
        index: index the column (the database looks it up on every media delete).
        **column: more :func:`~sqlalchemy.orm.mapped_column` arguments (``default``, ``comment``, ...).

    Raises:
        ValueError: ``ondelete`` is none of the above, or ``SET NULL`` on a column that is not nullable.
    """
    if ondelete not in ("RESTRICT", "NO ACTION", "CASCADE", "SET NULL"):
        raise ValueError(f"ondelete: {ondelete!r} is none of RESTRICT, NO ACTION, CASCADE, SET NULL")
    nullable = ondelete == "SET NULL" if nullable is None else nullable
    if ondelete == "SET NULL" and not nullable:
        raise ValueError("ondelete: SET NULL needs a nullable column")
    return mapped_column(
        GUID, ForeignKey(Media.__table__.c.id, ondelete=ondelete), nullable=nullable, index=index, **column
    )
