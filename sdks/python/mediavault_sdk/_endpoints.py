"""Every endpoint of the HTTP contract (docs/api.md), described once as a function returning a :class:`Call`.

:class:`~mediavault_sdk.Client` and :class:`~mediavault_sdk.AsyncClient` expose each as a method of the same
name and arguments (blocking, or awaitable); list endpoints also get an ``iter_*`` method that walks every page.
The docstrings here are those methods' docstrings. Every method raises the
:class:`~mediavault_sdk.VaultError` subclass of the answer's ``error.code`` (see :mod:`mediavault_sdk.errors`);
those most worth handling are listed under *Raises*.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable
from typing import Any, Literal
from urllib.parse import quote

import httpx
import msgspec
from msgspec import UNSET, UnsetType

from mediavault_sdk._core import Call, Credentials, data_of, decode_answer, no_content, page_of
from mediavault_sdk._resumable import CHUNK_SIZE, RESUMABLE_THRESHOLD, Flow, ResumeFile, resumable_upload
from mediavault_sdk._transfer import Destination, Download, Progress, Source, Upload
from mediavault_sdk.types import (
    AdminUser,
    ApiKey,
    ApiKeyCreated,
    AuditEvent,
    Collection,
    Delivery,
    Health,
    Kind,
    Media,
    MediaProcessing,
    MediaVersion,
    OpenedShare,
    Page,
    Pagination,
    Share,
    SharedCollection,
    SharedMedia,
    SignedUpload,
    Sort,
    TokenPair,
    TrashedMedia,
    Usage,
    User,
    Webhook,
    WebhookCreated,
)

__all__ = ("ByteRange",)


def _id(value: str) -> str:
    return quote(str(value), safe="")


ByteRange = tuple[int, int | None]
"""``(first, last)`` byte positions, inclusive (``last`` ``None``: to the end; a negative ``first``: a suffix)."""


def _range(byte_range: ByteRange | None) -> tuple[dict[str, str], int]:
    """The ``Range`` header of ``byte_range`` and the status that answers it (206, or 200 without a range)."""
    if byte_range is None:
        return {}, 200
    first, last = byte_range
    if first < 0:
        if last is not None:
            raise ValueError("a suffix range (negative first byte) has no last byte")
        return {"Range": f"bytes={first}"}, 206
    if last is not None and last < first:
        raise ValueError(f"the last byte ({last}) comes before the first ({first})")
    return {"Range": f"bytes={first}-{'' if last is None else last}"}, 206


def _drop_unset(**fields: object) -> dict[str, object]:
    return {k: v for k, v in fields.items() if v is not UNSET}


# ----------------------------------------------------------------------------------------------- operations


def health() -> Call[Health]:
    """``GET /health`` → :class:`Health` (``status``, ``checks``: ``{"database": "ok", "storage": "ok"}``).

    Raises:
        VaultError: 503 when a check fails.
    """
    return Call("GET", "/health", data_of(Health), authenticated=False)


# ----------------------------------------------------------------------------------------------- auth


def _store(credentials: Credentials, pair: TokenPair) -> None:
    credentials.store(pair)


def _forget(credentials: Credentials, _result: None) -> None:
    credentials.clear()


def register(email: str, password: str, display_name: str | None = None) -> Call[User]:
    """``POST /auth/register`` → the new :class:`User` (it does not log in).

    Args:
        email: the account's email (its login name).
        password: 8-1024 characters.
        display_name: optional, up to 200 characters.

    Raises:
        Conflict: the email is taken.
        Forbidden: registration is turned off on this server.
        ValidationError: a malformed email or a password outside 8-1024 characters.
    """
    body = {"email": email, "password": password, "display_name": display_name}
    return Call("POST", "/auth/register", data_of(User), 201, json=body, authenticated=False)


def login(email: str, password: str) -> Call[TokenPair]:
    """``POST /auth/login`` → :class:`TokenPair`; the client keeps both tokens and refreshes the access token by
    itself when it expires (once per expiry, shared by concurrent requests).

    Raises:
        Unauthorized: unknown email or wrong password (the same error for both).
        RateLimited: too many failed logins for this address or account (``retry_after`` seconds).
    """
    body = {"username": email, "password": password}
    return Call("POST", "/auth/login", data_of(TokenPair), json=body, authenticated=False, after=_store)


def refresh(refresh_token: str) -> Call[TokenPair]:
    """``POST /auth/refresh`` → a new :class:`TokenPair`, which the client keeps; ``refresh_token`` is spent.

    Clients refresh by themselves; call this only to rotate tokens on purpose.

    Raises:
        Unauthorized: unknown, expired or already spent refresh token (a spent one revokes its whole login).
    """
    body = {"refresh_token": refresh_token}
    return Call("POST", "/auth/refresh", data_of(TokenPair), json=body, authenticated=False, after=_store)


def logout() -> Call[None]:
    """``POST /auth/logout``: the access token and its refresh token stop working at once; the client forgets them.

    Raises:
        Unauthorized: not logged in with a token.
        Forbidden: the client authenticates with an API key, which is no login (delete the key instead).
    """
    return Call("POST", "/auth/logout", no_content, 204, after=_forget)


# ----------------------------------------------------------------------------------------------- users


def me() -> Call[User]:
    """``GET /users/me`` → the caller's :class:`User`."""
    return Call("GET", "/users/me", data_of(User))


