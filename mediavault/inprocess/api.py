"""The in-process API: host code calls the vault's services directly, with the rules of HTTP.

Every method is one call of the service the matching HTTP route calls (so the same sniffing, size limit, sanitised
names, dedup, ownership checks, outbox events and processing rows), and answers with the route's shape (the SDK's
types: :class:`~mediavault_sdk.types.Media`, ...) or raises the route's :mod:`mediavault.errors` class. Inputs are
checked against the routes' body types as a JSON body is (lengths, formats, no NUL characters).

Each call is one unit of work: on a session of the vault's own that it commits (as an HTTP request), or, given the
host's ``AsyncSession``, inside the host's transaction (:mod:`mediavault.inprocess.transaction`).
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, aclosing, asynccontextmanager
from typing import TYPE_CHECKING, Annotated, Any, Generic, TypeVar

import msgspec
from sqlalchemy import bindparam, select
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.auth.host import HostIdentity
from mediavault.auth.providers import Principal
from mediavault.db.models import User
from mediavault.db.query import MediaQuery
from mediavault.db.statements import ReadStatement
from mediavault.domain.admin.schemas import AdminUserOut, AdminUserUpdate, AuditEventOut
from mediavault.domain.admin.services import AdminService
from mediavault.domain.auth.schemas import RegisterIn
from mediavault.domain.auth.services import AuthService
from mediavault.domain.collections.schemas import CollectionCreate, CollectionOut, CollectionUpdate
from mediavault.domain.collections.services import CollectionService
from mediavault.domain.link_uploads.schemas import SignedUploadCreate, SignedUploadOut
from mediavault.domain.link_uploads.services import LinkUploadService
from mediavault.domain.media.schemas import MediaKind, MediaOut, MediaSort, MediaUpdate
from mediavault.domain.media.services import MediaService
from mediavault.domain.shares.schemas import ShareCreate, ShareOut
from mediavault.domain.shares.services import ShareService
from mediavault.domain.trash.schemas import TrashedMediaOut
from mediavault.domain.trash.services import TrashService
from mediavault.domain.users.schemas import UsageOut, UserOut, UserUpdate
from mediavault.domain.users.services import UserService
from mediavault.domain.versions.schemas import MediaVersionOut
from mediavault.domain.versions.services import VersionService
from mediavault.errors import NUL_MESSAGE, Forbidden, Unauthorized, ValidationError
from mediavault.http.strict import error_field, nul_path
from mediavault.inprocess.sources import IncomingSource, UploadSource
from mediavault.inprocess.transaction import JoinedSessions, Work
from mediavault.storage.base import StorageBackend

if TYPE_CHECKING:
    from mediavault.runtime import VaultRuntime

__all__ = (
    "AdminAPI",
    "CollectionsAPI",
    "InProcess",
    "MediaAPI",
    "Page",
    "SharesAPI",
    "TrashAPI",
    "UsersAPI",
    "VaultAPI",
)

T = TypeVar("T")
UNSET: Any = msgspec.UNSET
"""An argument left out (``None`` is a value: it clears a title, a description...)."""
ActingUser = uuid.UUID | str | Principal | HostIdentity
"""Who the calls act for: a vault user's id, a :class:`~mediavault.Principal` (used as given), or the host app's user
(a :class:`~mediavault.HostIdentity`: its vault user, created on first sight)."""


class _Role(msgspec.Struct):
    role: str


_users = User.__table__.c
_ROLE = ReadStatement(select(_users.role).where(_users.id == bindparam("user"), _users.disabled_at.is_(None)), _Role)
"""The acting user's role, unless an admin disabled them: one statement per call, straight to the driver (as HTTP's
principal lookup)."""


class Page(msgspec.Struct, Generic[T], kw_only=True):
    """One page of a list: its ``items``, the ``total`` on all pages, and where it is (1-based ``page``)."""

    items: list[T]
    total: int
    page: int
    per_page: int

    @property
    def total_pages(self) -> int:
        """How many pages of ``per_page`` the ``total`` makes."""
        return (self.total + self.per_page - 1) // self.per_page


class _PageQuery(msgspec.Struct, forbid_unknown_fields=True):
    """``page``/``per_page`` with the rules of the HTTP query parameters."""

    page: Annotated[int, msgspec.Meta(ge=1)] = 1
    per_page: Annotated[int, msgspec.Meta(ge=1, le=100)] = 20


class _MediaQuery(_PageQuery, forbid_unknown_fields=True):
    sort: MediaSort = "-created_at"
    type: MediaKind | None = None
    tag: str | None = None
    q: str | None = None
    metadata: dict[str, str] = {}

    def query(self) -> MediaQuery:
        return MediaQuery(
            page=self.page,
            per_page=self.per_page,
            sort=self.sort,
            kind=self.type,
            tag=self.tag,
            q=self.q,
            metadata=tuple(self.metadata.items()),
        )


S = TypeVar("S", bound=msgspec.Struct)


def _checked(kind: type[S], **values: Any) -> S:
    """``values`` (those not :data:`UNSET`) as a ``kind``, checked as a JSON body of that type is over HTTP.

    Raises:
        ValidationError: naming the first field that breaks ``kind``'s rules or holds a NUL character.
    """
    given = {name: list(value) if isinstance(value, tuple) else value for name, value in values.items()}
    try:
        data = msgspec.convert({k: v for k, v in given.items() if v is not UNSET}, kind, strict=True)
    except msgspec.ValidationError as exc:
        field, message = error_field(exc)
        raise ValidationError.for_field(field or "body", message) from exc
    if (nul := nul_path(msgspec.to_builtins(data), "")) is not None:
        raise ValidationError.for_field(nul or "body", NUL_MESSAGE)
    return data


class InProcess:
    """The in-process side of one vault: makes its :class:`VaultAPI` objects (``MediaVault.api``).

    Args:
        runtime: the vault's runtime (sessions, services, storage, events).
    """

    def __init__(self, runtime: VaultRuntime) -> None:
        self._runtime = runtime
        self._joined = JoinedSessions(runtime.storage, runtime.events, runtime.service_factories)

    @property
    def prefix(self) -> str:
        """The vault's ``path_prefix`` (the URLs in answers, e.g. ``content_url``, are the HTTP API's)."""
        return self._runtime.config.path_prefix

    @property
    def storage(self) -> StorageBackend:
        """The vault's storage."""
        return self._runtime.storage

    async def host_principal(self, identity: HostIdentity, session: AsyncSession) -> Principal:
        """The principal of the host's user ``identity`` in a unit of work's ``session`` (a first sight's user is
        created and committed there: inside a host transaction, kept or undone with it)."""
        return await self._runtime.host_users.principal(identity, session, commit=True)

    @asynccontextmanager
    async def work(self, host: AsyncSession | None) -> AsyncIterator[Work]:
        """One call's unit of work: inside ``host``'s transaction, or on a session of the vault's own."""
        if host is not None:
            async with self._joined.work(host) as work:
                yield work
            return
        async with self._runtime.session() as session:
            yield Work(session, self._runtime.services)


