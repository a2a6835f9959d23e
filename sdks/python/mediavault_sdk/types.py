"""The answers of the Media Vault API as msgspec Structs (the ``data`` of the contract's envelopes).

Unknown fields are ignored when decoding, so a newer server does not break an older SDK. These are the one
declaration of the answers' fields: the server's answer shapes (``MediaOut``... in ``mediavault.domain``) derive
from them and add only how to build one from a row.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, Generic, Literal, TypeVar

import msgspec

__all__ = (
    "AdminUser",
    "ApiKey",
    "ApiKeyCreated",
    "AuditEvent",
    "Collection",
    "Delivery",
    "Health",
    "Kind",
    "Media",
    "MediaProcessing",
    "MediaVersion",
    "OpenedShare",
    "Page",
    "Pagination",
    "PaginationLinks",
    "Share",
    "SharedCollection",
    "SharedMedia",
    "SignedUpload",
    "TrashedMedia",
    "Sort",
    "TokenPair",
    "Usage",
    "User",
    "Variant",
    "Webhook",
    "WebhookCreated",
)

T = TypeVar("T")

Kind = Literal["image", "video", "audio", "document", "other"]
"""A media item's ``type``, derived from its sniffed content type."""
Sort = Literal["created_at", "-created_at", "filename", "-filename", "size", "-size"]
"""Orders of media lists (``-`` first for descending)."""


class Health(msgspec.Struct):
    """``GET /health``: ``status`` is ``ok`` or ``degraded``; ``checks`` maps each dependency to ``ok``/``error``."""

    status: str
    checks: dict[str, str]


class TokenPair(msgspec.Struct):
    """A login's tokens; ``expires_in`` / ``refresh_expires_in`` in seconds."""

    token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str = "Bearer"  # noqa: S105 - the OAuth 2 token type, not a secret


class User(msgspec.Struct):
    """An account (``role`` is ``user`` or ``admin``)."""

    id: str
    email: str
    display_name: str | None
    role: str
    created_at: dt.datetime
    updated_at: dt.datetime


class Usage(msgspec.Struct):
    """What a user stores: ``used_bytes`` (each stored blob once, versions and trash included), their
    ``quota_bytes`` (``None``: unlimited) and ``media_count``."""

    used_bytes: int
    quota_bytes: int | None
    media_count: int


class AdminUser(User):
    """A user as an admin sees it: :class:`User`'s fields plus ``disabled``, ``quota_bytes`` (``None``: unlimited)
    and ``used_bytes``."""

    disabled: bool
    quota_bytes: int | None
    used_bytes: int


class ApiKey(msgspec.Struct):
    """An API key as listed: only its first 12 characters (``prefix``), never the key; the ``scopes`` it may use,
    when it expires (``None``: never) and when it last authenticated a request (to the minute)."""

    id: str
    name: str
    prefix: str
    created_at: dt.datetime
    scopes: list[str]
    expires_at: dt.datetime | None
    last_used_at: dt.datetime | None


class ApiKeyCreated(ApiKey):
    """A new API key: :class:`ApiKey`'s fields plus ``key`` (``mvk_...``), shown this once and never again."""

    key: str


class AuditEvent(msgspec.Struct):
    """One line of the audit log: ``action`` (e.g. ``auth.login``) by ``actor_id`` on ``target_type``/``target_id``,
    from ``ip`` with ``user_agent``, and ``details``."""

    id: str
    action: str
    actor_id: str | None
    target_type: str | None
    target_id: str | None
    ip: str | None
    user_agent: str | None
    details: dict[str, Any]
    created_at: dt.datetime


class Media(msgspec.Struct):
    """A media item; ``width``/``height`` are ``None`` unless it is an image, ``size`` is in bytes; ``version`` counts
    its bytes (1 at upload, + 1 per replacement); ``metadata`` is the owner's JSON object."""

    id: str
    filename: str
    content_type: str
    type: str
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
    content_url: str
    version: int = 1
    metadata: dict[str, Any] = msgspec.field(default_factory=dict)


class MediaVersion(msgspec.Struct):
    """One version of a media item's bytes (``GET /media/{id}/versions``, newest first); ``current`` marks the one
    the item serves now."""

    version: int
    size: int
    checksum_sha256: str
    content_type: str
    created_at: dt.datetime
    current: bool


class TrashedMedia(Media, kw_only=True):
    """A media item in the trash (``GET /trash``): deleted at ``deleted_at``, purged with its bytes at ``purge_at``."""

    deleted_at: dt.datetime
    purge_at: dt.datetime


class Variant(msgspec.Struct):
    """A derived file of an item (a thumbnail: ``url`` serves it; the share copy has none)."""

    name: str
    content_type: str
    size: int
    width: int | None
    height: int | None
    url: str | None