def update_me(
    *,
    display_name: str | UnsetType | None = UNSET,
    email: str | UnsetType = UNSET,
    password: str | UnsetType = UNSET,
    current_password: str | UnsetType = UNSET,
) -> Call[User]:
    """``PATCH /users/me`` → the updated :class:`User`. Arguments left out are not changed; a new ``password``
    needs ``current_password`` and ends every other login of the user.

    Raises:
        ValidationError: ``current_password`` missing or wrong (``details`` names it), or a malformed value.
        Conflict: the new email is taken.
    """
    body = _drop_unset(display_name=display_name, email=email, password=password, current_password=current_password)
    return Call("PATCH", "/users/me", data_of(User), json=body)


def usage() -> Call[Usage]:
    """``GET /users/me/usage`` → :class:`Usage`: bytes stored (each stored blob once), the quota (``None``:
    unlimited) and the number of media items."""
    return Call("GET", "/users/me/usage", data_of(Usage))


def create_api_key(name: str, *, scopes: list[str] | None = None, expires_in: int | None = None) -> Call[ApiKeyCreated]:
    """``POST /users/me/api-keys`` → :class:`ApiKeyCreated`, whose ``key`` is shown only in this answer.

    Args:
        name: 1-200 characters, to tell the key apart.
        scopes: the scopes the key is limited to (``media:read``, ``media:write``, ``collections:read``,
            ``collections:write``, ``shares:read``, ``shares:write``, ``webhooks:read``, ``webhooks:write``);
            ``None``: every scope.
        expires_in: seconds until the key stops working (60 to ten years); ``None``: never.

    Raises:
        Forbidden: the client itself authenticates with an API key (keys are managed with a login only).
        Conflict: the user holds 100 keys already.
        ValidationError: an unknown scope, an empty list, or ``expires_in`` out of range.
    """
    body: dict[str, object] = {"name": name}
    if scopes is not None:
        body["scopes"] = scopes
    if expires_in is not None:
        body["expires_in"] = expires_in
    return Call("POST", "/users/me/api-keys", data_of(ApiKeyCreated), 201, json=body)


def list_api_keys(*, page: int = 1, per_page: int = 20) -> Call[Page[ApiKey]]:
    """``GET /users/me/api-keys`` → a :class:`Page` of :class:`ApiKey` (newest first, without the keys)."""
    return Call("GET", "/users/me/api-keys", page_of(ApiKey), params={"page": page, "per_page": per_page})


def delete_api_key(key_id: str) -> Call[None]:
    """``DELETE /users/me/api-keys/{id}``: requests with that key get 401 from now on.

    Raises:
        NotFound: unknown id, or someone else's key.
    """
    return Call("DELETE", f"/users/me/api-keys/{_id(key_id)}", no_content, 204)


# ----------------------------------------------------------------------------------------------- media


def upload(
    source: Source,
    *,
    filename: str | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    progress: Progress | None = None,
    resumable: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
    resume_file: str | os.PathLike[str] | None = None,
) -> Call[Media] | Flow[Media]:
    """Upload ``source`` → the new :class:`Media`, streaming it without reading it into memory: in one
    ``POST /media/upload``, or for a file of :data:`RESUMABLE_THRESHOLD` (64 MiB) or more in resumable chunks
    through ``/uploads`` (tus 1.0.0), continuing where the server got when the same file was being uploaded before
    (by this process or an earlier one that was stopped: the upload is written down in ``resume_file``).

    Args:
        source: a path, a binary file object, or an iterator of ``bytes`` (async iterators with ``AsyncClient``).
            Paths and seekable files have a known size (``Content-Length``, so the server can refuse an
            oversized file before it is sent); iterators are sent chunked.
        filename: name to store (default: the path's base name); the content type is sniffed by the server.
        title, description: optional text.
        tags: optional tags (stored trimmed and lower-cased; no commas inside a tag).
        metadata: optional custom metadata (a JSON object, at most 16 KiB encoded); sent with one-request
            uploads only (a resumable upload's metadata has no place for it).
        progress: ``progress(bytes_sent, total_or_None)`` after each chunk of the file; a resumable upload first
            reports the offset it starts from (where an earlier attempt got).
        resumable: ``True`` sends a path through ``/uploads`` whatever its size, ``False`` never; ``None`` (the
            default) for paths of at least :data:`RESUMABLE_THRESHOLD` bytes. Other sources are always one request.
        chunk_size: bytes per ``PATCH`` of a resumable upload (8 MiB; what a dropped connection sends again).
        resume_file: the JSON file unfinished resumable uploads are written down in (default
            ``$XDG_STATE_HOME/mediavault/uploads.json``).

    Raises:
        PayloadTooLarge: the file is over the server's ``max_upload_size`` (nothing is kept).
        ValidationError: an empty file, or metadata over the limit.
        ValueError: a tag with a comma, ``metadata`` with ``resumable=True``, or the file changed size while it was
            being sent.
        FileNotFoundError: no such path.
    """
    fields = (filename, title, description, tags, metadata, progress)
    if flow := _resumable(source, *fields, resumable, chunk_size, resume_file):
        return flow
    return Call("POST", "/media/upload", data_of(Media), 201, upload=_upload_body(source, *fields))


