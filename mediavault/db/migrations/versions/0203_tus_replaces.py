"""resumable uploads that replace a media item's bytes

``mediavault_upload`` gets ``replaces_id`` (``ADD COLUMN``, null for the uploads already there): the media item
whose bytes the finished upload replaces (``Upload-Metadata`` key ``media_id``), as ``PUT /media/{id}/content``
does. No foreign key: an item deleted meanwhile makes the completion fail (404), and the upload keeps its bytes
for the expiry sweep instead of losing its row with them.

Revision ID: 0203_tus_replaces
Revises: 0202_tus_completions
Create Date: 2026-12-07
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID
from alembic import op

revision: str = "0203_tus_replaces"
down_revision: str | None = "0202_tus_completions"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("mediavault_upload", sa.Column("replaces_id", GUID(length=16), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("mediavault_upload") as batch:
        batch.drop_column("replaces_id")