class VaultAPI:
    """The vault for host code, without HTTP: ``vault.api(user=..., session=...)``.

    Attributes:
        media: upload, get, list, update, replace and delete the acting user's media; their versions.
        trash: their deleted media (``trash_retention_days`` > 0): list, restore, purge.
        collections: their collections.
        shares: their share links.
        uploads: their signed upload URLs.
        users: create users; read and change the acting user; their usage.
        admin: every user and the audit log, for an admin acting user (anyone else: ``Forbidden``).

    Args:
        vault: the vault's :class:`InProcess`.
        user: who the calls act for (another user's media, collections and links are :class:`NotFound
            <mediavault.errors.NotFound>`, as over HTTP), or ``None`` for :meth:`UsersAPI.create` only.
        session: the host's ``AsyncSession`` on the vault's database, to work inside its transaction (the host
            commits or rolls back), or ``None``: each call commits on its own.
    """

    def __init__(self, vault: InProcess, user: ActingUser | None = None, session: AsyncSession | None = None) -> None:
        self._vault = vault
        self._user = user
        self._session = session
        self.media = MediaAPI(self)
        self.collections = CollectionsAPI(self)
        self.shares = SharesAPI(self)
        self.uploads = UploadsAPI(self)
        self.users = UsersAPI(self)
        self.trash = TrashAPI(self)
        self.admin = AdminAPI(self)

    @property
    def prefix(self) -> str:
        """The vault's ``path_prefix``."""
        return self._vault.prefix

    @property
    def storage(self) -> StorageBackend:
        """The vault's storage (reads only: writes go through the services)."""
        return self._vault.storage

    def work(self) -> AbstractAsyncContextManager[Work]:
        """One call's unit of work (:meth:`InProcess.work` in this API's host session, if any)."""
        return self._vault.work(self._session)

    @asynccontextmanager
    async def acting(self) -> AsyncIterator[tuple[Work, Principal]]:
        """One call's unit of work and the acting user's principal.

        Raises:
            Unauthorized: no acting user was given, a ``str`` that is not a UUID (not a vault user's id: the host's
                own ids are :class:`~mediavault.HostIdentity`), or not (or no longer) a user of the vault, or disabled.
        """
        async with self.work() as work:
            yield work, await self._principal(work.session)

    async def _principal(self, session: AsyncSession) -> Principal:
        user = self._user
        if isinstance(user, Principal):
            return user
        if isinstance(user, HostIdentity):
            return await self._vault.host_principal(user, session)
        if user is None:
            raise Unauthorized("No acting user: pass user= to MediaVault.api()")
        try:
            user_id = user if isinstance(user, uuid.UUID) else uuid.UUID(user)
        except ValueError:
            raise Unauthorized(
                f"{user!r} is not a vault user id (a UUID): your app's own user id is given as "
                f"user=HostIdentity(external_id={user!r})"
            ) from None
        row = await _ROLE.first(session, user=user_id)
        if row is None:
            raise Unauthorized("User no longer exists or is disabled")
        return Principal(user_id=user_id, role=row.role, method="inprocess")