def _resumable(
    source: Source,
    filename: str | None,
    title: str | None,
    description: str | None,
    tags: list[str] | None,
    metadata: dict[str, Any] | None,
    progress: Progress | None,
    resumable: bool | None,
    chunk_size: int,
    resume_file: str | os.PathLike[str] | None,
    media_id: str | None = None,
) -> Flow[Media] | None:
    """The resumable upload (``/uploads``) of :meth:`upload` and :meth:`replace_content` (``media_id``): for a path of
    :data:`RESUMABLE_THRESHOLD` bytes or more, or any path with ``resumable=True``; ``None`` when ``source`` goes in
    one request (``resumable=False``, not a path, or with custom ``metadata``).

    Raises:
        ValueError: ``metadata`` with ``resumable=True``, or a tag with a comma.
    """
    if metadata is not None and resumable:
        raise ValueError("custom metadata goes with one-request uploads: leave resumable unset or False")
    if not isinstance(source, str | os.PathLike) or resumable is False or metadata is not None:
        return None
    if not resumable and os.stat(source).st_size < RESUMABLE_THRESHOLD:
        return None
    fields = {"filename": filename or os.path.basename(source), **_upload_fields(title, description, tags)}
    store = ResumeFile(resume_file)
    return resumable_upload(
        source, fields=fields, media_id=media_id, chunk_size=chunk_size, resume_file=store, progress=progress
    )


def _upload_body(
    source: Source,
    filename: str | None,
    title: str | None,
    description: str | None,
    tags: list[str] | None,
    metadata: dict[str, Any] | None,
    progress: Progress | None,
) -> Upload:
    """The multipart body of every upload route (``POST /media/upload``, signed URLs, share links, ``PUT
    /media/{id}/content``)."""
    fields = _upload_fields(title, description, tags)
    if metadata is not None:
        fields["metadata"] = msgspec.json.encode(metadata).decode()
    return Upload(source, filename=filename, fields=fields, progress=progress)


def _upload_fields(title: str | None, description: str | None, tags: list[str] | None) -> dict[str, str]:
    """The text fields of an upload (multipart parts, or a resumable upload's metadata); tags comma-separated."""
    if tags is not None and any("," in tag for tag in tags):
        raise ValueError("a tag cannot contain a comma (the upload form sends tags comma-separated)")
    fields = {"title": title, "description": description, "tags": ",".join(tags) if tags is not None else None}
    return {k: v for k, v in fields.items() if v is not None}


def sign_upload(
    *, expires_in: int | None = None, max_size: int | None = None, collection_id: str | None = None
) -> Call[SignedUpload]:
    """``POST /uploads/signed`` → :class:`SignedUpload`: a URL that takes one upload into the caller's account
    without credentials (hand it to a browser, a partner, a script). ``url`` and ``token`` are shown only here.

    Args:
        expires_in: seconds the URL lives, 60-86400 (server default 3600).
        max_size: largest file it takes, in bytes (server default and maximum: its ``max_upload_size``).
        collection_id: one of the caller's collections the upload is added to.

    Raises:
        ValidationError: ``expires_in`` out of range, ``max_size`` over the server's limit.
        NotFound: ``collection_id`` is not the caller's.
    """
    body = {"expires_in": expires_in, "max_size": max_size, "collection_id": collection_id}
    body = {k: v for k, v in body.items() if v is not None}
    return Call("POST", "/uploads/signed", data_of(SignedUpload), 201, json=body)


