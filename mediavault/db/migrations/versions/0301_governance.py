"""governance: disabled users and quotas, scoped and expiring API keys, the audit log (issue 16)

Revision ID: 0301_governance
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0301_governance"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = ("0004",)  # mediavault_api_key


def upgrade() -> None:
    with op.batch_alter_table("mediavault_user", schema=None) as batch_op:
        batch_op.add_column(sa.Column("disabled_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("quota_override", sa.Boolean(), nullable=False, server_default=sa.false()))
        batch_op.add_column(sa.Column("quota_bytes", sa.BigInteger(), nullable=True))
    with op.batch_alter_table("mediavault_api_key", schema=None) as batch_op:
        batch_op.add_column(sa.Column("scopes", JsonB, nullable=True))
        batch_op.add_column(sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=True))
        batch_op.add_column(sa.Column("last_used_at", DateTimeUTC(timezone=True), nullable=True))
    op.create_table(
        "mediavault_audit_event",
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("actor_id", GUID(length=16), nullable=True),
        sa.Column("target_type", sa.String(length=32), nullable=True),
        sa.Column("target_id", sa.String(length=64), nullable=True),
        sa.Column("ip", sa.String(length=64), nullable=True),
        sa.Column("user_agent", sa.String(length=512), nullable=True),
        sa.Column("details", JsonB, nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_audit_event")),
    )
    with op.batch_alter_table("mediavault_audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_mediavault_audit_event_created_id", ["created_at", "id"], unique=False)
        batch_op.create_index("ix_mediavault_audit_event_action_created", ["action", "created_at"], unique=False)
        batch_op.create_index("ix_mediavault_audit_event_actor_created", ["actor_id", "created_at"], unique=False)


def downgrade() -> None:
    op.drop_table("mediavault_audit_event")
    with op.batch_alter_table("mediavault_api_key", schema=None) as batch_op:
        batch_op.drop_column("last_used_at")
        batch_op.drop_column("expires_at")
        batch_op.drop_column("scopes")
    with op.batch_alter_table("mediavault_user", schema=None) as batch_op:
        batch_op.drop_column("quota_bytes")
        batch_op.drop_column("quota_override")
        batch_op.drop_column("disabled_at")
