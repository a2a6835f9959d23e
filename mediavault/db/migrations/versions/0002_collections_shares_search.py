"""collections, share links and full-text search

Tables ``mediavault_collection``, ``mediavault_collection_media`` and ``mediavault_share``; the
``mediavault_media.search_text`` column (back-filled) and its full-text index, which depends on the engine:

* SQLite: FTS5 external-content table ``mediavault_media_fts`` over ``mediavault_media`` (by ``rowid``) and
  three triggers keeping it in sync on INSERT, UPDATE OF ``search_text`` and DELETE. A later migration that
  rebuilds ``mediavault_media`` in batch mode must recreate the triggers and rebuild the index.
* PostgreSQL: GIN index ``ix_mediavault_media_search`` on ``to_tsvector('simple', search_text)``.

The media sort indexes gain ``id`` (the tie-breaker of every sort) so a page's ids come from the index alone.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30
"""

from collections.abc import Sequence

import sqlalchemy as sa
from advanced_alchemy.types import GUID, DateTimeUTC
from alembic import op

from mediavault.db.search import search_document

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_SORT_COLUMNS = ("created", "created_at"), ("filename", "filename"), ("size", "size")

_SQLITE_FTS = (
    "CREATE VIRTUAL TABLE mediavault_media_fts USING fts5("
    "search_text, content='mediavault_media', content_rowid='rowid', tokenize='unicode61')",
    "CREATE TRIGGER mediavault_media_fts_ai AFTER INSERT ON mediavault_media BEGIN "
    "INSERT INTO mediavault_media_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "CREATE TRIGGER mediavault_media_fts_ad AFTER DELETE ON mediavault_media BEGIN "
    "INSERT INTO mediavault_media_fts(mediavault_media_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); END",
    "CREATE TRIGGER mediavault_media_fts_au AFTER UPDATE OF search_text ON mediavault_media BEGIN "
    "INSERT INTO mediavault_media_fts(mediavault_media_fts, rowid, search_text) "
    "VALUES ('delete', old.rowid, old.search_text); "
    "INSERT INTO mediavault_media_fts(rowid, search_text) VALUES (new.rowid, new.search_text); END",
    "INSERT INTO mediavault_media_fts(mediavault_media_fts) VALUES ('rebuild')",
)


def _backfill_search_text() -> None:
    bind = op.get_bind()
    media = sa.table(
        "mediavault_media",
        sa.column("id", GUID()),
        sa.column("filename", sa.String),
        sa.column("title", sa.Text),
        sa.column("description", sa.Text),
        sa.column("search_text", sa.Text),
    )
    tags = sa.table("mediavault_media_tag", sa.column("media_id", GUID()), sa.column("tag"), sa.column("position"))
    tags_of: dict[object, list[str]] = {}
    for media_id, tag in bind.execute(sa.select(tags.c.media_id, tags.c.tag).order_by(tags.c.position)):
        tags_of.setdefault(media_id, []).append(tag)
    rows = bind.execute(sa.select(media.c.id, media.c.filename, media.c.title, media.c.description)).all()
    for media_id, filename, title, description in rows:
        text = search_document(filename, title, description, tags_of.get(media_id, ()))
        bind.execute(sa.update(media).where(media.c.id == media_id).values(search_text=text))


