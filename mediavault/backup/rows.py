"""The vault's tables as export and import see them: generic over :data:`mediavault.db.models.metadata`.

Nothing here names a table: every table of the vault's ``MetaData`` is exported and imported, in foreign-key order,
so a table added by a later migration is included without a change here. The objects at the keys its storage-key
columns hold (:func:`mediavault.db.models.storage_key_columns`) are the export's bytes.
"""

from __future__ import annotations

import datetime as dt
import decimal
import uuid
from collections.abc import Callable, Mapping
from typing import Any

import msgspec
from sqlalchemy import Column, Table, column, inspect, select, table
from sqlalchemy.ext.asyncio import AsyncConnection

from mediavault.db.engine import VERSION_TABLE
from mediavault.db.models import Upload, metadata, storage_key_columns

__all__ = ("RowCodec", "schema_revision", "select_rows", "storage_key_columns_of", "vault_tables")

_CONVERTED = (uuid.UUID, dt.datetime, dt.date, dt.time, dt.timedelta, decimal.Decimal, bytes)
"""Python types that JSON has no value for: written by msgspec as strings, read back with ``msgspec.convert``."""


_LEFT_OUT: dict[str, Any] = {Upload.__tablename__: Upload.media_id.is_(None)}
"""Rows not exported, by table: unfinished resumable uploads. Their pieces belong to the storage they were written
to (S3 keeps them as the parts of a multipart upload, which no other bucket can take over); their clients start
again when the new vault answers 404 (tus)."""


def vault_tables() -> list[Table]:
    """Every table of the vault, parents before the tables whose foreign keys point at them."""
    return list(metadata.sorted_tables)


def storage_key_columns_of(table: Table) -> list[Column[Any]]:
    """The columns of ``table`` that hold storage keys (:func:`mediavault.db.models.storage_key_columns`)."""
    return [c for c in storage_key_columns() if c.table is table]


async def schema_revision(conn: AsyncConnection) -> list[str]:
    """The database's Alembic revisions of the vault (one per branch head), sorted; empty when never migrated."""
    if not await conn.run_sync(lambda sync: inspect(sync).has_table(VERSION_TABLE)):
        return []
    version = table(VERSION_TABLE, column("version_num"))
    return sorted(str(r) for r in await conn.scalars(select(version.c.version_num)))


class RowCodec:
    """One table's rows as JSON objects and back.

    Args:
        table: the table.
    """

    def __init__(self, table: Table) -> None:
        self.table = table
        self._encoder = msgspec.json.Encoder()
        self._decoders: dict[str, Callable[[Any], Any] | None] = {str(c.name): _decoder(c) for c in table.columns}

    def encode(self, row: Mapping[Any, Any]) -> bytes:
        """One JSON Lines line (with its ``\\n``) for ``row`` (column name -> value, as SQLAlchemy returns it)."""
        return self._encoder.encode({name: row[name] for name in self._decoders}) + b"\n"

    def decode(self, line: bytes) -> dict[str, Any]:
        """The values to insert for a line :meth:`encode` wrote, keyed by column name.

        Raises:
            ValueError: not a JSON object, a column the table does not have, or a value its column cannot take.
        """
        try:
            values = msgspec.json.decode(line)
        except msgspec.DecodeError as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(values, dict):
            raise ValueError("not a JSON object")
        unknown = values.keys() - self._decoders.keys()
        if unknown:
            raise ValueError(f"no column {sorted(unknown)[0]!r} in {self.table.name}")
        row = {}
        for name, value in values.items():
            decoder = self._decoders[name]
            try:
                row[name] = value if decoder is None or value is None else decoder(value)
            except msgspec.ValidationError as exc:
                raise ValueError(f"column {name}: {exc}") from None
        return row


def _decoder(column: Column[Any]) -> Callable[[Any], Any] | None:
    try:
        python_type = column.type.python_type
    except NotImplementedError:  # e.g. JSON columns: their values are already what JSON holds
        return None
    if python_type not in _CONVERTED:
        return None
    return lambda value: msgspec.convert(value, python_type, strict=False)


def select_rows(table: Table) -> Any:
    """``SELECT`` of the rows of ``table`` to export, in primary-key order (so two exports of the same rows are
    identical): all of them but those :data:`_LEFT_OUT` names."""
    statement = select(table).order_by(*table.primary_key.columns)
    left_out = _LEFT_OUT.get(table.name)
    return statement if left_out is None else statement.where(~left_out)
