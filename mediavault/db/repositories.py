"""Repositories: the only place that builds SQL for the vault's tables (advanced-alchemy based)."""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, TypeVar, cast

import msgspec
from advanced_alchemy.repository import SQLAlchemyAsyncRepository
from advanced_alchemy.types import GUID
from sqlalchemy import ColumnElement, Select, String, Table, bindparam, delete, func, insert, or_, select, update
from sqlalchemy.dialects.postgresql import insert as pg_insert
from sqlalchemy.dialects.sqlite import insert as sqlite_insert
from sqlalchemy.sql import operators
from sqlalchemy.sql.elements import UnaryExpression

from mediavault.db.custom_metadata import entry_digest, filter_clause
from mediavault.db.engine import UNICODE_LOWER
from mediavault.db.models import (
    ApiKey,
    Blob,
    Collection,
    Media,
    MediaProcessing,
    MediaTag,
    RefreshToken,
    Share,
    TokenFamily,
    User,
    collection_media,
    media_blob,
    media_trash,
    utcnow,
)
from mediavault.db.search import match_clause, match_parameters, owner_clause
from mediavault.db.statements import (
    ReadStatement,
    Writes,
    WriteStatement,
    decode_json,
    decode_json_list,
    decode_timestamp,
    decode_uuid_text,
    execute_writes,
    json_array,
    uuid_text,
)
from mediavault.db.trash import not_trashed
from mediavault.storage.base import StoredFile

if TYPE_CHECKING:
    from mediavault.db.query import MediaQuery

__all__ = (
    "MEDIA_SORTS",
    "ApiKeyRepository",
    "CollectionRepository",
    "MediaRepository",
    "MediaRow",
    "RefreshTokenRepository",
    "ShareRepository",
    "TokenFamilyRepository",
    "UserProfile",
    "UserRepository",
)

R = TypeVar("R")


class UserProfile(msgspec.Struct):
    """A user as the API reads it (never the password hash): ids as text, aware UTC times."""

    id: str
    email: str
    display_name: str | None
    role: str
    created_at: dt.datetime
    updated_at: dt.datetime


_TIMES = {"created_at": decode_timestamp, "updated_at": decode_timestamp}
_PROFILE = ReadStatement(
    select(uuid_text(User.id), User.email, User.display_name, User.role, User.created_at, User.updated_at).where(
        User.id == bindparam("id")
    ),
    UserProfile,
    {"id": decode_uuid_text, **_TIMES},
)


class UserRepository(SQLAlchemyAsyncRepository[User]):
    """Users."""

    model_type = User

    async def profile(self, user_id: uuid.UUID) -> UserProfile | None:
        """The user ``user_id`` as the API shows it, ``None`` when there is none (one statement, no ORM)."""
        return await _PROFILE.first(self.session, id=user_id)


class TokenFamilyRepository(SQLAlchemyAsyncRepository[TokenFamily]):
    """Token families (logins)."""

    model_type = TokenFamily

    async def revoke(self, family_ids: Sequence[uuid.UUID]) -> None:
        """Mark families revoked now (idempotent)."""
        if family_ids:
            await self.session.execute(
                update(TokenFamily)
                .where(TokenFamily.id.in_(family_ids), TokenFamily.revoked_at.is_(None))
                .values(revoked_at=utcnow())
            )

    async def revoke_all_for_user(self, user_id: uuid.UUID, *, keep: uuid.UUID | None = None) -> None:
        """Revoke every live family of ``user_id`` except ``keep``."""
        stmt = update(TokenFamily).where(TokenFamily.user_id == user_id, TokenFamily.revoked_at.is_(None))
        if keep is not None:
            stmt = stmt.where(TokenFamily.id != keep)
        await self.session.execute(stmt.values(revoked_at=utcnow()))


class RefreshTokenRepository(SQLAlchemyAsyncRepository[RefreshToken]):
    """Refresh tokens of families."""

    model_type = RefreshToken

    async def spend(self, token_id: uuid.UUID) -> bool:
        """Mark an unused token used; ``False`` if it was already used (a replay). Race-safe."""
        result = await self.session.execute(
            update(RefreshToken)
            .where(RefreshToken.id == token_id, RefreshToken.used_at.is_(None))
            .values(used_at=utcnow())
        )
        return result.rowcount == 1  # type: ignore[attr-defined]