class _Area:
    def __init__(self, api: VaultAPI) -> None:
        self._api = api


class MediaAPI(_Area):
    """The acting user's media (``/media`` over HTTP)."""

    async def upload(
        self,
        source: UploadSource,
        *,
        filename: str | None = None,
        title: str | None = None,
        description: str | None = None,
        tags: Sequence[str] = (),
        metadata: dict[str, Any] | None = None,
    ) -> MediaOut:
        """Store one file; emits ``media.uploaded`` and owes its processing, as ``POST /media/upload``.

        Args:
            source: the bytes, a ``pathlib.Path``, a binary file object (sync or async ``read``, e.g. Litestar's
                ``UploadFile``) or an async iterable of ``bytes``; read once, straight into storage.
            filename: the client's name for it (sanitised; the content type is sniffed from the bytes, the name only
                breaks ties); by default a path's or file object's name.
            title: at most 10,000 characters.
            description: at most 10,000 characters.
            tags: at most 50 of at most 100 characters; trimmed, lower-cased, duplicates dropped. As over HTTP,
                a comma separates tags.
            metadata: custom metadata, a JSON object of at most 16 KiB encoded.

        Raises:
            PayloadTooLarge: more than ``max_upload_size`` bytes (nothing is kept).
            ValidationError: an empty file, too many or too long tags, a title or description too long, a NUL,
                metadata over 16 KiB.
            TypeError: ``source`` is not one of the above (a ``str`` is refused: a path is a ``pathlib.Path``).
        """
        file = _incoming(source, filename, title, description, tags or None, metadata)
        async with self._api.acting() as (work, principal), aclosing(file):
            upload = await work.service(MediaService).upload(principal.user_id, file)
            return MediaOut.of(upload.media, self._api.prefix)

    async def replace(
        self,
        media_id: str | uuid.UUID,
        source: UploadSource,
        *,
        filename: str | None = None,
        title: str | None = None,
        description: str | None = None,
        tags: Sequence[str] | None = None,
        metadata: dict[str, Any] | None = None,
    ) -> MediaOut:
        """Replace the item's bytes (``PUT /media/{id}/content``): same id, collections and shares, ``version`` + 1,
        the previous bytes kept as a version; the fields given replace the item's; emits ``media.updated``.

        Raises:
            NotFound: as :meth:`get`.
            PayloadTooLarge, ValidationError, TypeError: as :meth:`upload` (nothing changes).
        """
        file = _incoming(source, filename, title, description, tags, metadata)
        async with self._api.acting() as (work, principal), aclosing(file):
            media = await work.service(MediaService).replace(principal, str(media_id), file)
            return MediaOut.of(media, self._api.prefix)

    async def versions(self, media_id: str | uuid.UUID) -> list[MediaVersionOut]:
        """Every kept version of the item's bytes, newest (the current one) first (``GET /media/{id}/versions``).

        Raises:
            NotFound: as :meth:`get`.
        """
        async with self._api.acting() as (work, principal):
            found = await work.service(VersionService).list_versions(principal, str(media_id))
            return [
                MediaVersionOut(v.version, v.size, v.checksum_sha256, v.content_type, v.created_at, v.current)
                for v in found
            ]

    async def restore_version(self, media_id: str | uuid.UUID, version: int) -> MediaOut:
        """Make a version's bytes current again, as a new version (``POST /media/{id}/versions/{version}/restore``).

        Raises:
            NotFound: as :meth:`get`, or no such version kept.
        """
        async with self._api.acting() as (work, principal):
            media = await work.service(VersionService).restore(principal, str(media_id), str(version))
            return MediaOut.of(media, self._api.prefix)

    async def get(self, media_id: str | uuid.UUID) -> MediaOut:
        """One media item (``GET /media/{id}``).

        Raises:
            NotFound: unknown, malformed or another user's id.
        """
        async with self._api.acting() as (work, principal):
            return MediaOut.of(await work.service(MediaService).read(principal, str(media_id)), self._api.prefix)

    async def content(self, media_id: str | uuid.UUID) -> AsyncIterator[bytes]:
        """The item's stored bytes, streamed (``GET /media/{id}/content``): ``async for chunk in
        api.media.content(id)``; the item is looked up when the iteration starts.

        Raises:
            NotFound: as :meth:`get` (from the first iteration).
        """
        async with self._api.acting() as (work, principal):
            file = await work.service(MediaService).content(principal, str(media_id))
        async for chunk in self._api.storage.read(file.key):
            yield chunk

    async def list(
        self,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: MediaSort = "-created_at",
        type: MediaKind | None = None,
        tag: str | None = None,
        q: str | None = None,
        metadata: dict[str, str] | None = None,
    ) -> Page[MediaOut]:
        """One page of the acting user's media (``GET /media``): ``per_page`` 1-100, filtered by ``type``, ``tag``,
        ``q`` (a substring of filename, title or description) and ``metadata`` (every ``key: value`` of the custom
        metadata, compared as strings), in ``sort`` order.

        Raises:
            ValidationError: a page below 1, ``per_page`` outside 1-100, an unknown sort or type.
        """
        query = _checked(
            _MediaQuery, page=page, per_page=per_page, sort=sort, type=type, tag=tag, q=q, metadata=metadata or {}
        ).query()
        async with self._api.acting() as (work, principal):
            rows, total = await work.service(MediaService).list_page(principal, query)
            return _page([MediaOut.of(row, self._api.prefix) for row in rows], total, query)

    async def update(
        self,
        media_id: str | uuid.UUID,
        *,
        title: str | None = UNSET,
        description: str | None = UNSET,
        tags: Sequence[str] = UNSET,
        metadata: dict[str, Any] = UNSET,
    ) -> MediaOut:
        """Change ``title``, ``description`` (``None`` clears), ``tags`` or ``metadata`` (a JSON merge patch, RFC 7396:
        ``None`` removes a key); emits ``media.updated`` (``PATCH /media/{id}``).

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: as :meth:`upload`.
        """
        data = _checked(MediaUpdate, title=title, description=description, tags=tags, metadata=metadata)
        async with self._api.acting() as (work, principal):
            media = await work.service(MediaService).update(principal, str(media_id), data)
            return MediaOut.of(media, self._api.prefix)

    async def delete(self, media_id: str | uuid.UUID) -> None:
        """Delete the item and its bytes; emits ``media.deleted`` (``DELETE /media/{id}``). Inside a host's
        transaction the bytes go when it commits. With ``trash_retention_days`` > 0 the item goes to the trash
        instead (:class:`TrashAPI`; ``media.trashed``).

        Raises:
            NotFound: as :meth:`get`.
        """
        async with self._api.acting() as (work, principal):
            await work.service(MediaService).delete(principal, str(media_id))


