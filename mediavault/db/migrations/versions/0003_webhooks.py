"""webhooks: endpoints and their delivery attempts

Revision ID: 0003
Revises: 0001
Create Date: 2026-11-29

Events recorded in the outbox before this revision are marked dispatched: there was no webhook to
deliver them to, and host-level endpoints configured beforehand must not receive a backlog.
"""

import datetime as dt
from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from alembic import op

revision: str = "0003"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "mediavault_webhook",
        sa.Column("owner_id", GUID(length=16), nullable=True),
        sa.Column("config_key", sa.String(length=64), nullable=True),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("events", JsonB, nullable=False),
        sa.Column("secret", sa.String(length=200), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("disabled_reason", sa.Text(), nullable=True),
        sa.Column("disabled_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("consecutive_failures", sa.Integer(), nullable=False),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_webhook_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_webhook")),
        sa.UniqueConstraint("config_key", name=op.f("uq_mediavault_webhook_config_key")),
    )
    with op.batch_alter_table("mediavault_webhook", schema=None) as batch_op:
        batch_op.create_index("ix_mediavault_webhook_owner_created", ["owner_id", "created_at"], unique=False)

    op.create_table(
        "mediavault_webhook_delivery",
        sa.Column("webhook_id", GUID(length=16), nullable=False),
        sa.Column("event_id", GUID(length=16), nullable=False),
        sa.Column("event", sa.String(length=100), nullable=False),
        sa.Column("attempt", sa.Integer(), nullable=False),
        sa.Column("status", sa.String(length=20), nullable=False),
        sa.Column("next_attempt_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("claimed_until", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("claim_token", GUID(length=16), nullable=True),
        sa.Column("attempted_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("response_status", sa.Integer(), nullable=True),
        sa.Column("duration_ms", sa.Integer(), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["event_id"],
            ["mediavault_outbox_event.id"],
            name=op.f("fk_mediavault_webhook_delivery_event_id_mediavault_outbox_event"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["webhook_id"],
            ["mediavault_webhook.id"],
            name=op.f("fk_mediavault_webhook_delivery_webhook_id_mediavault_webhook"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_webhook_delivery")),
    )
    with op.batch_alter_table("mediavault_webhook_delivery", schema=None) as batch_op:
        batch_op.create_index(
            "ux_mediavault_webhook_delivery_attempt", ["webhook_id", "event_id", "attempt"], unique=True
        )
        batch_op.create_index("ix_mediavault_webhook_delivery_due", ["status", "next_attempt_at"], unique=False)
        batch_op.create_index("ix_mediavault_webhook_delivery_log", ["webhook_id", "created_at"], unique=False)
        batch_op.create_index(batch_op.f("ix_mediavault_webhook_delivery_event_id"), ["event_id"], unique=False)

    outbox = sa.table("mediavault_outbox_event", sa.column("dispatched_at", DateTimeUTC(timezone=True)))
    op.execute(outbox.update().where(outbox.c.dispatched_at.is_(None)).values(dispatched_at=dt.datetime.now(dt.UTC)))


def downgrade() -> None:
    with op.batch_alter_table("mediavault_webhook_delivery", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_mediavault_webhook_delivery_event_id"))
        batch_op.drop_index("ix_mediavault_webhook_delivery_log")
        batch_op.drop_index("ix_mediavault_webhook_delivery_due")
        batch_op.drop_index("ux_mediavault_webhook_delivery_attempt")
    op.drop_table("mediavault_webhook_delivery")
    with op.batch_alter_table("mediavault_webhook", schema=None) as batch_op:
        batch_op.drop_index("ix_mediavault_webhook_owner_created")
    op.drop_table("mediavault_webhook")