MEDIA_SORTS: dict[str, tuple[ColumnElement[Any], ...]] = {
    "created_at": (Media.created_at.asc(), Media.id.asc()),
    "-created_at": (Media.created_at.desc(), Media.id.desc()),
    "filename": (Media.filename.asc(), Media.id.asc()),
    "-filename": (Media.filename.desc(), Media.id.desc()),
    "size": (Media.size.asc(), Media.id.asc()),
    "-size": (Media.size.desc(), Media.id.desc()),
}
"""``sort`` values of ``GET /media`` and their ORDER BY (id breaks ties so pages are stable)."""


def _reversed(order: tuple[ColumnElement[Any], ...]) -> tuple[ColumnElement[Any], ...]:
    """``order`` with every ``ASC`` turned ``DESC`` and back."""
    flipped = []
    for item in order:
        element = item.element if isinstance(item, UnaryExpression) else item  # type: ignore[attr-defined]
        descending = isinstance(item, UnaryExpression) and item.modifier is operators.desc_op
        flipped.append(element.asc() if descending else element.desc())  # type: ignore[union-attr]
    return tuple(flipped)


async def _page(
    session: Any, stmt: Select[tuple[R]], key: Any, order: tuple[ColumnElement[Any], ...], offset: int, limit: int
) -> tuple[list[R], int]:
    """One page of ``stmt`` in ``order`` and the total, by a deferred join.

    The page's keys are picked first with ``SELECT key ... ORDER BY ... LIMIT/OFFSET``, which an index on
    ``(owner_id, <sort column>, id)`` answers without touching the table; only those rows are then loaded.
    A page in the second half is picked walking from the other end (reversed order, offset counted from the
    end, which the total tells exactly), so the last page costs what the first does and no page walks more
    than half the index. ``key`` is the primary-key column.
    """
    counted = stmt.with_only_columns(func.count(), maintain_column_froms=True).order_by(None)
    total = int(await session.scalar(counted) or 0)
    if offset >= total:  # past the end: no query (a huge page number would overflow the database's integer)
        return [], total
    keys = stmt.with_only_columns(key).order_by(None)
    if offset > total // 2:
        size = min(limit, total - offset)
        page_keys = keys.order_by(*_reversed(order)).offset(total - offset - size).limit(size)
    else:
        page_keys = keys.order_by(*order).offset(offset).limit(limit)
    entity = stmt.column_descriptions[0]["entity"]
    rows = await session.scalars(select(entity).where(key.in_(page_keys)).order_by(*order))
    return list(rows), total


class MediaRow(msgspec.Struct):
    """A media item as the API reads it, with its tags (in their order) and custom metadata: ids as text, aware UTC
    times."""

    id: str
    filename: str
    content_type: str
    kind: str
    size: int
    checksum_sha256: str
    width: int | None
    height: int | None
    title: str | None
    description: str | None
    tags: list[str]
    owner_id: str
    created_at: dt.datetime
    updated_at: dt.datetime
    version: int
    custom_metadata: dict[str, Any]


_MEDIA_ROW = (
    uuid_text(Media.id),
    Media.filename,
    Media.content_type,
    Media.kind,
    Media.size,
    Media.checksum_sha256,
    Media.width,
    Media.height,
    Media.title,
    Media.description,
    json_array(
        MediaTag.__table__.c.tag, MediaTag.__table__.c.media_id, Media.__table__.c.id, MediaTag.__table__.c.position
    ),
    bindparam("owner_text", type_=String()),  # the owner asked for, as text: not read and formatted once per row
    Media.created_at,
    Media.updated_at,
    Media.version,
    Media.custom_metadata,
)
"""The columns of a :class:`MediaRow`: the item and its tags in one row. Every statement selecting them is scoped to
one owner, whose id (parameter ``owner_text``, canonical text) is given back as ``owner_id``."""
_ROW_DECODE = {
    "id": decode_uuid_text,
    "tags": decode_json_list,
    "custom_metadata": decode_json,
    **_TIMES,
}
_OWNED = (
    Media.id == bindparam("id"),
    Media.owner_id == bindparam("owner"),
    not_trashed(bindparam("owner", type_=GUID())),
)
_MEDIA_BY_ID = ReadStatement(select(*_MEDIA_ROW).where(*_OWNED), MediaRow, _ROW_DECODE)
_MEDIA_CONTENT = ReadStatement(
    select(
        func.coalesce(Blob.storage_key, Media.storage_key),
        Media.size,
        Media.checksum_sha256,
        Media.content_type,
        Media.filename,
        func.coalesce(Media.replaced_at, Media.created_at),
    )
    .outerjoin(media_blob, media_blob.c.media_id == Media.id)
    .outerjoin(Blob, Blob.id == media_blob.c.blob_id)
    .where(*_OWNED),
    StoredFile,
    {"last_modified": decode_timestamp},
)
"""What a download of an item serves: its blob's key when it was deduplicated, else its own."""