class TrashAPI(_Area):
    """The acting user's deleted media (``/trash`` over HTTP; ``trash_retention_days`` > 0)."""

    async def list(self, *, page: int = 1, per_page: int = 20) -> Page[TrashedMediaOut]:
        """One page of deleted media, most recently deleted first, with ``deleted_at`` and ``purge_at``.

        Raises:
            ValidationError: a page below 1, ``per_page`` outside 1-100.
        """
        query = _checked(_PageQuery, page=page, per_page=per_page)
        async with self._api.acting() as (work, principal):
            service = work.service(TrashService)
            rows, total = await service.list_page(principal, page=query.page, per_page=query.per_page)
            prefix = self._api.prefix
            items = [TrashedMediaOut.trashed(m, prefix, at, service.purge_at(at)) for m, at in rows]
            return _page(items, total, query)

    async def restore(self, media_id: str | uuid.UUID) -> MediaOut:
        """Restore a deleted item, back where it was; emits ``media.restored``.

        Raises:
            NotFound: not in the acting user's trash.
        """
        async with self._api.acting() as (work, principal):
            return MediaOut.of(await work.service(TrashService).restore(principal, str(media_id)), self._api.prefix)

    async def purge(self, media_id: str | uuid.UUID) -> None:
        """Delete a trashed item and its bytes now; emits ``media.deleted``.

        Raises:
            NotFound: not in the acting user's trash.
        """
        async with self._api.acting() as (work, principal):
            await work.service(TrashService).purge(principal, str(media_id))

    async def empty(self) -> None:
        """Delete every trashed item of the acting user and their bytes now."""
        async with self._api.acting() as (work, principal):
            await work.service(TrashService).empty(principal)


