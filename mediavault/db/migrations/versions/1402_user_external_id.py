"""user external id

``mediavault_user.external_id``: the host app's id of a user the vault created on first sight from the host's own
authentication (``mediavault.auth.host``), unique, ``NULL`` for the vault's own accounts. A unique index rather than
a constraint, so SQLite adds it without rebuilding the table (a rebuild would drop the users every other table
cascades from).

Revision ID: 1402
Revises: 0001
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "1402"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mediavault_user", sa.Column("external_id", sa.String(length=255), nullable=True))
    op.create_index("ix_mediavault_user_external_id", "mediavault_user", ["external_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_mediavault_user_external_id", table_name="mediavault_user")
    op.drop_column("mediavault_user", "external_id")