_INSERT_MEDIA = WriteStatement(insert(cast("Table", Media.__table__)))
_INSERT_TAGS = WriteStatement(insert(cast("Table", MediaTag.__table__)))
_INSERT_PROCESSING = WriteStatement(insert(cast("Table", MediaProcessing.__table__)))
_MEDIA_COLUMNS = tuple(column.key for column in Media.__table__.columns)
_MEDIA_DEFAULTS = {
    column.key: column.default.arg if column.default.is_scalar else column.default.arg(None)
    for column in Media.__table__.columns
    if column.default is not None and column.key not in ("id", "created_at", "updated_at")
}
"""The Python-side defaults of the columns a new item may leave unset (``version`` 1, ``custom_metadata`` ``{}`` ...):
a Core insert does not apply them."""


_SELECT_MEDIA = select(Media)


class MediaRepository(SQLAlchemyAsyncRepository[Media]):
    """Media rows, always scoped to an owner."""

    model_type = Media

    def __init__(self, **kwargs: Any) -> None:
        # Made for every media request: the base's own ``select(Media)`` is ~40 % of constructing one (Selects are
        # immutable, so one built once is shared).
        kwargs.setdefault("statement", _SELECT_MEDIA)
        super().__init__(**kwargs)

    async def insert_new(self, media: Media, *, processed_at: dt.datetime | None, also: Writes = ()) -> None:
        """Insert a new item as built in memory (not added to the session), its tags and its processing row
        (``pending``; ``done`` at ``processed_at`` when given), then ``also`` (e.g. its event's outbox row): Core
        statements on the session's transaction, on SQLite in one call to the driver, no ORM flush
        (:func:`~mediavault.db.statements.execute_writes`). Every column of ``media`` without a Python-side default
        must be set (``id``, ``created_at`` and ``updated_at`` included); the others get their defaults, on ``media``
        too. The caller commits.
        """
        values = media.__dict__  # the attributes set on the instance (never loaded: it is not in a session)
        for name, default in _MEDIA_DEFAULTS.items():
            if name not in values:
                setattr(media, name, copy.copy(default))  # the instance shows what is stored
        row = {name: values.get(name) for name in _MEDIA_COLUMNS}
        created = media.created_at
        tags = [
            {"id": uuid.uuid4(), "created_at": created, "media_id": media.id, "tag": tag.tag, "position": tag.position}
            for tag in media.tag_rows
        ]
        processing = {
            "id": uuid.uuid4(),
            "created_at": created,
            "media_id": media.id,
            "status": "pending" if processed_at is None else "done",
            "attempts": 0,
            "claim_token": None,
            "claimed_until": None,
            "processed_at": processed_at,
            "info": {},
            "private": {},
            "errors": {},
        }
        await execute_writes(
            self.session, [(_INSERT_MEDIA, [row]), (_INSERT_TAGS, tags), (_INSERT_PROCESSING, [processing]), *also]
        )

    async def row(self, owner_id: uuid.UUID, media_id: uuid.UUID) -> MediaRow | None:
        """``owner_id``'s media ``media_id`` with its tags (one statement, no ORM), ``None`` when not theirs."""
        return await _MEDIA_BY_ID.first(self.session, id=media_id, owner=owner_id, owner_text=str(owner_id))

    async def stored_file(self, owner_id: uuid.UUID, media_id: uuid.UUID) -> StoredFile | None:
        """What downloading ``owner_id``'s media ``media_id`` serves (one statement), ``None`` when not theirs."""
        return await _MEDIA_CONTENT.first(self.session, id=media_id, owner=owner_id)

    async def page_for(
        self, owner_id: uuid.UUID, query: MediaQuery, *, collection_id: uuid.UUID | None = None
    ) -> tuple[list[Media], int]:
        """One page of ``owner_id``'s media (in ``collection_id`` if given) matching ``query`` as ORM rows, and the
        total (for callers that go on with the items, e.g. a share link's view)."""
        listing, params = _listing(self.session.bind.dialect.name, owner_id, query, collection_id)
        stmt = select(Media).where(*listing.where).params(params)
        return await _page(self.session, stmt, Media.id, MEDIA_SORTS[query.sort], query.offset, query.per_page)

    async def rows_page(
        self, owner_id: uuid.UUID, query: MediaQuery, *, collection_id: uuid.UUID | None = None
    ) -> tuple[list[MediaRow], int]:
        """One page of ``owner_id``'s media (in ``collection_id`` if given) matching ``query`` as the API shows
        them (tags included), and the total: two statements, each compiled once per kind of query.

        The page is picked like :func:`_page` picks one (a deferred join over the sort's covering index; a page in
        the second half walked from the other end); the first page of an unfiltered listing walks the owner's sort
        index and reads the rows in the same statement.
        """
        listing, params = _listing(self.session.bind.dialect.name, owner_id, query, collection_id)
        offset, limit = query.offset, query.per_page
        owner_text = str(owner_id)
        if offset == 0:  # the first page carries the total in its rows: one statement (none found: the total is 0)
            first: list[Any] = await listing.first.all(
                self.session, **params, owner_text=owner_text, offset=0, limit=limit
            )
            return first, first[0].total if first else 0
        total = (await listing.count.all(self.session, **params))[0].n
        if offset >= total:  # past the end: no query (a huge page number would overflow the database's integer)
            return [], total
        if offset > total // 2:
            size = min(limit, total - offset)
            rows = await listing.backward.all(
                self.session, **params, owner_text=owner_text, offset=total - offset - size, limit=size
            )
        else:
            rows = await listing.forward.all(self.session, **params, owner_text=owner_text, offset=offset, limit=limit)
        return rows, total