class CollectionsAPI(_Area):
    """The acting user's collections (``/collections`` over HTTP)."""

    async def create(self, name: str, *, description: str | None = None) -> CollectionOut:
        """A new, empty collection; emits ``collection.created``.

        Raises:
            ValidationError: a blank name or one over 200 characters, a description over 10,000.
        """
        data = _checked(CollectionCreate, name=name, description=description)
        async with self._api.acting() as (work, principal):
            return CollectionOut.of(*await work.service(CollectionService).create(principal, data))

    async def get(self, collection_id: str | uuid.UUID) -> CollectionOut:
        """One collection with its ``media_count``.

        Raises:
            NotFound: unknown, malformed or another user's id.
        """
        async with self._api.acting() as (work, principal):
            return CollectionOut.of(*await work.service(CollectionService).get(principal, str(collection_id)))

    async def list(self, *, page: int = 1, per_page: int = 20) -> Page[CollectionOut]:
        """One page of the acting user's collections, newest first.

        Raises:
            ValidationError: a page below 1 or ``per_page`` outside 1-100.
        """
        query = _checked(_PageQuery, page=page, per_page=per_page)
        async with self._api.acting() as (work, principal):
            rows, total = await work.service(CollectionService).list_page(
                principal, page=query.page, per_page=query.per_page
            )
            return _page([CollectionOut.of(c, n) for c, n in rows], total, query)

    async def update(
        self, collection_id: str | uuid.UUID, *, name: str = UNSET, description: str | None = UNSET
    ) -> CollectionOut:
        """Change ``name`` and/or ``description`` (``None`` clears it).

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: as :meth:`create`.
        """
        data = _checked(CollectionUpdate, name=name, description=description)
        async with self._api.acting() as (work, principal):
            service = work.service(CollectionService)
            return CollectionOut.of(*await service.update(principal, str(collection_id), data))

    async def delete(self, collection_id: str | uuid.UUID) -> None:
        """Delete the collection and its links (never its media); emits ``collection.deleted``.

        Raises:
            NotFound: as :meth:`get`.
        """
        async with self._api.acting() as (work, principal):
            await work.service(CollectionService).delete(principal, str(collection_id))

    async def add_media(self, collection_id: str | uuid.UUID, media_ids: Sequence[str | uuid.UUID]) -> CollectionOut:
        """Add 1-1000 of the acting user's media, all or nothing (ids already in it are left alone).

        Raises:
            NotFound: the collection or any of the media is unknown, malformed or another user's (nothing added).
        """
        async with self._api.acting() as (work, principal):
            service = work.service(CollectionService)
            return CollectionOut.of(
                *await service.add_media(principal, str(collection_id), [str(m) for m in media_ids])
            )

    async def remove_media(self, collection_id: str | uuid.UUID, media_id: str | uuid.UUID) -> None:
        """Take one media out of the collection (the media stays).

        Raises:
            NotFound: unknown or another user's collection or media, or the media is not in it.
        """
        async with self._api.acting() as (work, principal):
            await work.service(CollectionService).remove_media(principal, str(collection_id), str(media_id))

    async def media(
        self,
        collection_id: str | uuid.UUID,
        *,
        page: int = 1,
        per_page: int = 20,
        sort: MediaSort = "-created_at",
        type: MediaKind | None = None,
        tag: str | None = None,
    ) -> Page[MediaOut]:
        """One page of the collection's media, filtered and sorted as :meth:`MediaAPI.list`.

        Raises:
            NotFound: as :meth:`get`.
            ValidationError: as :meth:`MediaAPI.list`.
        """
        query = _checked(_MediaQuery, page=page, per_page=per_page, sort=sort, type=type, tag=tag).query()
        async with self._api.acting() as (work, principal):
            rows, total = await work.service(CollectionService).list_media(principal, str(collection_id), query)
            return _page([MediaOut.of(row, self._api.prefix) for row in rows], total, query)


