"""media lifecycle: versions, custom metadata, trash

``mediavault_media`` gets ``version``, ``replaced_at`` and ``custom_metadata`` by ``ADD COLUMN`` (no rebuild, so
its FTS triggers stay); three new tables: previous versions, the index of custom metadata entries, the trash.

Revision ID: 0301_lifecycle
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0301_lifecycle"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = "0005"  # mediavault_blob (versions keep a blob)


def _fk(table: str, column: str, target: str, ondelete: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        [column], [f"{target}.id"], name=op.f(f"fk_{table}_{column}_{target}"), ondelete=ondelete
    )


def upgrade() -> None:
    op.add_column("mediavault_media", sa.Column("version", sa.Integer(), nullable=False, server_default="1"))
    op.add_column("mediavault_media", sa.Column("replaced_at", DateTimeUTC(timezone=True), nullable=True))
    op.add_column("mediavault_media", sa.Column("custom_metadata", JsonB, nullable=False, server_default="{}"))
    op.create_table(
        "mediavault_media_version",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("blob_id", GUID(length=16), nullable=True),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        _fk("mediavault_media_version", "media_id", "mediavault_media", "CASCADE"),
        _fk("mediavault_media_version", "blob_id", "mediavault_blob", "RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_media_version")),
        sa.UniqueConstraint("media_id", "version", name=op.f("uq_mediavault_media_version_media_id")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_mediavault_media_version_storage_key")),
    )
    op.create_index(op.f("ix_mediavault_media_version_blob_id"), "mediavault_media_version", ["blob_id"])
    op.create_table(
        "mediavault_media_metadata",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("digest", sa.String(length=64), nullable=False),
        _fk("mediavault_media_metadata", "media_id", "mediavault_media", "CASCADE"),
        sa.PrimaryKeyConstraint("media_id", "digest", name=op.f("pk_mediavault_media_metadata")),
    )
    op.create_index("ix_mediavault_media_metadata_digest", "mediavault_media_metadata", ["digest", "media_id"])
    op.create_table(
        "mediavault_media_trash",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("deleted_at", DateTimeUTC(timezone=True), nullable=False),
        _fk("mediavault_media_trash", "media_id", "mediavault_media", "CASCADE"),
        _fk("mediavault_media_trash", "owner_id", "mediavault_user", "CASCADE"),
        sa.PrimaryKeyConstraint("media_id", name=op.f("pk_mediavault_media_trash")),
    )
    op.create_index(
        "ix_mediavault_media_trash_owner_deleted", "mediavault_media_trash", ["owner_id", "deleted_at", "media_id"]
    )
    op.create_index("ix_mediavault_media_trash_deleted", "mediavault_media_trash", ["deleted_at"])


def downgrade() -> None:
    op.drop_table("mediavault_media_trash")
    op.drop_table("mediavault_media_metadata")
    op.drop_table("mediavault_media_version")
    with op.batch_alter_table("mediavault_media") as batch:
        batch.drop_column("custom_metadata")
        batch.drop_column("replaced_at")
        batch.drop_column("version")
