"""signed upload URLs and guest uploads through share links

Table ``mediavault_signed_upload`` (one row per live signed upload URL, by the SHA-256 of its token) and the
``mediavault_share.allow_upload`` flag (false for every existing link). Off ``0002``, which made the share and
collection tables.

Revision ID: 0250
Revises: 0002
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0250"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediavault_signed_upload",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("max_size", sa.BigInteger(), nullable=False),
        sa.Column("collection_id", GUID(length=16), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_signed_upload_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["mediavault_collection.id"],
            name=op.f("fk_mediavault_signed_upload_collection_id_mediavault_collection"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_signed_upload")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_mediavault_signed_upload_token_hash")),
    )
    for column in ("owner_id", "expires_at", "collection_id"):
        op.create_index(f"ix_mediavault_signed_upload_{column}", "mediavault_signed_upload", [column])
    op.add_column(
        "mediavault_share", sa.Column("allow_upload", sa.Boolean(), server_default=sa.false(), nullable=False)
    )


def downgrade() -> None:
    with op.batch_alter_table("mediavault_share") as batch_op:
        batch_op.drop_column("allow_upload")
    for column in ("owner_id", "expires_at", "collection_id"):
        op.drop_index(f"ix_mediavault_signed_upload_{column}", table_name="mediavault_signed_upload")
    op.drop_table("mediavault_signed_upload")