class SharesAPI(_Area):
    """The acting user's share links (``/shares`` over HTTP)."""

    async def create(
        self,
        *,
        media_id: str | uuid.UUID | None = None,
        collection_id: str | uuid.UUID | None = None,
        expires_in: int | None = None,
        password: str | None = None,
        allow_download: bool = True,
        allow_upload: bool = False,
    ) -> ShareOut:
        """A link to one media or one collection of the acting user; emits ``share.created``. Its ``token`` and
        ``url`` (``<path_prefix>/s/<token>``, relative to the vault's origin) are only known now.

        Args:
            expires_in: seconds from now (1 s to 10 years); ``None``: never.
            password: 8-1024 characters, then needed to open the link.
            allow_upload: a collection link that takes uploads from whoever holds it (``POST /s/{token}/upload``).

        Raises:
            ValidationError: not exactly one of ``media_id``/``collection_id``, ``expires_in`` or ``password`` out of
                range.
            NotFound: the target is unknown, malformed or another user's.
        """
        data = _checked(
            ShareCreate,
            media_id=None if media_id is None else str(media_id),
            collection_id=None if collection_id is None else str(collection_id),
            expires_in=expires_in,
            password=password,
            allow_download=allow_download,
            allow_upload=allow_upload,
        )
        async with self._api.acting() as (work, principal):
            share, token = await work.service(ShareService).create(principal, data)
            return ShareOut.of(share, self._api.prefix, token)

    async def list(self, *, page: int = 1, per_page: int = 20) -> Page[ShareOut]:
        """One page of the acting user's links, newest first (``token`` and ``url`` are ``None``: only hashes are
        kept).

        Raises:
            ValidationError: a page below 1 or ``per_page`` outside 1-100.
        """
        query = _checked(_PageQuery, page=page, per_page=per_page)
        async with self._api.acting() as (work, principal):
            rows, total = await work.service(ShareService).list_page(
                principal, page=query.page, per_page=query.per_page
            )
            return _page([ShareOut.of(s, self._api.prefix) for s in rows], total, query)

    async def delete(self, share_id: str | uuid.UUID) -> None:
        """Delete a link; it stops working at once.

        Raises:
            NotFound: unknown, malformed or another user's id.
        """
        async with self._api.acting() as (work, principal):
            await work.service(ShareService).delete(principal, str(share_id))