def upload_signed(
    token: str,
    source: Source,
    *,
    filename: str | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    progress: Progress | None = None,
) -> Call[Media]:
    """``POST /uploads/signed/{token}`` (no account needed) → the new :class:`Media`, the signer's; arguments as
    :meth:`upload`. The URL is spent.

    Args:
        token: the :class:`SignedUpload`'s ``token`` (or the last segment of its ``url``).

    Raises:
        NotFound: unknown, expired or already used URL.
        PayloadTooLarge: the file is over the URL's ``max_size`` (nothing kept; the URL can be used again).
    """
    body = _upload_body(source, filename, title, description, tags, None, progress)
    return Call("POST", f"/uploads/signed/{_id(token)}", data_of(Media), 201, upload=body, authenticated=False)


def upload_to_share(
    token: str,
    source: Source,
    *,
    password: str | None = None,
    filename: str | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    progress: Progress | None = None,
) -> Call[SharedMedia]:
    """``POST /s/{token}/upload`` (no account needed) → the new item as the link shows it, a :class:`SharedMedia`
    (no ``owner_id``; ``content_url`` is the link's URL for its bytes): added to the shared collection and owned
    by the collection's owner. Arguments as :meth:`upload`.

    Raises:
        Unauthorized: the link has a password and ``password`` is missing or wrong.
        Forbidden: the link was not made with ``allow_upload=True``.
        NotFound: unknown, expired or deleted link.
        PayloadTooLarge: the file is over the server's ``max_upload_size`` (nothing kept).
    """
    body = _upload_body(source, filename, title, description, tags, None, progress)
    path = f"/s/{_id(token)}/upload"
    answer: Callable[[httpx.Response], SharedMedia] = data_of(SharedMedia)
    return Call("POST", path, answer, 201, headers=_password(password), upload=body, authenticated=False)


def replace_content(
    media_id: str,
    source: Source,
    *,
    filename: str | None = None,
    title: str | None = None,
    description: str | None = None,
    tags: list[str] | None = None,
    metadata: dict[str, Any] | None = None,
    progress: Progress | None = None,
    resumable: bool | None = None,
    chunk_size: int = CHUNK_SIZE,
    resume_file: str | os.PathLike[str] | None = None,
) -> Call[Media] | Flow[Media]:
    """``PUT /media/{id}/content`` → the :class:`Media` with new bytes (same id, collections and shares; ``version``
    + 1, the previous bytes kept as a version). Arguments as :meth:`upload`; fields given replace the item's. A file
    of :data:`RESUMABLE_THRESHOLD` (64 MiB) or more (``resumable=``) goes in resumable chunks through ``/uploads``
    naming the item (``Upload-Metadata`` ``media_id``), with the same outcome; written down in ``resume_file`` under
    the file and the item's id, so calling ``replace_content`` again for the same file and item continues where the
    server got, and never continues an upload of the file as a new item or as another item's bytes.

    Raises:
        NotFound: as :meth:`get_media` (also when the item is deleted before a resumable upload's last byte).
        PayloadTooLarge, ValidationError, ValueError: as :meth:`upload` (nothing changes).
    """
    fields = (filename, title, description, tags, metadata, progress)
    if flow := _resumable(source, *fields, resumable, chunk_size, resume_file, media_id=media_id):
        return flow
    return Call("PUT", f"/media/{_id(media_id)}/content", data_of(Media), upload=_upload_body(source, *fields))


def list_versions(media_id: str) -> Call[list[MediaVersion]]:
    """``GET /media/{id}/versions`` → every kept :class:`MediaVersion`, newest (the current one) first.

    Raises:
        NotFound: as :meth:`get_media`.
    """
    return Call("GET", f"/media/{_id(media_id)}/versions", data_of(list[MediaVersion]))


def download_version(
    media_id: str, version: int, destination: Destination, *, progress: Progress | None = None
) -> Call[int]:
    """``GET /media/{id}/versions/{version}/content`` streamed to ``destination`` as in :meth:`download`; returns the
    byte count.

    Raises:
        NotFound: as :meth:`get_media`, or no such version kept.
    """
    sink = Download(destination, progress)
    return Call("GET", f"/media/{_id(media_id)}/versions/{int(version)}/content", None, download=sink)


def restore_version(media_id: str, version: int) -> Call[Media]:
    """``POST /media/{id}/versions/{version}/restore`` → the :class:`Media`, whose new current version has a copy of
    that version's bytes.

    Raises:
        NotFound: as :meth:`download_version`.
    """
    return Call("POST", f"/media/{_id(media_id)}/versions/{int(version)}/restore", data_of(Media))


def list_trash(*, page: int = 1, per_page: int = 20) -> Call[Page[TrashedMedia]]:
    """``GET /trash`` → a :class:`Page` of the caller's deleted :class:`TrashedMedia` (``deleted_at``,
    ``purge_at``), most recently deleted first (the server's ``trash_retention_days`` > 0)."""
    return Call("GET", "/trash", page_of(TrashedMedia), params={"page": page, "per_page": per_page})


