"""The sans-IO core shared by :class:`~mediavault_sdk.Client` and :class:`~mediavault_sdk.AsyncClient`.

An endpoint is described once, as a function returning a :class:`Call` (method, path, query, body, how to read
the answer). The two clients only move bytes: they build the ``httpx`` request with :func:`request_parts`, send it,
and hand the answer to :func:`check` and ``Call.parse``. Token state and the refresh decision live in
:class:`Credentials` and :func:`should_refresh`, so both clients follow the same rules.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Generic, TypeVar

import httpx
import msgspec

from mediavault_sdk.errors import VaultError, error_for
from mediavault_sdk.types import Page, Pagination, TokenPair

if TYPE_CHECKING:
    from mediavault_sdk._transfer import Download, FilePart, Upload

__all__ = (
    "Call",
    "Credentials",
    "check",
    "data_of",
    "decode_answer",
    "error_from_response",
    "no_content",
    "page_of",
    "request_parts",
)

T = TypeVar("T")


class _Envelope(msgspec.Struct, Generic[T]):
    data: T
    meta: _Meta


class _Meta(msgspec.Struct):
    pagination: Pagination | None = None


class _ErrorBody(msgspec.Struct):
    code: str
    message: str
    details: list[dict[str, str]] = []


class _ErrorEnvelope(msgspec.Struct):
    error: _ErrorBody


@dataclass(frozen=True, slots=True)
class Call(Generic[T]):
    """One request to the vault and how to read its answer.

    Attributes:
        method: HTTP method.
        path: path under the mount prefix, ids already percent-encoded (``/media/<id>``).
        parse: turns a successful answer into the result (``None`` for downloads: the result is the byte count).
        expect: the status of success (200, 201 or 204).
        params: query parameters (``None`` values are left out).
        json: a JSON body (a msgspec Struct or plain data).
        headers: extra request headers (e.g. ``X-Share-Password``).
        upload: a streamed body (multipart, or a part of a file).
        download: where a streamed answer body goes.
        authenticated: send the client's credentials (``False`` for register, login, refresh, health, share links).
        after: called with the client's :class:`Credentials` and the result (login stores tokens, logout drops them).
    """

    method: str
    path: str
    parse: Callable[[httpx.Response], T] | None
    expect: int = 200
    params: Mapping[str, Any] | None = None
    json: Any = None
    headers: Mapping[str, str] = field(default_factory=dict)
    upload: Upload | FilePart | None = None
    download: Download | None = None
    authenticated: bool = True
    after: Callable[[Credentials, T], None] | None = None


class Credentials:
    """A client's authentication state: an API key, or an access token with its refresh token.

    Shared by every request of one client; the clients change it under their refresh lock only.

    Attributes:
        api_key: sent as ``X-API-Key`` (wins over a token).
        token: access token, sent as ``Authorization: Bearer``.
        refresh_token: spent on ``POST /auth/refresh`` when ``token`` has expired.
        expires_at: ``time.monotonic()`` deadline of ``token`` when known (from ``expires_in`` at login).
    """

    def __init__(self, *, api_key: str | None = None, token: str | None = None, refresh_token: str | None = None):
        self.api_key = api_key
        self.token = token
        self.refresh_token = refresh_token
        self.expires_at: float | None = None
        self._leeway = 0.0

    def headers(self) -> dict[str, str]:
        """The authentication header to send (none when the client holds no credential)."""
        if self.api_key:
            return {"X-API-Key": self.api_key}
        if self.token:
            return {"Authorization": f"Bearer {self.token}"}
        return {}

    def store(self, pair: TokenPair) -> None:
        """Keep a login's or refresh's tokens; a refresh is due ``min(30 s, expires_in / 10)`` before expiry."""
        self.token, self.refresh_token = pair.token, pair.refresh_token
        self._leeway = min(30.0, pair.expires_in / 10)
        self.expires_at = time.monotonic() + pair.expires_in

    def clear(self) -> None:
        """Forget the tokens (after logout, or when the refresh token was refused)."""
        self.token = self.refresh_token = self.expires_at = None

    def refresh_due(self) -> bool:
        """``True`` when the access token is known to expire within the leeway and a refresh token is held."""
        return (
            not self.api_key
            and self.refresh_token is not None
            and self.expires_at is not None
            and time.monotonic() >= self.expires_at - self._leeway
        )

    def should_refresh(self, call: Call[Any], response: httpx.Response, sent_token: str | None) -> bool:
        """Whether a 401 answer to ``call`` sent with ``sent_token`` is worth one refresh and one retry.

        Only for Bearer requests (not API keys) whose body can be sent again, and only while a refresh token is
        held.
        """
        return (
            response.status_code == 401
            and call.authenticated
            and not self.api_key
            and sent_token is not None
            and self.refresh_token is not None
            and (call.upload is None or call.upload.replayable)
        )


def request_parts(call: Call[Any], credentials: Credentials) -> dict[str, Any]:
    """Keyword arguments of ``httpx.Client.build_request`` for ``call`` (without an upload's stream).

    ``None`` query values are dropped; a JSON body is encoded with msgspec (``UNSET`` fields left out).
    """
    headers = dict(call.headers)
    if call.authenticated:
        headers.update(credentials.headers())
    parts: dict[str, Any] = {"method": call.method, "url": call.path, "headers": headers}
    if call.params:
        parts["params"] = {k: v for k, v in call.params.items() if v is not None}
    if call.json is not None:
        parts["content"] = msgspec.json.encode(call.json)
        headers["Content-Type"] = "application/json"
    if call.upload is not None:
        headers["Content-Type"] = call.upload.content_type
        if call.upload.content_length is not None:
            headers["Content-Length"] = str(call.upload.content_length)
    return parts


def error_from_response(response: httpx.Response) -> VaultError:
    """The exception for an error answer (:func:`~mediavault_sdk.errors.error_for` its ``error.code``, else its
    status) with its ``message`` and ``details``; ``request_id`` from ``X-Request-ID``;
    :class:`~mediavault_sdk.RateLimited` carries ``retry_after`` (seconds) from ``Retry-After``.

    An answer that is not the vault's envelope (a proxy's HTML page, say) keeps its status and a short excerpt.
    """
    code: str | None
    try:
        body = msgspec.json.decode(response.content, type=_ErrorEnvelope).error
        code, message, details = body.code, body.message, body.details
    except (msgspec.DecodeError, msgspec.ValidationError):
        excerpt = response.content[:200].decode("utf-8", "replace").strip()
        code, message, details = None, f"HTTP {response.status_code} from {response.url}: {excerpt or 'no body'}", []
    retry = response.headers.get("Retry-After", "1")
    return error_for(
        code,
        message,
        details,
        status=response.status_code,
        request_id=response.headers.get("X-Request-ID"),
        retry_after=int(retry) if retry.isdigit() else 1,
    )


def check(call: Call[Any], response: httpx.Response) -> None:
    """Raise the typed error of ``response`` unless it has ``call.expect``'s status (its body must be read)."""
    if response.status_code != call.expect:
        raise error_from_response(response)


