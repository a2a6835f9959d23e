"""media checksum index

An index on ``(owner_id, checksum_sha256)`` so that ``GET /media?checksum_sha256=`` (asked once per file by
``mediavault upload`` to skip what is already there) is one index lookup instead of a scan of the owner's media.

Revision ID: 0006
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

from alembic import op

revision: str = "0006"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_index("ix_mediavault_media_owner_checksum", "mediavault_media", ["owner_id", "checksum_sha256"])


def downgrade() -> None:
    op.drop_index("ix_mediavault_media_owner_checksum", table_name="mediavault_media")
