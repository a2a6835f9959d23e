"""A host app's model that references vault media (docs/embedding.md, "Host rows that reference media")."""

import uuid

from sqlalchemy import String
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mediavault.db import media_fk


class Base(DeclarativeBase):  # the host's own models, on their own MetaData, in the vault's database
    pass


class Listing(Base):
    __tablename__ = "shop_listing"

    id: Mapped[int] = mapped_column(primary_key=True)
    title: Mapped[str] = mapped_column(String(200))
    photo_id: Mapped[uuid.UUID] = media_fk()  # ON DELETE RESTRICT: deleting this photo answers 409 conflict
    banner_id: Mapped[uuid.UUID | None] = media_fk(ondelete="SET NULL")  # cleared when its media is deleted