class _Count(msgspec.Struct):
    n: int


class _CountedRow(MediaRow):
    """A :class:`MediaRow` of a first page, which also carries the total matching."""

    total: int


@dataclass(frozen=True)
class _Listing:
    """The statements of one kind of media listing (dialect, sort and which filters), with named parameters."""

    where: tuple[ColumnElement[bool], ...]
    count: ReadStatement[_Count]
    first: ReadStatement[_CountedRow]
    forward: ReadStatement[MediaRow]
    backward: ReadStatement[MediaRow]


_LISTINGS: dict[tuple[Any, ...], _Listing] = {}


def _like(needle: str) -> str:
    """A ``LIKE`` pattern (escape character ``/``) matching ``needle`` anywhere, its wildcards taken literally."""
    return "%" + needle.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def _listing(
    dialect: str, owner_id: uuid.UUID, query: MediaQuery, collection_id: uuid.UUID | None
) -> tuple[_Listing, dict[str, Any]]:
    """The statements listing ``owner_id``'s media (in ``collection_id`` if given) as ``query`` asks, and their
    parameters.

    Filters: ``kind`` exact ``type``; ``tag`` exact tag, case-insensitive; ``q`` case-insensitive substring of
    filename, title or description (``LIKE``, wildcards escaped); ``search`` full-text over filename, title,
    description and tags (:mod:`mediavault.db.search`; text without any word falls back to the ``q`` substring
    filter); ``collection_id`` members only; ``checksum_sha256`` exact SHA-256 (lower-case hex); ``metadata``
    entries of the custom metadata, all of them (:mod:`mediavault.db.custom_metadata`). Trashed media never match.
    """
    params: dict[str, Any] = {"owner": owner_id}
    if collection_id is not None:
        params["collection"] = collection_id
    if query.checksum_sha256:
        params["checksum"] = query.checksum_sha256
    if query.kind:
        params["kind"] = query.kind
    if query.tag:
        params["tag"] = query.tag.strip().lower()
    if query.search:
        matching = match_parameters(dialect, query.search)
        params.update(matching if matching is not None else {"search_like": _like(query.search.lower())})
    if query.q:
        params["q_like"] = _like(query.q.lower())
    for i, (key, value) in enumerate(query.metadata):
        params[f"meta_{i}"] = entry_digest(key, value)
    shape = (
        dialect,
        query.sort,
        *sorted(params),
        *(name for name in ("q_like", "search_like") if _unicode(params, name)),
    )
    listing = _LISTINGS.get(shape)
    if listing is None:
        listing = _LISTINGS[shape] = _build_listing(dialect, query.sort, params)
    return listing, params