def decode_answer(decoder: msgspec.json.Decoder[Any], response: httpx.Response) -> Any:
    """``response``'s body decoded with ``decoder``.

    Raises:
        VaultError: the body is not the expected JSON (e.g. a proxy's page answered in the vault's place).
    """
    try:
        return decoder.decode(response.content)
    except (msgspec.DecodeError, msgspec.ValidationError) as exc:
        raise VaultError(f"{response.url} answered {response.status_code} with an unexpected body: {exc}") from exc


def data_of(kind: type[T] | Any) -> Callable[[httpx.Response], T]:
    """A parser returning the envelope's ``data`` decoded as ``kind`` (a msgspec Struct, or a union of them)."""
    decoder = msgspec.json.Decoder(_Envelope[kind])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> T:
        return decode_answer(decoder, response).data  # type: ignore[no-any-return]

    return parse


def page_of(kind: type[T]) -> Callable[[httpx.Response], Page[T]]:
    """A parser returning a :class:`Page` of ``kind`` from a paginated envelope."""
    decoder = msgspec.json.Decoder(_Envelope[list[kind]])  # type: ignore[valid-type]

    def parse(response: httpx.Response) -> Page[T]:
        envelope = decode_answer(decoder, response)
        if envelope.meta.pagination is None:
            raise VaultError(f"{response.url} answered a list without meta.pagination")
        return Page(items=envelope.data, pagination=envelope.meta.pagination)

    return parse


def no_content(_response: httpx.Response) -> None:
    """The parser of 204 answers."""
    return None
