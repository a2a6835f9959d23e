"""media processing, variants and deduplicated blobs

Three new tables; ``mediavault_media`` itself is not rebuilt (its FTS triggers stay as they are).

Revision ID: 0005
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0005"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def _media_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["media_id"], ["mediavault_media.id"], name=op.f(f"fk_{table}_media_id_mediavault_media"), ondelete="CASCADE"
    )


def upgrade() -> None:
    op.create_table(
        "mediavault_blob",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_blob_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_blob")),
        sa.UniqueConstraint("owner_id", "checksum_sha256", name=op.f("uq_mediavault_blob_owner_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_mediavault_blob_storage_key")),
    )
    op.create_table(
        "mediavault_media_blob",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("blob_id", GUID(length=16), nullable=False),
        _media_fk("mediavault_media_blob"),
        sa.ForeignKeyConstraint(
            ["blob_id"],
            ["mediavault_blob.id"],
            name=op.f("fk_mediavault_media_blob_blob_id_mediavault_blob"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_mediavault_media_blob")),
    )
    op.create_index(op.f("ix_mediavault_media_blob_blob_id"), "mediavault_media_blob", ["blob_id"])
    op.create_table(
        "mediavault_media_processing",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("attempts", sa.Integer(), nullable=False),
        sa.Column("claim_token", GUID(length=16), nullable=True),
        sa.Column("claimed_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("processed_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("info", JsonB, nullable=False),
        sa.Column("private", JsonB, nullable=False),
        sa.Column("errors", JsonB, nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _media_fk("mediavault_media_processing"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_media_processing")),
        sa.UniqueConstraint("media_id", name=op.f("uq_mediavault_media_processing_media_id")),
    )
    op.create_index("ix_mediavault_media_processing_due", "mediavault_media_processing", ["status", "claimed_until"])
    op.create_table(
        "mediavault_media_variant",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=64), nullable=False),
        sa.Column("storage_key", sa.String(length=600), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _media_fk("mediavault_media_variant"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_media_variant")),
        sa.UniqueConstraint("media_id", "name", name=op.f("uq_mediavault_media_variant_media_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_mediavault_media_variant_storage_key")),
    )


def downgrade() -> None:
    op.drop_table("mediavault_media_variant")
    op.drop_index("ix_mediavault_media_processing_due", table_name="mediavault_media_processing")
    op.drop_table("mediavault_media_processing")
    op.drop_index(op.f("ix_mediavault_media_blob_blob_id"), table_name="mediavault_media_blob")
    op.drop_table("mediavault_media_blob")
    op.drop_table("mediavault_blob")