class MediaProcessing(msgspec.Struct):
    """``GET /media/{id}/metadata``: ``status`` (``pending``, ``done``, ``failed``), what each processor found
    (``metadata``, e.g. ``{"image": {"width", "height", "orientation", ...}}``; never the GPS position), the
    processors' ``errors`` and the item's ``variants``."""

    media_id: str
    status: Literal["pending", "done", "failed"]
    processed_at: dt.datetime | None
    metadata: dict[str, dict[str, Any]]
    errors: dict[str, str]
    variants: list[Variant]


class Collection(msgspec.Struct):
    """A collection; ``media_count`` is its number of media right now."""

    id: str
    name: str
    description: str | None
    owner_id: str
    media_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Share(msgspec.Struct):
    """A share link as its owner sees it; ``token`` and ``url`` only in the answer that created it."""

    id: str
    token: str | None
    url: str | None
    expires_at: dt.datetime | None
    allow_download: bool
    has_password: bool
    media_id: str | None
    collection_id: str | None
    created_at: dt.datetime
    allow_upload: bool = False
    """A collection link that takes uploads from whoever holds it (and its password)."""


class SignedUpload(msgspec.Struct):
    """A signed upload URL: whoever holds ``url`` may upload one file of at most ``max_size`` bytes into the
    signer's account (and ``collection_id``, when given) without credentials until ``expires_at``. Shown only in
    the answer that created it."""

    url: str
    token: str
    expires_at: dt.datetime
    max_size: int
    collection_id: str | None


class SharedMedia(msgspec.Struct):
    """A media item as a share link shows it: :class:`Media` without ``owner_id``, describing the file the link
    serves (an image's metadata-free copy: its ``filename``, ``content_type``, ``size``, ``checksum_sha256``,
    ``width`` and ``height``). ``size`` and ``checksum_sha256`` are ``None`` for an image the link refuses to serve
    (it cannot be shown without its metadata)."""

    id: str
    filename: str
    content_type: str
    type: str
    size: int | None
    checksum_sha256: str | None
    width: int | None
    height: int | None
    title: str | None
    description: str | None
    tags: list[str]
    created_at: dt.datetime
    updated_at: dt.datetime
    content_url: str


class SharedCollection(msgspec.Struct):
    """A collection as a share link shows it: :class:`Collection` without ``owner_id``."""

    id: str
    name: str
    description: str | None
    media_count: int
    created_at: dt.datetime
    updated_at: dt.datetime


class Webhook(msgspec.Struct):
    """A webhook endpoint (never its secret); ``disabled_reason``/``disabled_at`` say why and when it stopped."""

    id: str
    url: str
    events: list[str]
    description: str | None
    active: bool
    disabled_reason: str | None
    disabled_at: dt.datetime | None
    consecutive_failures: int
    created_at: dt.datetime
    updated_at: dt.datetime


class WebhookCreated(Webhook):
    """A new endpoint and its signing ``secret`` (``whsec_<base64>``), shown only in this answer."""

    secret: str


class Delivery(msgspec.Struct):
    """One attempt of a webhook's delivery log (``status``: ``pending``, ``succeeded`` or ``failed``)."""

    id: str
    event_id: str
    event: str
    attempt: int
    status: Literal["pending", "succeeded", "failed"]
    response_status: int | None
    duration_ms: int | None
    error: str | None
    created_at: dt.datetime
    next_attempt_at: dt.datetime | None
    attempted_at: dt.datetime | None


class PaginationLinks(msgspec.Struct):
    """Links to the neighbouring pages, relative to the mount prefix; ``None`` where there is none."""

    next: str | None
    prev: str | None


class Pagination(msgspec.Struct):
    """``meta.pagination`` of a list answer."""

    total: int
    count: int
    per_page: int
    current_page: int
    total_pages: int
    links: PaginationLinks


class Page(msgspec.Struct, Generic[T]):
    """One page of a list endpoint: its ``items`` and ``pagination`` (``total``, ``links.next``...)."""

    items: list[T]
    pagination: Pagination


class OpenedShare(msgspec.Struct, kw_only=True):
    """What ``GET /s/{token}`` shows anyone holding the link.

    Attributes:
        type: ``"media"`` or ``"collection"``.
        media: the shared :class:`SharedMedia` (a media link), else ``None``.
        collection: the shared :class:`SharedCollection` (a collection link), else ``None``.
        items: one page of the collection's media (empty for a media link); their ``content_url`` is the link's.
        pagination: that page's pagination (``None`` for a media link).
    """

    type: Literal["media", "collection"]
    media: SharedMedia | None = None
    collection: SharedCollection | None = None
    items: list[SharedMedia] = []
    pagination: Pagination | None = None
