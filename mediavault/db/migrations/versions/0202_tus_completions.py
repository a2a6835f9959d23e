"""resumable uploads: count the attempts to write the finished object

``mediavault_upload`` gets ``completions`` (``ADD COLUMN``, 0 for the uploads already there): each attempt to write
an upload's finished object is counted before its bytes are written, so the expiry sweep knows every key one may
have left (a crash between the finished object and the media's commit).

Revision ID: 0202_tus_completions
Revises: 0201_tus
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0202_tus_completions"
down_revision: str | None = "0201_tus"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mediavault_upload", sa.Column("completions", sa.Integer(), nullable=False, server_default="0"))


def downgrade() -> None:
    with op.batch_alter_table("mediavault_upload") as batch:
        batch.drop_column("completions")