class UploadsAPI(_Area):
    """Signed upload URLs of the acting user (``/uploads/signed`` over HTTP)."""

    async def sign(
        self,
        *,
        expires_in: int = 3600,
        max_size: int | None = None,
        collection_id: str | uuid.UUID | None = None,
    ) -> SignedUploadOut:
        """A URL that takes one upload into the acting user's account (and ``collection_id``) without credentials,
        e.g. for a browser page of the host (``POST <url>`` with the multipart body of ``POST /media/upload``). Its
        ``url`` (``<path_prefix>/uploads/signed/<token>``, relative to the vault's origin) and ``token`` are only
        known now.

        Args:
            expires_in: seconds the URL lives, 60-86400.
            max_size: largest file it takes, in bytes (default and maximum: ``max_upload_size``).

        Raises:
            ValidationError: ``expires_in`` or ``max_size`` out of range.
            NotFound: ``collection_id`` is unknown, malformed or another user's.
        """
        data = _checked(
            SignedUploadCreate,
            expires_in=expires_in,
            max_size=max_size,
            collection_id=None if collection_id is None else str(collection_id),
        )
        async with self._api.acting() as (work, principal):
            grant, token = await work.service(LinkUploadService).sign(principal, data)
            return SignedUploadOut.of(grant, self._api.prefix, token)


class UsersAPI(_Area):
    """Vault users: create them (no acting user needed), read and change the acting one."""

    async def create(
        self, email: str, password: str, *, display_name: str | None = None, role: str = "user"
    ) -> UserOut:
        """A new user, whether or not ``allow_registration`` is on (the host decides, as ``mediavault users create``
        does for an operator); emits ``user.registered``.

        Args:
            email: ``local@domain.tld``, stored lower-cased.
            password: 8-1024 characters (Argon2id-hashed).
            role: ``"user"`` or ``"admin"``.

        Raises:
            Conflict: the email is taken.
            ValidationError: a malformed email, a password out of range, an unknown role.
        """
        if role not in {"user", "admin"}:
            raise ValidationError.for_field("role", "must be user or admin")
        data = _checked(RegisterIn, email=email, password=password, display_name=display_name)
        async with self._api.work() as work:
            return UserOut.of(await work.service(AuthService).create_user(data, role=role))

    async def me(self) -> UserOut:
        """The acting user (``GET /users/me``).

        Raises:
            Unauthorized: no acting user, or it no longer exists.
        """
        async with self._api.acting() as (work, principal):
            return UserOut.of(await work.service(UserService).profile(principal))

    async def update(
        self,
        *,
        display_name: str | None = UNSET,
        email: str = UNSET,
        password: str = UNSET,
        current_password: str = UNSET,
    ) -> UserOut:
        """Change the acting user (``PATCH /users/me``): a new email or password needs ``current_password``; a new
        password ends the user's other logins.

        Raises:
            ValidationError: ``current_password`` missing or wrong where needed, a field out of range.
            Conflict: the new email is taken.
        """
        data = _checked(
            UserUpdate, display_name=display_name, email=email, password=password, current_password=current_password
        )
        async with self._api.acting() as (work, principal):
            return UserOut.of(await work.service(UserService).update(principal, data))

    async def usage(self) -> UsageOut:
        """The acting user's ``used_bytes`` (each stored blob once, versions and trash included), ``quota_bytes``
        (``None``: unlimited) and ``media_count`` (``GET /users/me/usage``).

        Raises:
            Unauthorized: no acting user, or it no longer exists.
        """
        async with self._api.acting() as (work, principal):
            usage = await work.service(UserService).usage(principal)
            return UsageOut(used_bytes=usage.used_bytes, quota_bytes=usage.quota_bytes, media_count=usage.media_count)


