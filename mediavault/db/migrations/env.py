"""Alembic environment for the vault's own tables (run through :func:`mediavault.db.engine.migrate`)."""

from alembic import context

from mediavault.db.engine import VERSION_TABLE
from mediavault.db.models import metadata

connection = context.config.attributes.get("connection")
if connection is None:  # pragma: no cover - only reachable when run by the alembic CLI directly
    raise RuntimeError("run migrations with `mediavault migrate` or `litestar mediavault migrate`")

context.configure(
    connection=connection,
    target_metadata=metadata,
    version_table=VERSION_TABLE,
    render_as_batch=connection.dialect.name == "sqlite",
    compare_type=True,
)
with context.begin_transaction():
    context.run_migrations()