def upgrade() -> None:
    dialect = op.get_bind().dialect.name
    op.add_column("mediavault_media", sa.Column("search_text", sa.Text(), server_default="", nullable=False))
    for name, column in _SORT_COLUMNS:
        op.drop_index(f"ix_mediavault_media_owner_{name}", table_name="mediavault_media")
        op.create_index(f"ix_mediavault_media_owner_{name}_id", "mediavault_media", ["owner_id", column, "id"])

    op.create_table(
        "mediavault_collection",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("description", sa.Text(), nullable=True),
        sa.Column("updated_at", DateTimeUTC(timezone=True), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_collection_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_collection")),
    )
    op.create_index(
        "ix_mediavault_collection_owner_created_id", "mediavault_collection", ["owner_id", "created_at", "id"]
    )

    op.create_table(
        "mediavault_collection_media",
        sa.Column("collection_id", GUID(length=16), nullable=False),
        sa.Column("media_id", GUID(length=16), nullable=False),
        sa.Column("added_at", DateTimeUTC(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["mediavault_collection.id"],
            name=op.f("fk_mediavault_collection_media_collection_id_mediavault_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["mediavault_media.id"],
            name=op.f("fk_mediavault_collection_media_media_id_mediavault_media"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("collection_id", "media_id", name=op.f("pk_mediavault_collection_media")),
    )
    op.create_index(
        op.f("ix_mediavault_collection_media_media_id"), "mediavault_collection_media", ["media_id"], unique=False
    )

    op.create_table(
        "mediavault_share",
        sa.Column("owner_id", GUID(length=16), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("media_id", GUID(length=16), nullable=True),
        sa.Column("collection_id", GUID(length=16), nullable=True),
        sa.Column("expires_at", DateTimeUTC(timezone=True), nullable=True),
        sa.Column("password_hash", sa.String(length=255), nullable=True),
        sa.Column("allow_download", sa.Boolean(), nullable=False),
        sa.Column("id", GUID(length=16), nullable=False),
        sa.Column("created_at", DateTimeUTC(timezone=True), nullable=False),
        sa.CheckConstraint(
            "(media_id IS NULL) <> (collection_id IS NULL)", name=op.f("ck_mediavault_share_one_target")
        ),
        sa.ForeignKeyConstraint(
            ["collection_id"],
            ["mediavault_collection.id"],
            name=op.f("fk_mediavault_share_collection_id_mediavault_collection"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["media_id"],
            ["mediavault_media.id"],
            name=op.f("fk_mediavault_share_media_id_mediavault_media"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["mediavault_user.id"],
            name=op.f("fk_mediavault_share_owner_id_mediavault_user"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_mediavault_share")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_mediavault_share_token_hash")),
    )
    op.create_index(op.f("ix_mediavault_share_collection_id"), "mediavault_share", ["collection_id"], unique=False)
    op.create_index(op.f("ix_mediavault_share_media_id"), "mediavault_share", ["media_id"], unique=False)
    op.create_index("ix_mediavault_share_owner_created_id", "mediavault_share", ["owner_id", "created_at", "id"])

    _backfill_search_text()
    if dialect == "sqlite":
        for statement in _SQLITE_FTS:
            op.execute(statement)
    elif dialect == "postgresql":
        op.create_index(
            "ix_mediavault_media_search",
            "mediavault_media",
            [sa.text("to_tsvector('simple', search_text)")],
            postgresql_using="gin",
        )


def downgrade() -> None:
    dialect = op.get_bind().dialect.name
    if dialect == "sqlite":
        for trigger in ("ai", "ad", "au"):
            op.execute(f"DROP TRIGGER IF EXISTS mediavault_media_fts_{trigger}")
        op.execute("DROP TABLE IF EXISTS mediavault_media_fts")
    elif dialect == "postgresql":
        op.drop_index("ix_mediavault_media_search", table_name="mediavault_media")

    op.drop_index("ix_mediavault_share_owner_created_id", table_name="mediavault_share")
    op.drop_index(op.f("ix_mediavault_share_media_id"), table_name="mediavault_share")
    op.drop_index(op.f("ix_mediavault_share_collection_id"), table_name="mediavault_share")
    op.drop_table("mediavault_share")
    op.drop_index(op.f("ix_mediavault_collection_media_media_id"), table_name="mediavault_collection_media")
    op.drop_table("mediavault_collection_media")
    op.drop_index("ix_mediavault_collection_owner_created_id", table_name="mediavault_collection")
    op.drop_table("mediavault_collection")

    for name, column in _SORT_COLUMNS:
        op.drop_index(f"ix_mediavault_media_owner_{name}_id", table_name="mediavault_media")
        op.create_index(f"ix_mediavault_media_owner_{name}", "mediavault_media", ["owner_id", column])
    with op.batch_alter_table("mediavault_media") as batch_op:
        batch_op.drop_column("search_text")
