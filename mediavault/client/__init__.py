"""Python SDK of the Media Vault HTTP API: a blocking :class:`Client` and an asyncio :class:`AsyncClient`.

.. code-block:: python

    from mediavault.client import Client

    with Client("http://127.0.0.1:8080") as vault:
        vault.login("ada@example.com", "correct horse battery")
        media = vault.upload("photo.jpg", tags=["beach"], progress=lambda sent, total: print(sent, total))
        for item in vault.iter_media(tag="beach"):
            print(item.id, item.filename, item.size)
        vault.download(media.id, "copy.jpg")

Both clients have the same methods with the same arguments (the async ones are awaited, ``iter_*`` are async
iterators); each endpoint is described once in :mod:`mediavault.client._endpoints`. Answers are msgspec Structs
(:class:`Media`, :class:`User`, ...; the server's own wire shapes), list endpoints return a :class:`Page`.

Errors are the vault's own exception tree (:mod:`mediavault.errors`), one class per ``error.code`` of the envelope,
with ``message``, ``details`` (``[{"field", "message"}]``) and ``request_id``::

    VaultError                  any other error (500 internal_error, 503, unknown codes)
    ├── ValidationError         400 validation_error
    ├── Unauthorized            401 unauthorized
    ├── Forbidden               403 forbidden
    ├── NotFound                404 not_found
    ├── MethodNotAllowed        405 method_not_allowed
    ├── Conflict                409 conflict
    ├── PayloadTooLarge         413 payload_too_large
    ├── UnsupportedMediaType    415 unsupported_media_type
    ├── RangeNotSatisfiable     416 range_not_satisfiable
    └── RateLimited             429 rate_limited (.retry_after: seconds)

Network failures raise :class:`httpx.TransportError` (``httpx.ConnectError``, ``httpx.TimeoutException``...).
"""

from mediavault.client._async import AsyncClient
from mediavault.client._core import Credentials, Page
from mediavault.client._endpoints import OpenedShare
from mediavault.client._sync import Client
from mediavault.client._transfer import Destination, Progress, Source
from mediavault.domain.api_keys.schemas import ApiKeyCreated
from mediavault.domain.api_keys.schemas import ApiKeyOut as ApiKey
from mediavault.domain.auth.schemas import TokenPair
from mediavault.domain.collections.schemas import CollectionOut as Collection
from mediavault.domain.media.schemas import MediaOut as Media
from mediavault.domain.media.schemas import MediaProcessingOut as MediaProcessing
from mediavault.domain.media.schemas import VariantOut as Variant
from mediavault.domain.shares.schemas import SharedCollectionOut as SharedCollection
from mediavault.domain.shares.schemas import SharedMediaOut as SharedMedia
from mediavault.domain.shares.schemas import ShareOut as Share
from mediavault.domain.system import Health
from mediavault.domain.users.schemas import UserOut as User
from mediavault.domain.webhooks.schemas import DeliveryOut as Delivery
from mediavault.domain.webhooks.schemas import WebhookCreated
from mediavault.domain.webhooks.schemas import WebhookOut as Webhook
from mediavault.errors import (
    Conflict,
    Forbidden,
    MethodNotAllowed,
    NotFound,
    PayloadTooLarge,
    RangeNotSatisfiable,
    RateLimited,
    Unauthorized,
    UnsupportedMediaType,
    ValidationError,
    VaultError,
)
from mediavault.http.envelope import Pagination, PaginationLinks

__all__ = (
    "ApiKey",
    "ApiKeyCreated",
    "AsyncClient",
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
    "RangeNotSatisfiable",
    "RateLimited",
    "Share",
    "SharedCollection",
    "SharedMedia",
    "Source",
    "TokenPair",
    "Unauthorized",
    "UnsupportedMediaType",
    "User",
    "ValidationError",
    "Variant",
    "VaultError",
    "Webhook",
    "WebhookCreated",
)
