"""The SQLite bind shortcuts of :mod:`mediavault.db.statements` store exactly what SQLAlchemy's processors store."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pytest
from advanced_alchemy.types import GUID, DateTimeUTC, JsonB
from sqlalchemy.dialects import sqlite

from mediavault.db.statements import _sqlite_bind

DIALECT = sqlite.dialect()
UTC = dt.UTC
VALUES: list[tuple[Any, list[Any]]] = [
    (GUID(), [uuid.uuid4(), uuid.UUID(int=0), str(uuid.uuid4()), uuid.uuid4().hex, None]),
    (
        DateTimeUTC(),
        [
            dt.datetime.now(UTC),
            dt.datetime(2026, 1, 2, 3, 4, 5, tzinfo=UTC),  # no microseconds: still six digits
            dt.datetime(5, 6, 7, 8, 9, 10, 11, tzinfo=UTC),  # a year under 1000: still four digits
            dt.datetime(2026, 1, 2, 3, 4, 5, 6, tzinfo=dt.timezone(dt.timedelta(hours=2))),  # turned into UTC
            None,
        ],
    ),
    (JsonB, [{}, [], {"a": [1, "b"]}, ["x"], None]),
]


@pytest.mark.parametrize(("type_", "values"), VALUES, ids=["guid", "datetime", "json"])
def test_the_shortcut_gives_what_sqlalchemy_gives(type_: Any, values: list[Any]) -> None:
    processor = type_.dialect_impl(DIALECT).bind_processor(DIALECT)
    fast = _sqlite_bind(type_, processor)
    assert fast is not processor  # a shortcut exists for this type
    for value in values:
        assert fast(value) == processor(value), value


def test_a_naive_datetime_is_refused_as_before() -> None:
    type_ = DateTimeUTC()
    fast = _sqlite_bind(type_, type_.dialect_impl(DIALECT).bind_processor(DIALECT))
    with pytest.raises(TypeError):
        fast(dt.datetime(2026, 1, 2))
