"""resumable uploads (tus)

One table, ``mediavault_upload``: each row a tus upload's offset, length, metadata, owner, expiry and its storage
state (the pieces stored so far).

Revision ID: 0201_tus
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0201_tus"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediavault_upload",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("length", sa.BigInteger(), nullable=False),
        sa.Column("offset", sa.BigInteger(), nullable=False),
        sa.Column("filename", sa.Text(), nullable=False),
        sa.Column("fields", JsonB, nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("pieces", sa.String(length=512), nullable=False),
        sa.Column("storage_state", JsonB, nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("media_id", GUID(length=16), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_upload_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["mediavault_media.id"],
            name=op.f("fk_mediavault_upload_media_id_mediavault_media"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_upload")),
    )
    op.create_index(op.f("ix_mediavault_upload_owner_id"), "mediavault_upload", ["owner_id"])
    op.create_index("ix_mediavault_upload_expires_at", "mediavault_upload", ["expires_at"])


def downgrade() -> None:
    op.drop_table("mediavault_upload")
