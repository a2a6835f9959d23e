"""initial schema

Revision ID: 0001
Revises:
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediavault_outbox_event",
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("user_id", GUID(length=16), nullable=True),
        sa.Column("payload", JsonB, nullable=False),
        sa.Column("dispatched_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_outbox_event")),
    )
    with op.batch_alter_table("mediavault_outbox_event", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediavault_outbox_event_dispatched_at"), ["dispatched_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mediavault_outbox_event_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mediavault_user",
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=True),
        sa.Column("role", sa.String(length=20), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_user")),
        sa.UniqueConstraint("email", name=op.f("uq_mediavault_user_email")),
    )
    op.create_table(
        "mediavault_media",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("storage_key", sa.String(length=512), nullable=False),
        sa.Column("filename", sa.String(length=255), nullable=False),
        sa.Column("original_filename", sa.Text(), nullable=False),
        sa.Column("content_type", sa.String(length=255), nullable=False),
        sa.Column("kind", sa.String(length=20), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("checksum_sha256", sa.String(length=64), nullable=False),
        sa.Column("width", sa.Integer(), nullable=True),
        sa.Column("height", sa.Integer(), nullable=True),
        sa.Column("title", sa.Text(), nullable=True),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_media_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_media")),
        sa.UniqueConstraint("storage_key", name=op.f("uq_mediavault_media_storage_key")),
    )
    with op.batch_alter_table("mediavault_media", schema=None) as batch_op:
        batch_op.create_index("ix_mediavault_media_owner_created", ["owner_id", "created_at"], unique=False)
        batch_op.create_index("ix_mediavault_media_owner_filename", ["owner_id", "filename"], unique=False)
        batch_op.create_index("ix_mediavault_media_owner_size", ["owner_id", "size"], unique=False)

    op.create_table(
        "mediavault_token_family",
        sa.Column("user_id", GUID(length=16), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("revoked_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_token_family_user_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_token_family")),
    )
    with op.batch_alter_table("mediavault_token_family", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediavault_token_family_user_id"), ["user_id"], unique=False)

    op.create_table(
        "mediavault_media_tag",
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("tag", sa.String(length=100), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["mediavault_media.id"],
            name=op.f("fk_mediavault_media_tag_media_id_mediavault_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_media_tag")),
    )
    with op.batch_alter_table("mediavault_media_tag", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediavault_media_tag_media_id"), ["media_id"], unique=False)
        batch_op.create_index("ix_mediavault_media_tag_tag", ["tag", "media_id"], unique=False)

    op.create_table(
        "mediavault_refresh_token",
        sa.Column("family_id", GUID(length=16), nullable=False),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("used_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["mediavault_token_family.id"],
            name=op.f("fk_mediavault_refresh_token_family_id_mediavault_token_family"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_refresh_token")),
    )
    with op.batch_alter_table("mediavault_refresh_token", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediavault_refresh_token_family_id"), ["family_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mediavault_refresh_token", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediavault_refresh_token_family_id"))

    op.drop_table("mediavault_refresh_token")
    with op.batch_alter_table("mediavault_media_tag", schema=None) as batch_op:
        batch_op.drop_index("ix_mediavault_media_tag_tag")
        batch_op.drop_index(batch_op.f("ix_mediavault_media_tag_media_id"))

    op.drop_table("mediavault_media_tag")
    with op.batch_alter_table("mediavault_token_family", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediavault_token_family_user_id"))

    op.drop_table("mediavault_token_family")
    with op.batch_alter_table("mediavault_media", schema=None) as batch_op:
        batch_op.drop_index("ix_mediavault_media_owner_size")
        batch_op.drop_index("ix_mediavault_media_owner_filename")
        batch_op.drop_index("ix_mediavault_media_owner_created")

    op.drop_table("mediavault_media")
    op.drop_table("mediavault_user")
    with op.batch_alter_table("mediavault_outbox_event", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediavault_outbox_event_user_id"))
        batch_op.drop_index(batch_op.f("ix_mediavault_outbox_event_dispatched_at"))

    op.drop_table("mediavault_outbox_event")