def restore_media(media_id: str) -> Call[Media]:
    """``POST /trash/{id}/restore`` → the :class:`Media`, back where it was (collections, shares).

    Raises:
        NotFound: not in the caller's trash.
    """
    return Call("POST", f"/trash/{_id(media_id)}/restore", data_of(Media))


def purge_media(media_id: str) -> Call[None]:
    """``DELETE /trash/{id}``: a deleted item and its bytes go now.

    Raises:
        NotFound: not in the caller's trash.
    """
    return Call("DELETE", f"/trash/{_id(media_id)}", no_content, 204)


def empty_trash() -> Call[None]:
    """``DELETE /trash``: every deleted item of the caller and its bytes go now."""
    return Call("DELETE", "/trash", no_content, 204)


def get_media(media_id: str) -> Call[Media]:
    """``GET /media/{id}`` → :class:`Media`.

    Raises:
        NotFound: unknown or malformed id, or someone else's media.
    """
    return Call("GET", f"/media/{_id(media_id)}", data_of(Media))


def list_media(
    *,
    page: int = 1,
    per_page: int = 20,
    type: Kind | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: Sort | None = None,
    checksum_sha256: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Call[Page[Media]]:
    """``GET /media`` → a :class:`Page` of the caller's :class:`Media`.

    Args:
        page, per_page: 1-based page, 1-100 items.
        type: ``image``, ``video``, ``audio``, ``document`` or ``other``.
        tag: exact tag (case-insensitive).
        q: substring of filename, title or description (case-insensitive).
        sort: ``created_at``, ``filename`` or ``size``, ``-`` first for descending (default ``-created_at``).
        checksum_sha256: only media with this content (SHA-256, 64 hex digits).
        metadata: only media whose custom metadata has each ``key: value`` (values compared as strings).

    Raises:
        ValidationError: a value out of range or not in its set.
    """
    params = _media_params(page, per_page, type, tag, sort, checksum_sha256, metadata, q=q)
    return Call("GET", "/media", page_of(Media), params=params)


def _media_params(
    page: int,
    per_page: int,
    type: Kind | None,
    tag: str | None,
    sort: Sort | None,
    checksum_sha256: str | None,
    metadata: dict[str, str] | None,
    *,
    q: str | None,
) -> dict[str, object]:
    """The query of the media listings (``GET /media``, ``/search``, ``/collections/{id}/media``); each
    ``metadata`` item is a ``metadata.<key>=<value>`` parameter (``None`` values are left out when sent)."""
    filters = {f"metadata.{key}": value for key, value in (metadata or {}).items()}
    return {
        "page": page,
        "per_page": per_page,
        "type": type,
        "tag": tag,
        "q": q,
        "sort": sort,
        "checksum_sha256": checksum_sha256,
        **filters,
    }


def update_media(
    media_id: str,
    *,
    title: str | UnsetType | None = UNSET,
    description: str | UnsetType | None = UNSET,
    tags: list[str] | UnsetType = UNSET,
    metadata: dict[str, Any] | UnsetType = UNSET,
) -> Call[Media]:
    """``PATCH /media/{id}`` → the updated :class:`Media`; arguments left out are not changed, ``None`` clears.
    ``metadata`` is a JSON merge patch (RFC 7396) of the custom metadata: ``None`` values remove keys.

    Raises:
        NotFound: as :meth:`get_media`.
    """
    body = _drop_unset(title=title, description=description, tags=tags, metadata=metadata)
    return Call("PATCH", f"/media/{_id(media_id)}", data_of(Media), json=body)


def delete_media(media_id: str) -> Call[None]:
    """``DELETE /media/{id}``: the media, its bytes and its collection memberships go (into the trash, restorable,
    when the server keeps one: ``trash_retention_days``).

    Raises:
        NotFound: as :meth:`get_media`.
    """
    return Call("DELETE", f"/media/{_id(media_id)}", no_content, 204)


def download(
    media_id: str,
    destination: Destination,
    *,
    byte_range: ByteRange | None = None,
    progress: Progress | None = None,
) -> Call[int]:
    """``GET /media/{id}/content`` streamed to ``destination``; returns the number of bytes written.

    Args:
        destination: a path (written to a temporary file beside it and renamed when complete, so it never holds
            half a file) or a binary file object.
        byte_range: only these bytes (``Range``, RFC 9110 §14.2): ``(first, last)``, both inclusive and 0-based;
            ``(first, None)`` to the end; ``(-n, None)`` the last ``n`` bytes. The answer is 206 Partial Content.
        progress: ``progress(bytes_received, total_or_None)`` after each chunk.

    Raises:
        NotFound: as :meth:`get_media`.
        RangeNotSatisfiable: ``byte_range`` starts past the end of the file.
    """
    sink = Download(destination, progress)
    headers, expect = _range(byte_range)
    return Call("GET", f"/media/{_id(media_id)}/content", None, expect, headers=headers, download=sink)


def download_thumbnail(
    media_id: str, destination: Destination, *, size: int | None = None, progress: Progress | None = None
) -> Call[int]:
    """``GET /media/{id}/thumbnail?size=`` streamed to ``destination`` as in :meth:`download`; returns the byte count.

    Args:
        size: one of the server's ``thumbnail_sizes`` (pixels on the longer side; default: the smallest).

    Raises:
        NotFound: not an image, not processed yet (see :meth:`get_metadata`), or processing failed.
        ValidationError: ``size`` is not one of the server's sizes.
    """
    sink = Download(destination, progress)
    return Call("GET", f"/media/{_id(media_id)}/thumbnail", None, params={"size": size}, download=sink)


def get_metadata(media_id: str) -> Call[MediaProcessing]:
    """``GET /media/{id}/metadata`` → :class:`MediaProcessing`: ``status`` (``pending``, ``done``, ``failed``), what
    each processor found (``metadata``, e.g. ``{"image": {"width", "height", "orientation", "captured_at", ...}}``;
    never the GPS position), their ``errors`` and the item's ``variants`` (thumbnails with their ``url``).

    Raises:
        NotFound: as :meth:`get_media`.
    """
    return Call("GET", f"/media/{_id(media_id)}/metadata", data_of(MediaProcessing))


def reprocess(media_id: str) -> Call[MediaProcessing]:
    """``POST /media/{id}/reprocess`` → :class:`MediaProcessing`, now ``pending``: process the item again from
    scratch (e.g. it ``failed`` while the server's storage was full).

    Raises:
        NotFound: as :meth:`get_media`.
    """
    return Call("POST", f"/media/{_id(media_id)}/reprocess", data_of(MediaProcessing), 202)


def search(
    q: str,
    *,
    page: int = 1,
    per_page: int = 20,
    type: Kind | None = None,
    tag: str | None = None,
    sort: Sort | None = None,
    checksum_sha256: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Call[Page[Media]]:
    """``GET /search`` → a :class:`Page` of the caller's :class:`Media` whose words start with every word of ``q``
    (filename, title, description, tags); the other filters as in :meth:`list_media`.

    ``metadata`` filters as in :meth:`list_media`.

    Raises:
        ValidationError: ``q`` empty or blank.
    """
    params = _media_params(page, per_page, type, tag, sort, checksum_sha256, metadata, q=q)
    return Call("GET", "/search", page_of(Media), params=params)


# ----------------------------------------------------------------------------------------------- collections


def create_collection(name: str, description: str | None = None) -> Call[Collection]:
    """``POST /collections`` → the new :class:`Collection`."""
    body = {"name": name, "description": description}
    return Call("POST", "/collections", data_of(Collection), 201, json=body)


def list_collections(*, page: int = 1, per_page: int = 20) -> Call[Page[Collection]]:
    """``GET /collections`` → a :class:`Page` of the caller's :class:`Collection` (newest first)."""
    return Call("GET", "/collections", page_of(Collection), params={"page": page, "per_page": per_page})


def get_collection(collection_id: str) -> Call[Collection]:
    """``GET /collections/{id}`` → :class:`Collection`.

    Raises:
        NotFound: unknown id, or someone else's collection.
    """
    return Call("GET", f"/collections/{_id(collection_id)}", data_of(Collection))


def update_collection(
    collection_id: str, *, name: str | UnsetType = UNSET, description: str | UnsetType | None = UNSET
) -> Call[Collection]:
    """``PATCH /collections/{id}`` → the updated :class:`Collection` (``description=None`` clears it)."""
    body = _drop_unset(name=name, description=description)
    return Call("PATCH", f"/collections/{_id(collection_id)}", data_of(Collection), json=body)


def delete_collection(collection_id: str) -> Call[None]:
    """``DELETE /collections/{id}``: the collection and its share links go, its media stay."""
    return Call("DELETE", f"/collections/{_id(collection_id)}", no_content, 204)


def add_to_collection(collection_id: str, media_ids: list[str]) -> Call[Collection]:
    """``POST /collections/{id}/media`` → the :class:`Collection`; idempotent, all or nothing (1-1000 ids).

    Raises:
        NotFound: the collection, or any of the media, is not the caller's (then nothing is added).
    """
    body = {"media_ids": list(media_ids)}
    return Call("POST", f"/collections/{_id(collection_id)}/media", data_of(Collection), json=body)


def list_collection_media(
    collection_id: str,
    *,
    page: int = 1,
    per_page: int = 20,
    type: Kind | None = None,
    tag: str | None = None,
    q: str | None = None,
    sort: Sort | None = None,
    checksum_sha256: str | None = None,
    metadata: dict[str, str] | None = None,
) -> Call[Page[Media]]:
    """``GET /collections/{id}/media`` → a :class:`Page` of its :class:`Media`, with the filters of
    :meth:`list_media`."""
    params = _media_params(page, per_page, type, tag, sort, checksum_sha256, metadata, q=q)
    return Call("GET", f"/collections/{_id(collection_id)}/media", page_of(Media), params=params)


def remove_from_collection(collection_id: str, media_id: str) -> Call[None]:
    """``DELETE /collections/{id}/media/{media_id}`` (the media itself stays).

    Raises:
        NotFound: the media is not in the collection.
    """
    return Call("DELETE", f"/collections/{_id(collection_id)}/media/{_id(media_id)}", no_content, 204)


# ----------------------------------------------------------------------------------------------- shares


class _PublicShare(msgspec.Struct):
    type: Literal["media", "collection"]
    media: SharedMedia | list[SharedMedia]
    collection: SharedCollection | None = None


class _PublicMeta(msgspec.Struct):
    pagination: Pagination | None = None


class _PublicEnvelope(msgspec.Struct):
    data: _PublicShare
    meta: _PublicMeta


_public = msgspec.json.Decoder(_PublicEnvelope)


def _opened(response: httpx.Response) -> OpenedShare:
    envelope = decode_answer(_public, response)
    data = envelope.data
    if isinstance(data.media, list):
        return OpenedShare(
            type=data.type, collection=data.collection, items=data.media, pagination=envelope.meta.pagination
        )
    return OpenedShare(type=data.type, media=data.media)


def _password(password: str | None) -> dict[str, str]:
    return {"X-Share-Password": password} if password is not None else {}


def create_share(
    *,
    media_id: str | None = None,
    collection_id: str | None = None,
    expires_in: int | None = None,
    password: str | None = None,
    allow_download: bool = True,
    allow_upload: bool = False,
) -> Call[Share]:
    """``POST /shares`` → :class:`Share` with ``token`` and ``url``, shown only in this answer.

    Args:
        media_id, collection_id: exactly one, the caller's.
        expires_in: seconds until the link dies (``None``: never).
        password: 8-1024 characters, then required as ``X-Share-Password``.
        allow_download: ``False`` refuses the content endpoints (403).
        allow_upload: a collection link that takes uploads from whoever holds it (:meth:`upload_to_share`).

    Raises:
        ValidationError: both or neither target given, or a bad ``expires_in``/``password``.
        NotFound: the target is not the caller's.
    """
    body = {
        "media_id": media_id,
        "collection_id": collection_id,
        "expires_in": expires_in,
        "password": password,
        "allow_download": allow_download,
        "allow_upload": allow_upload or None,
    }
    body = {k: v for k, v in body.items() if v is not None}
    return Call("POST", "/shares", data_of(Share), 201, json=body)


def list_shares(*, page: int = 1, per_page: int = 20) -> Call[Page[Share]]:
    """``GET /shares`` → a :class:`Page` of the caller's :class:`Share` (newest first; ``token``/``url`` ``None``)."""
    return Call("GET", "/shares", page_of(Share), params={"page": page, "per_page": per_page})


def delete_share(share_id: str) -> Call[None]:
    """``DELETE /shares/{id}``: the link is dead at once."""
    return Call("DELETE", f"/shares/{_id(share_id)}", no_content, 204)


def open_share(token: str, *, password: str | None = None, page: int = 1, per_page: int = 20) -> Call[OpenedShare]:
    """``GET /s/{token}`` (no account needed) → :class:`OpenedShare`.

    Raises:
        Unauthorized: the link has a password and ``password`` is missing or wrong.
        NotFound: unknown, expired or deleted link.
    """
    params = {"page": page, "per_page": per_page}
    return Call("GET", f"/s/{_id(token)}", _opened, params=params, headers=_password(password), authenticated=False)


def download_shared(
    token: str,
    destination: Destination,
    *,
    media_id: str | None = None,
    password: str | None = None,
    byte_range: ByteRange | None = None,
    progress: Progress | None = None,
) -> Call[int]:
    """The bytes behind a share link (``GET /s/{token}/content``, or ``/s/{token}/media/{media_id}/content`` for a
    media of a collection link) streamed to ``destination`` as in :meth:`download` (``byte_range`` too); returns
    the byte count.

    Raises:
        Unauthorized: missing or wrong ``password``.
        Forbidden: the link was made with ``allow_download=False``.
        NotFound: unknown, expired or deleted link, or a media not in the shared collection.
    """
    path = f"/s/{_id(token)}/content" if media_id is None else f"/s/{_id(token)}/media/{_id(media_id)}/content"
    sink = Download(destination, progress)
    ranged, expect = _range(byte_range)
    headers = _password(password) | ranged
    return Call("GET", path, None, expect, headers=headers, download=sink, authenticated=False)


# ----------------------------------------------------------------------------------------------- webhooks


def create_webhook(url: str, events: list[str], description: str | None = None) -> Call[WebhookCreated]:
    """``POST /webhooks`` → :class:`WebhookCreated`, whose ``secret`` (``whsec_...``) is shown only here.

    Raises:
        ValidationError: a URL that is not http(s) or points at a private address, or an unknown event name.
    """
    body = {"url": url, "events": list(events), "description": description}
    return Call("POST", "/webhooks", data_of(WebhookCreated), 201, json=body)


def list_webhooks(*, page: int = 1, per_page: int = 20) -> Call[Page[Webhook]]:
    """``GET /webhooks`` → a :class:`Page` of the caller's :class:`Webhook` (newest first)."""
    return Call("GET", "/webhooks", page_of(Webhook), params={"page": page, "per_page": per_page})


def get_webhook(webhook_id: str) -> Call[Webhook]:
    """``GET /webhooks/{id}`` → :class:`Webhook`."""
    return Call("GET", f"/webhooks/{_id(webhook_id)}", data_of(Webhook))


def update_webhook(
    webhook_id: str,
    *,
    url: str | UnsetType = UNSET,
    events: list[str] | UnsetType = UNSET,
    description: str | UnsetType | None = UNSET,
    active: bool | UnsetType = UNSET,
) -> Call[Webhook]:
    """``PATCH /webhooks/{id}`` → the updated :class:`Webhook` (``active=True`` re-enables a disabled one)."""
    body = _drop_unset(url=url, events=events, description=description, active=active)
    return Call("PATCH", f"/webhooks/{_id(webhook_id)}", data_of(Webhook), json=body)


def delete_webhook(webhook_id: str) -> Call[None]:
    """``DELETE /webhooks/{id}`` (its delivery log goes with it)."""
    return Call("DELETE", f"/webhooks/{_id(webhook_id)}", no_content, 204)


def list_deliveries(webhook_id: str, *, page: int = 1, per_page: int = 20) -> Call[Page[Delivery]]:
    """``GET /webhooks/{id}/deliveries`` → a :class:`Page` of :class:`Delivery` attempts, newest first."""
    params = {"page": page, "per_page": per_page}
    return Call("GET", f"/webhooks/{_id(webhook_id)}/deliveries", page_of(Delivery), params=params)


# ----------------------------------------------------------------------------------------------- admin


def list_users(*, q: str | None = None, page: int = 1, per_page: int = 20) -> Call[Page[AdminUser]]:
    """``GET /admin/users`` (admins) → a :class:`Page` of :class:`AdminUser` (oldest first); ``q``: in email or display
    name.

    Raises:
        Forbidden: the caller is not an admin.
    """
    return Call("GET", "/admin/users", page_of(AdminUser), params={"q": q, "page": page, "per_page": per_page})


def get_user(user_id: str) -> Call[AdminUser]:
    """``GET /admin/users/{id}`` (admins) → :class:`AdminUser`.

    Raises:
        Forbidden: the caller is not an admin.
        NotFound: no such user.
    """
    return Call("GET", f"/admin/users/{_id(user_id)}", data_of(AdminUser))


def update_user(
    user_id: str,
    *,
    disabled: bool | UnsetType = UNSET,
    role: Literal["user", "admin"] | UnsetType = UNSET,
    quota_bytes: int | UnsetType | None = UNSET,
) -> Call[AdminUser]:
    """``PATCH /admin/users/{id}`` (admins) → the updated :class:`AdminUser`. ``disabled=True`` ends the user's
    logins and refuses their keys at once; ``quota_bytes=None``: unlimited.

    Raises:
        Forbidden: the caller is not an admin.
        NotFound: no such user.
        ValidationError: disabling or demoting yourself, a negative quota.
    """
    body = _drop_unset(disabled=disabled, role=role, quota_bytes=quota_bytes)
    return Call("PATCH", f"/admin/users/{_id(user_id)}", data_of(AdminUser), json=body)


def list_audit_events(
    *,
    action: str | None = None,
    actor_id: str | None = None,
    since: dt.datetime | None = None,
    until: dt.datetime | None = None,
    page: int = 1,
    per_page: int = 20,
) -> Call[Page[AuditEvent]]:
    """``GET /admin/audit`` (admins) → a :class:`Page` of :class:`AuditEvent`, newest first, filtered by ``action``,
    ``actor_id`` and the time window (``since`` inclusive, ``until`` exclusive).

    Raises:
        Forbidden: the caller is not an admin.
        ValidationError: an unknown action.
    """
    params = {
        "action": action,
        "actor_id": actor_id,
        "since": since.isoformat() if since is not None else None,
        "until": until.isoformat() if until is not None else None,
        "page": page,
        "per_page": per_page,
    }
    return Call("GET", "/admin/audit", page_of(AuditEvent), params=params)