def _unicode(params: dict[str, Any], name: str) -> bool:
    return name in params and not params[name].isascii()


def _build_listing(dialect: str, sort: str, params: dict[str, Any]) -> _Listing:
    searching = any(name.startswith("search") and name != "search_like" for name in params)
    owner = bindparam("owner", type_=GUID())
    where = [owner_clause(dialect, owner, searching=searching), not_trashed(owner)]
    if "collection" in params:
        members = select(collection_media.c.media_id).where(collection_media.c.collection_id == bindparam("collection"))
        where.append(Media.id.in_(members))
    if "checksum" in params:
        where.append(Media.checksum_sha256 == bindparam("checksum"))
    if "kind" in params:
        where.append(Media.kind == bindparam("kind"))
    if "tag" in params:
        where.append(Media.id.in_(select(MediaTag.media_id).where(MediaTag.tag == bindparam("tag"))))
    where.extend(filter_clause(name) for name in params if name.startswith("meta_"))
    if searching:
        where.append(match_clause(dialect, [name for name in params if name.startswith("search")]))
    for name in ("search_like", "q_like"):
        if name in params:
            # SQLite's lower() folds ASCII only: a needle with other letters needs the Unicode one (a Python call per
            # value, ~3x slower scans); an ASCII needle is matched by ASCII letters, which lower() folds (only a few
            # exotic letters such as the Kelvin sign fold to ASCII).
            unicode = dialect == "sqlite" and _unicode(params, name)
            lower = getattr(func, UNICODE_LOWER) if unicode else func.lower
            pattern = bindparam(name, type_=String())
            columns = (Media.filename, Media.title, Media.description)
            where.append(or_(*(lower(column).like(pattern, escape="/") for column in columns)))
    order = MEDIA_SORTS[sort]
    keys = select(Media.id).where(*where).offset(bindparam("offset")).limit(bindparam("limit"))

    def page(order_keys: tuple[ColumnElement[Any], ...]) -> Select[Any]:
        return select(*_MEDIA_ROW).where(Media.id.in_(keys.order_by(*order_keys))).order_by(*order)

    counted = select(func.count()).select_from(Media).where(*where)
    if len(params) == 1:  # only the owner (and the trash): the owner's sort index walked in order, no sort, no join
        first = select(*_MEDIA_ROW).where(*where).order_by(*order).offset(bindparam("offset")).limit(bindparam("limit"))
    else:  # filters may make the database sort what matches, each row with its tags: pick the page's ids first
        first = page(order)
    return _Listing(
        where=tuple(where),
        count=ReadStatement(counted, _Count),
        first=ReadStatement(first.add_columns(counted.scalar_subquery()), _CountedRow, _ROW_DECODE),
        forward=ReadStatement(page(order), MediaRow, _ROW_DECODE),
        backward=ReadStatement(page(_reversed(order)), MediaRow, _ROW_DECODE),
    )


_NEWEST_COLLECTIONS = (Collection.created_at.desc(), Collection.id.desc())
_NEWEST_SHARES = (Share.created_at.desc(), Share.id.desc())