class AdminAPI(_Area):
    """Every user and the audit log (``/admin`` over HTTP): the acting user must be an admin."""

    @asynccontextmanager
    async def _admin(self) -> AsyncIterator[tuple[AdminService, Principal]]:
        async with self._api.acting() as (work, principal):
            if principal.role != "admin":
                raise Forbidden("Only administrators may do this")
            yield work.service(AdminService), principal

    async def users(self, *, q: str | None = None, page: int = 1, per_page: int = 20) -> Page[AdminUserOut]:
        """One page of users, oldest first, with ``disabled``, ``quota_bytes`` and ``used_bytes``; ``q`` keeps those
        whose email or display name contains it (any case) (``GET /admin/users``).

        Raises:
            Forbidden: the acting user is not an admin.
            ValidationError: a page below 1, ``per_page`` outside 1-100.
        """
        query = _checked(_PageQuery, page=page, per_page=per_page)
        async with self._admin() as (service, _principal):
            users, total = await service.list_users(q=q, page=query.page, per_page=query.per_page)
            return _page([AdminUserOut.of(u) for u in users], total, query)

    async def update_user(
        self,
        user_id: str | uuid.UUID,
        *,
        disabled: bool = UNSET,
        role: str = UNSET,
        quota_bytes: int | None = UNSET,
    ) -> AdminUserOut:
        """Disable or enable a user, set their ``role`` (``user``/``admin``) or ``quota_bytes`` (``None``: unlimited)
        (``PATCH /admin/users/{id}``). Disabling ends the user's logins and refuses their API keys at once.

        Raises:
            Forbidden: the acting user is not an admin.
            NotFound: no such user.
            ValidationError: an unknown role, a negative quota, disabling or demoting yourself.
        """
        data = _checked(AdminUserUpdate, disabled=disabled, role=role, quota_bytes=quota_bytes)
        async with self._admin() as (service, principal):
            return AdminUserOut.of(await service.update_user(principal, str(user_id), data))

    async def audit(
        self,
        *,
        action: str | None = None,
        actor_id: str | uuid.UUID | None = None,
        since: dt.datetime | None = None,
        until: dt.datetime | None = None,
        page: int = 1,
        per_page: int = 20,
    ) -> Page[AuditEventOut]:
        """One page of the audit log, newest first, filtered by ``action``, ``actor_id`` and a time window
        (``since`` inclusive, ``until`` exclusive; a time without an offset is UTC) (``GET /admin/audit``).

        Raises:
            Forbidden: the acting user is not an admin.
            ValidationError: an unknown ``action``, a malformed ``actor_id``, a page out of range.
        """
        query = _checked(_PageQuery, page=page, per_page=per_page)
        actor = str(actor_id) if actor_id is not None else None
        async with self._admin() as (service, _principal):
            rows, total = await service.audit_page(
                action=action, actor_id=actor, since=since, until=until, page=query.page, per_page=query.per_page
            )
            return _page([AuditEventOut.of(r) for r in rows], total, query)


def _incoming(
    source: UploadSource,
    filename: str | None,
    title: str | None,
    description: str | None,
    tags: Sequence[str] | None,
    metadata: dict[str, Any] | None,
) -> IncomingSource:
    """``source`` as an upload form's file with the fields that were given (``metadata`` as its JSON text)."""
    fields = {
        "title": title,
        "description": description,
        "tags": ",".join(tags) if tags is not None else None,
        "metadata": msgspec.json.encode(metadata).decode() if metadata is not None else None,
    }
    return IncomingSource(source, filename, {k: v for k, v in fields.items() if v is not None})


def _page(items: list[T], total: int, query: _PageQuery | MediaQuery) -> Page[T]:
    return Page(items=items, total=total, page=query.page, per_page=query.per_page)
