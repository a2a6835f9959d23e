"""api keys

Revision ID: 0004
Revises: 0001
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

revision: str = "0004"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediavault_api_key",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("prefix", sa.String(length=16), nullable=False),
        sa.Column("key_hash", sa.String(length=64), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_api_key_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_api_key")),
        sa.UniqueConstraint("key_hash", name=op.f("uq_mediavault_api_key_key_hash")),
    )
    with op.batch_alter_table("mediavault_api_key", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_mediavault_api_key_owner_id"), ["owner_id"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("mediavault_api_key", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediavault_api_key_owner_id"))
    op.drop_table("mediavault_api_key")
