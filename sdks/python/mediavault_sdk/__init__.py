"""Python SDK of the Media Vault HTTP API: a blocking :class:`Client` and an asyncio :class:`AsyncClient`.

.. code-block:: python

    from mediavault_sdk import Client

    with Client("http://127.0.0.1:8080") as vault:
        vault.login("ada@example.com", "correct horse battery")
        media = vault.upload("photo.jpg", tags=["beach"], progress=lambda sent, total: print(sent, total))
        for item in vault.iter_media(tag="beach"):
            print(item.id, item.filename, item.size)
        vault.download(media.id, "copy.jpg")

Both clients have the same methods with the same arguments (the async ones are awaited, ``iter_*`` are async
iterators); each endpoint is described once in :mod:`mediavault_sdk._endpoints`. Answers are msgspec Structs
(:mod:`mediavault_sdk.types`: :class:`Media`, :class:`User`, ...), list endpoints return a :class:`Page`.
Errors are one class per ``error.code`` of the envelope (:mod:`mediavault_sdk.errors`), with ``message``,
``details`` (``[{"field", "message"}]``) and ``request_id``; network failures raise :class:`httpx.TransportError`.
The realtime WebSocket client is :mod:`mediavault_sdk.realtime` (``pip install "mediavault-sdk[realtime]"``).

Needs only httpx and msgspec.
"""

from mediavault_sdk._async import AsyncClient
from mediavault_sdk._core import Credentials
from mediavault_sdk._endpoints import ByteRange
from mediavault_sdk._sync import Client
from mediavault_sdk._transfer import Destination, Progress, Source
from mediavault_sdk.errors import (
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    QuotaExceeded,
    RangeNotSatisfiable,
    RateLimited,
    RequestTimeout,
    ServiceUnavailable,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
    VaultError,
)
from mediavault_sdk.types import (
    AdminUser,
    ApiKey,
    ApiKeyCreated,
    AuditEvent,
    Collection,
    Delivery,
    Health,
    Media,
    MediaProcessing,
    OpenedShare,
    Page,
    Pagination,
    PaginationLinks,
    Share,
    SharedCollection,
    SharedMedia,
    SignedUpload,
    TokenPair,
    Usage,
    User,
    Variant,
    Webhook,
    WebhookCreated,
)

__all__ = (
    "AdminUser",
    "ApiKey",
    "ApiKeyCreated",
    "AsyncClient",
    "AuditEvent",
    "ByteRange",
    "Client",
    "Collection",
    "Conflict",
    "Credentials",
    "Delivery",
    "Destination",
    "Forbidden",
    "Health",
    "Media",
    "MediaProcessing",
    "MethodNotAllowed",
    "NotFound",
    "OpenedShare",
    "Page",
    "Pagination",
    "PaginationLinks",
    "PayloadTooLarge",
    "Progress",
    "QuotaExceeded",
    "RangeNotSatisfiable",
    "RateLimited",
    "RequestTimeout",
    "ServiceUnavailable",
    "Share",
    "SharedCollection",
    "SharedMedia",
    "SignedUpload",
    "Source",
    "TokenPair",
    "Unauthorized",
    "UnsupportedMediaType",
    "Usage",
    "User",
    "ValidationError",
    "Variant",
    "VaultError",
    "Webhook",
    "WebhookCreated",
)
