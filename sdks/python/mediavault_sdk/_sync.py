"""The blocking client: :class:`Client`, one thin transport over :mod:`mediavault_sdk._endpoints`."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator, Mapping
from typing import Any, TypeVar, cast

import httpx

from mediavault_sdk import _endpoints as ep
from mediavault_sdk._core import Call, Credentials, check, request_parts
from mediavault_sdk._methods import Endpoints
from mediavault_sdk._resumable import Flow
from mediavault_sdk._transfer import content_length
from mediavault_sdk.errors import VaultError
from mediavault_sdk.types import Page

__all__ = ("Client",)

T = TypeVar("T")


class Client(Endpoints):
    """A blocking Media Vault client on :class:`httpx.Client` (thread-safe; use as a context manager).

    Args:
        base_url: the server, e.g. ``"http://127.0.0.1:8080"``.
        api_key: authenticate every request with ``X-API-Key``.
        token, refresh_token: resume a login (the access token is refreshed on its first 401).
        prefix: the vault's mount path (``/api/v1``).
        timeout: seconds per network operation (``httpx`` semantics; ``None`` waits forever).
        http: an ``httpx.Client`` of your own (its ``base_url`` must end with the prefix); ``httpx_options`` are
            passed to the one made otherwise (``verify``, ``proxy``, ``transport``...).

    Every method is an endpoint of :mod:`mediavault_sdk._endpoints` and raises the
    :class:`~mediavault_sdk.VaultError` subclass of the error's code; network failures
    raise :class:`httpx.TransportError`.
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
        http: httpx.Client | None = None,
        **httpx_options: Any,
    ) -> None:
        self.credentials = Credentials(api_key=api_key, token=token, refresh_token=refresh_token)
        self._http = http or httpx.Client(base_url=base_url.rstrip("/") + prefix, timeout=timeout, **httpx_options)
        self._refresh_lock = threading.Lock()

    def __enter__(self) -> Client:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def close(self) -> None:
        """Close the connection pool."""
        self._http.close()

    def run(self, work: Call[T] | Flow[T]) -> T:
        """Send one :class:`Call`, or each call of a flow (a resumable upload) in turn, answering it with the call's
        result or error; returns the call's or the flow's result."""
        if isinstance(work, Call):
            return self.send(work)
        try:
            call = next(work)
            while True:
                try:
                    result = self.send(call)
                except Exception as exc:  # the flow decides (e.g. a 409 asks for the offset again)
                    call = work.throw(exc)
                else:
                    call = work.send(result)
        except StopIteration as stop:
            return cast(T, stop.value)

    def walk(self, fn: Callable[..., Call[Page[T]]], args: tuple[Any, ...], kwargs: Mapping[str, Any]) -> Iterator[T]:
        """Every item of every page of the list ``fn(*args, **kwargs)``, from its ``page`` on (one request per
        page, sent as the iteration gets there)."""
        options = dict(kwargs)
        number = int(options.pop("page", 1))
        while True:
            page = self.send(fn(*args, page=number, **options))
            yield from page.items
            if page.pagination.links.next is None:
                return
            number += 1

    def send(self, call: Call[T]) -> T:
        """Send one :class:`Call`; after a 401 on an expired access token, refresh once and send it again."""
        if call.authenticated and self.credentials.refresh_due():
            self._refresh(self.credentials.token)
        sent = self.credentials.token
        response = self._send_once(call)
        try:
            if self.credentials.should_refresh(call, response, sent):
                response.close()
                self._refresh(sent)
                response = self._send_once(call)
            return self._receive(call, response)
        finally:
            response.close()

    def _send_once(self, call: Call[Any]) -> httpx.Response:
        parts = request_parts(call, self.credentials)
        if call.upload is not None:
            parts["content"] = call.upload.stream()
        return self._http.send(self._http.build_request(**parts), stream=True)

    def _receive(self, call: Call[T], response: httpx.Response) -> T:
        if call.download is not None and response.status_code == call.expect:
            result = cast(T, call.download.save(response.iter_bytes(), content_length(response.headers)))
        else:
            response.read()
            check(call, response)
            assert call.parse is not None
            result = call.parse(response)
        if call.after is not None:
            call.after(self.credentials, result)
        return result

    def _refresh(self, sent: str | None) -> None:
        with self._refresh_lock:
            if self.credentials.token != sent or self.credentials.refresh_token is None:
                return  # another thread refreshed meanwhile
            try:
                self.send(ep.refresh(self.credentials.refresh_token))
            except VaultError:  # refused: this login is over, log in again
                self.credentials.clear()
                raise
