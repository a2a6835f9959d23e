"""Full-text search over media: the indexed document and the per-engine match clause.

What is indexed is one column, ``mediavault_media.search_text``: the words of the filename, title,
description and tags, lower-cased and separated by single spaces (:func:`search_document`). The media
service writes it on upload and update; the database indexes it:

* **SQLite**: an FTS5 external-content table ``mediavault_media_fts(search_text)`` over
  ``mediavault_media`` (``content_rowid = rowid``), kept in sync by ``AFTER INSERT/UPDATE/DELETE``
  triggers (migration ``0002``). A batch rebuild of ``mediavault_media`` must recreate the triggers and
  run ``INSERT INTO mediavault_media_fts(mediavault_media_fts) VALUES ('rebuild')``.
* **PostgreSQL**: a GIN index on ``to_tsvector('simple', search_text)``; queries use the same expression.
* **anything else**: ``LIKE`` on ``search_text`` (no index).

Query text is data: it is cut into the same words as the document (:func:`words`), each word becomes a
quoted prefix term (``"holi"*`` in FTS5, ``'holi':*`` in a ``tsquery``), and the whole expression is sent
as a bound parameter. Words only hold letters and digits, so no user input can reach the FTS5 or
``tsquery`` syntax, let alone SQL. All words must match (AND); each matches any word starting with it, so
``holi pho`` finds "Holiday photos.jpg". Matching is case-insensitive on every engine.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import Any

from advanced_alchemy.types import GUID
from sqlalchemy import ColumnElement, Select, String, and_, bindparam, func, literal_column, select, table, type_coerce

from mediavault.db.models import Media

__all__ = (
    "FTS_TABLE",
    "MAX_TERMS",
    "match_clause",
    "match_parameters",
    "owner_clause",
    "search_document",
    "words",
)

FTS_TABLE = "mediavault_media_fts"
"""The SQLite FTS5 table indexing ``mediavault_media.search_text``."""
MAX_TERMS = 16
"""Words of a query beyond this many are ignored (bounds the work of one search)."""

_WORD = re.compile(r"[^\W_]+")


def words(text: str | None) -> list[str]:
    """The lower-cased words (runs of Unicode letters and digits) of ``text``; punctuation and ``_`` separate."""
    return _WORD.findall(text.lower()) if text else []


def search_document(filename: str, title: str | None, description: str | None, tags: Iterable[str]) -> str:
    """The ``search_text`` of a media item: the words of its filename, title, description and tags.

    Example: ``search_document("Holiday_2024.JPG", "Beach", None, ["sea-side"])`` is
    ``"holiday 2024 jpg beach sea side"``.
    """
    parts = [filename, title, description, *tags]
    return " ".join(w for part in parts for w in words(part))


def match_parameters(dialect: str, q: str) -> dict[str, str] | None:
    """The bound parameters of :func:`match_clause` for the user's query text ``q`` (any characters).

    Returns:
        ``{"search": <FTS5 / tsquery expression>}`` (SQLite, PostgreSQL) or one ``search_<i>`` per word (others),
        or ``None`` when ``q`` holds no word at all (e.g. only punctuation); the caller then falls back to a plain
        substring filter.
    """
    terms = words(q)[:MAX_TERMS]
    if not terms:
        return None
    if dialect == "sqlite":
        return {"search": " ".join(f'"{t}"*' for t in terms)}  # terms are [^\W_]+: no quote can occur in them
    if dialect == "postgresql":
        return {"search": " & ".join(f"'{t}':*" for t in terms)}
    return {f"search_{i}": t for i, t in enumerate(terms)}


def match_clause(dialect: str, parameters: Iterable[str]) -> ColumnElement[bool]:
    """A WHERE clause on :class:`~mediavault.db.models.Media` matching every word of a query (as a word prefix),
    written with the bound parameters named ``parameters`` (the keys :func:`match_parameters` answered), so one
    statement serves every query text.

    Args:
        dialect: the engine's dialect name (``"sqlite"``, ``"postgresql"``, ...).
    """
    if dialect == "sqlite":
        fts = table(FTS_TABLE, literal_column("rowid"))
        matching: Select[Any] = (
            select(literal_column("rowid"))
            .select_from(fts)
            .where(literal_column(FTS_TABLE).op("MATCH")(bindparam("search", type_=String())))
        )
        return literal_column("mediavault_media.rowid").in_(matching)
    if dialect == "postgresql":
        simple: ColumnElement[Any] = literal_column("'simple'")
        query = func.to_tsquery(simple, bindparam("search", type_=String()))
        return func.to_tsvector(simple, Media.search_text).op("@@")(query)
    return and_(*(Media.search_text.contains(bindparam(name, type_=String()), autoescape=True) for name in parameters))


def owner_clause(dialect: str, owner: Any, *, searching: bool) -> ColumnElement[bool]:
    """``mediavault_media.owner_id = owner`` (a UUID or a bound parameter), written so the query is driven by the
    full-text hits.

    On SQLite with a full-text match the column is written ``+owner_id`` (SQLite's documented way to keep
    the planner from using an index): without table statistics the planner otherwise walks all of the
    owner's index entries and probes each against the hits (about 40 ms for 100,000 media), where looking
    up the few hundred hits by rowid takes a few milliseconds. Elsewhere: the plain comparison.
    """
    if searching and dialect == "sqlite":
        return type_coerce(literal_column("+mediavault_media.owner_id"), GUID()) == owner
    return Media.owner_id == owner