class CollectionRepository(SQLAlchemyAsyncRepository[Collection]):
    """Collections and their memberships."""

    model_type = Collection

    async def page_for(self, owner_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[Collection], int]:
        """One page of ``owner_id``'s collections, newest first, and the total."""
        stmt = select(Collection).where(Collection.owner_id == owner_id)
        return await _page(self.session, stmt, Collection.id, _NEWEST_COLLECTIONS, offset, limit)

    async def media_counts(self, collection_ids: Sequence[uuid.UUID]) -> dict[uuid.UUID, int]:
        """``{collection id: number of member media}`` for ``collection_ids`` (0 for empty ones; trashed media do
        not count)."""
        counts = dict.fromkeys(collection_ids, 0)
        if collection_ids:
            rows = await self.session.execute(
                select(collection_media.c.collection_id, func.count())
                .where(
                    collection_media.c.collection_id.in_(collection_ids),
                    collection_media.c.media_id.not_in(select(media_trash.c.media_id)),
                )
                .group_by(collection_media.c.collection_id)
            )
            counts.update({cid: int(n) for cid, n in rows.tuples()})
        return counts

    async def add_media(self, collection_id: uuid.UUID, media_ids: Sequence[uuid.UUID]) -> None:
        """Make ``media_ids`` members (those already in are left as they are; race-safe on the primary key)."""
        if not media_ids:
            return
        dialect = self.session.bind.dialect.name
        now = utcnow()
        values = [{"collection_id": collection_id, "media_id": m, "added_at": now} for m in media_ids]
        if dialect in ("sqlite", "postgresql"):
            upsert = (sqlite_insert if dialect == "sqlite" else pg_insert)(collection_media)
            await self.session.execute(upsert.on_conflict_do_nothing(), values)
            return
        present = set(
            await self.session.scalars(
                select(collection_media.c.media_id).where(
                    collection_media.c.collection_id == collection_id, collection_media.c.media_id.in_(media_ids)
                )
            )
        )
        missing = [v for v in values if v["media_id"] not in present]
        if missing:
            await self.session.execute(insert(collection_media), missing)

    async def remove_media(self, collection_id: uuid.UUID, media_id: uuid.UUID) -> bool:
        """Remove one membership; ``False`` if the media was not a member."""
        result = await self.session.execute(
            delete(collection_media).where(
                collection_media.c.collection_id == collection_id, collection_media.c.media_id == media_id
            )
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def touch(self, collection_id: uuid.UUID) -> bool:
        """Set ``updated_at`` to now; ``False`` when the collection is gone. Its row stays locked against deletion
        until the transaction ends (PostgreSQL's row lock; on SQLite the transaction is the one writer)."""
        result = await self.session.execute(
            update(Collection)
            .where(Collection.id == collection_id)
            .values(updated_at=utcnow())
            .execution_options(synchronize_session=False)
        )
        return bool(result.rowcount)  # type: ignore[attr-defined]

    async def has_media(self, collection_id: uuid.UUID, media_id: uuid.UUID) -> bool:
        """Whether ``media_id`` is a member of ``collection_id``."""
        found = await self.session.scalar(
            select(collection_media.c.media_id).where(
                collection_media.c.collection_id == collection_id, collection_media.c.media_id == media_id
            )
        )
        return found is not None


class ShareRepository(SQLAlchemyAsyncRepository[Share]):
    """Share links."""

    model_type = Share

    async def page_for(self, owner_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[Share], int]:
        """One page of ``owner_id``'s shares, newest first, and the total (links to trashed media are left out)."""
        trashed = select(media_trash.c.media_id).where(media_trash.c.owner_id == owner_id)
        stmt = select(Share).where(
            Share.owner_id == owner_id, or_(Share.media_id.is_(None), Share.media_id.not_in(trashed))
        )
        return await _page(self.session, stmt, Share.id, _NEWEST_SHARES, offset, limit)

    async def by_token_hash(self, token_hash: str) -> Share | None:
        """The share whose token hashes to ``token_hash`` (hex SHA-256), if any and its owner is not disabled (an
        admin's disabling closes the account's links too, until it is enabled again)."""
        return await self.session.scalar(
            select(Share)
            .join(User, User.id == Share.owner_id)
            .where(Share.token_hash == token_hash, User.disabled_at.is_(None))
        )

    async def hold(self, share_id: uuid.UUID) -> bool:
        """Whether the share still exists, kept from deletion until the transaction ends (PostgreSQL
        ``FOR KEY SHARE``; on SQLite a transaction that already wrote is the one writer)."""
        stmt = select(Share.id).where(Share.id == share_id).with_for_update(read=True, key_share=True)
        return await self.session.scalar(stmt) is not None


class ApiKeyRepository(SQLAlchemyAsyncRepository[ApiKey]):
    """API keys, always scoped to an owner (lookups by hash excepted: that is how a key authenticates)."""

    model_type = ApiKey

    async def page_for(self, owner_id: uuid.UUID, *, offset: int, limit: int) -> tuple[list[ApiKey], int]:
        """One page of ``owner_id``'s keys, newest first, and the total."""
        total = int(await self.session.scalar(select(func.count()).where(ApiKey.owner_id == owner_id)) or 0)
        if offset >= total:
            return [], total
        rows = await self.session.scalars(
            select(ApiKey)
            .where(ApiKey.owner_id == owner_id)
            .order_by(ApiKey.created_at.desc(), ApiKey.id.desc())
            .offset(offset)
            .limit(limit)
        )
        return list(rows), total
