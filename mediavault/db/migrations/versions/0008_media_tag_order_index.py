"""media tag order index

An index on ``(media_id, position)`` in place of the one on ``media_id`` alone: a media item's tags are read in their
order with every item (``GET /media``, ``GET /media/{id}``), and with this index the database walks them in that order
instead of sorting them once per item. Lookups by ``media_id`` (and the cascade on delete) use its first column.

Revision ID: 0008
Revises: 0001
Create Date: 2026-12-06
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0008"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_mediavault_media_tag_media_position", "mediavault_media_tag", ["media_id", "position"])
    op.drop_index("ix_mediavault_media_tag_media_id", table_name="mediavault_media_tag")


def downgrade() -> None:
    op.create_index("ix_mediavault_media_tag_media_id", "mediavault_media_tag", ["media_id"])
    op.drop_index("ix_mediavault_media_tag_media_position", table_name="mediavault_media_tag")
