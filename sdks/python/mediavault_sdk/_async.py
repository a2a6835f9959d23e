"""The asyncio client: :class:`AsyncClient`, one thin transport over :mod:`mediavault_sdk._endpoints`."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable, Mapping
from typing import TYPE_CHECKING, Any, TypeVar, cast

import httpx

from mediavault_sdk import _endpoints as ep
from mediavault_sdk._core import Call, Credentials, check, request_parts
from mediavault_sdk._methods import Endpoints
from mediavault_sdk._resumable import Flow
from mediavault_sdk._transfer import content_length
from mediavault_sdk.errors import Unauthorized, VaultError
from mediavault_sdk.types import Page

if TYPE_CHECKING:
    from mediavault_sdk.realtime import Realtime

__all__ = ("AsyncClient",)

T = TypeVar("T")


class AsyncClient(Endpoints):
    """An asyncio Media Vault client on :class:`httpx.AsyncClient` (task-safe; use as an async context manager).

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8080"``.
        api_key: authenticate every request with ``X-API-Key``.
        token, refresh_token: resume a login (the access token is refreshed on its first 401).
        prefix: the vault's mount path (``/api/v1``).
        timeout: seconds per network operation (``httpx`` semantics; ``None`` waits forever).
        http: an ``httpx.AsyncClient`` of your own (its ``base_url`` must end with the prefix); ``httpx_options`` are
            passed to the one made otherwise (``verify``, ``proxy``, ``transport``...).

    :meth:`upload` also takes async iterators of ``bytes``; :meth:`realtime` opens the realtime socket. Every
    other method is an endpoint of :mod:`mediavault_sdk._endpoints` and raises the
    :class:`~mediavault_sdk.VaultError` subclass of the error's code; network failures raise
    :class:`httpx.TransportError`.
    """

    def __init__(
        self,
        base_url: str,
        *,
        api_key: str | None = None,
        token: str | None = None,
        refresh_token: str | None = None,
        prefix: str = "/api/v1",
        timeout: float | None = 30.0,
        http: httpx.AsyncClient | None = None,
        **httpx_options: Any,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.credentials = Credentials(api_key=api_key, token=token, refresh_token=refresh_token)
        self._http = http or httpx.AsyncClient(base_url=base_url.rstrip("/") + prefix, timeout=timeout, **httpx_options)
        self._refresh_lock = asyncio.Lock()

    async def __aenter__(self) -> AsyncClient:
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Close the connection pool."""
        await self._http.aclose()

    def realtime(self, *, path: str = "/realtime", **connect_options: Any) -> Realtime:
        """The realtime socket of this server (:class:`~mediavault_sdk.realtime.Realtime`, an async context
        manager), authenticated with this client's API key or access token (refreshed first when it is about to
        expire; a socket opened with a token is closed when that token expires, unless
        :meth:`Realtime.authenticate` sends a fresh one: API keys suit long-lived sockets); needs
        ``mediavault-sdk[realtime]``.

        Raises:
            Unauthorized: the client holds no credential yet (log in first).
            ModuleNotFoundError: ``websockets`` is not installed (the message names the extra to install).
        """
        from mediavault_sdk.realtime import Realtime

        if self.credentials.api_key is None and self.credentials.token is None:
            raise Unauthorized("log in, or pass api_key, before opening the realtime socket")
        return Realtime(self.base_url, self._socket_token, path=path, **connect_options)

    async def _socket_token(self) -> str:
        """The credential a realtime socket authenticates with: the API key, else the access token, refreshed
        first when due."""
        if self.credentials.refresh_due():
            await self._refresh(self.credentials.token)
        token = self.credentials.api_key or self.credentials.token
        if token is None:  # the refresh was refused: the login is over
            raise Unauthorized("log in again before opening the realtime socket")
        return token

    async def run(self, work: Call[T] | Flow[T]) -> T:
        """Send one :class:`Call`, or each call of a flow (a resumable upload) in turn, answering it with the call's
        result or error; returns the call's or the flow's result. The flow's own steps (reading and writing its
        resume file) are quick file operations run on the event loop."""
        if isinstance(work, Call):
            return await self.send(work)
        try:
            call = next(work)
            while True:
                try:
                    result = await self.send(call)
                except Exception as exc:  # the flow decides (e.g. a 409 asks for the offset again)
                    call = work.throw(exc)
                else:
                    call = work.send(result)
        except StopIteration as stop:
            return cast(T, stop.value)

    async def walk(
        self, fn: Callable[..., Call[Page[T]]], args: tuple[Any, ...], kwargs: Mapping[str, Any]
    ) -> AsyncIterator[T]:
        """Every item of every page of the list ``fn(*args, **kwargs)``, from its ``page`` on (one request per
        page, sent as the iteration gets there)."""
        options = dict(kwargs)
        number = int(options.pop("page", 1))
        while True:
            page = await self.send(fn(*args, page=number, **options))
            for item in page.items:
                yield item
            if page.pagination.links.next is None:
                return
            number += 1

    async def send(self, call: Call[T]) -> T:
        """Send one :class:`Call`; after a 401 on an expired access token, refresh once and send it again."""
        if call.authenticated and self.credentials.refresh_due():
            await self._refresh(self.credentials.token)
        sent = self.credentials.token
        response = await self._send_once(call)
        try:
            if self.credentials.should_refresh(call, response, sent):
                await response.aclose()
                await self._refresh(sent)
                response = await self._send_once(call)
            return await self._receive(call, response)
        finally:
            await response.aclose()

    async def _send_once(self, call: Call[Any]) -> httpx.Response:
        parts = request_parts(call, self.credentials)
        if call.upload is not None:
            parts["content"] = call.upload.astream()
        return await self._http.send(self._http.build_request(**parts), stream=True)

    async def _receive(self, call: Call[T], response: httpx.Response) -> T:
        if call.download is not None and response.status_code == call.expect:
            result = cast(T, await call.download.asave(response.aiter_bytes(), content_length(response.headers)))
        else:
            await response.aread()
            check(call, response)
            assert call.parse is not None
            result = call.parse(response)
        if call.after is not None:
            call.after(self.credentials, result)
        return result

    async def _refresh(self, sent: str | None) -> None:
        async with self._refresh_lock:
            if self.credentials.token != sent or self.credentials.refresh_token is None:
                return  # another task refreshed meanwhile
            try:
                await self.send(ep.refresh(self.credentials.refresh_token))
            except VaultError:  # refused: this login is over, log in again
                self.credentials.clear()
                raise
