"""webhooks: when an endpoint was last re-enabled

``mediavault_webhook.enabled_at`` lets the fan-out leave out events raised while an endpoint was disabled
even when they are fanned out after it was turned back on (the fan-out runs after the event's commit).

Revision ID: 0007
Revises: 0003
Create Date: 2026-11-29
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import DateTimeUTC
from alembic import op

revision: str = "0007"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    with op.batch_alter_table("mediavault_webhook", schema=None) as batch_op:
        batch_op.add_column(sa.Column("enabled_at", DateTimeUTC(timezone=True), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mediavault_webhook", schema=None) as batch_op:
        batch_op.drop_column("enabled_at")
