"""The method table shared by :class:`~mediavault_sdk.Client` and :class:`~mediavault_sdk.AsyncClient`.

Each endpoint of :mod:`mediavault_sdk._endpoints` is bound here once, in :class:`Endpoints`, as an
:class:`Endpoint` (the call, sent with the client's ``run``) or a :class:`Pages` (every page of a list, walked with
the client's ``walk``); both clients inherit the table. The descriptors are typed per client: on a ``Client`` a
method returns the answer, on an ``AsyncClient`` an awaitable of it, and ``iter_*`` an iterator or an async
iterator, so mypy checks callers of either client against the endpoint's own signature.
"""

from __future__ import annotations

import functools
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from typing import TYPE_CHECKING, Any, Generic, ParamSpec, TypeVar, overload

from mediavault_sdk import _endpoints as ep

if TYPE_CHECKING:
    from typing import Self

    from mediavault_sdk._async import AsyncClient
    from mediavault_sdk._core import Call
    from mediavault_sdk._resumable import Flow
    from mediavault_sdk._sync import Client
    from mediavault_sdk.types import Page

__all__ = ("Endpoint", "Endpoints", "Pages")

P = ParamSpec("P")
T = TypeVar("T")


class Endpoint(Generic[P, T]):
    """A client method made of an endpoint description ``fn``: ``client.name(*args)`` is
    ``client.run(fn(*args))`` (the answer, or an awaitable of it on an ``AsyncClient``), with ``fn``'s name,
    signature and docstring."""

    def __init__(self, fn: Callable[P, Call[T] | Flow[T]]) -> None:
        self.fn = self.__wrapped__ = fn
        self.__name__ = self.__qualname__ = fn.__name__
        self.__doc__ = fn.__doc__

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, T]: ...
    @overload
    def __get__(self, client: AsyncClient, owner: type[Any]) -> Callable[P, Awaitable[T]]: ...
    def __get__(self, client: Client | AsyncClient | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        fn = self.fn

        @functools.wraps(fn)
        def method(*args: Any, **kwargs: Any) -> Any:
            return client.run(fn(*args, **kwargs))

        return method


class Pages(Generic[P, T]):
    """The ``iter_*`` twin of a list endpoint ``fn``: every item of every page from ``page`` on, one request per
    page (an iterator on a ``Client``, an async iterator on an ``AsyncClient``: the client's ``walk``)."""

    def __init__(self, fn: Callable[P, Call[Page[T]]]) -> None:
        self.fn = self.__wrapped__ = fn
        self.__name__ = self.__qualname__ = "iter_" + fn.__name__.removeprefix("list_")
        self.__doc__ = f"Every item of every page, from ``page`` on (one request per page): {fn.__doc__}"

    @overload
    def __get__(self, client: None, owner: type[Any]) -> Self: ...
    @overload
    def __get__(self, client: Client, owner: type[Any]) -> Callable[P, Iterator[T]]: ...
    @overload
    def __get__(self, client: AsyncClient, owner: type[Any]) -> Callable[P, AsyncIterator[T]]: ...
    def __get__(self, client: Client | AsyncClient | None, owner: type[Any]) -> Any:
        if client is None:
            return self
        fn, name, doc = self.fn, self.__name__, self.__doc__

        @functools.wraps(fn)
        def method(*args: Any, **kwargs: Any) -> Any:
            return client.walk(fn, args, kwargs)

        method.__name__ = method.__qualname__ = name
        method.__doc__ = doc
        return method


class Endpoints:
    """Every endpoint as a method (:mod:`mediavault_sdk._endpoints` has their docstrings); list endpoints also as
    an ``iter_*`` walking the pages. Subclasses provide ``run(call)`` and ``walk(fn, args, kwargs)``."""

    health = Endpoint(ep.health)
    register = Endpoint(ep.register)
    login = Endpoint(ep.login)
    refresh = Endpoint(ep.refresh)
    logout = Endpoint(ep.logout)
    me = Endpoint(ep.me)
    update_me = Endpoint(ep.update_me)
    usage = Endpoint(ep.usage)
    create_api_key = Endpoint(ep.create_api_key)
    list_api_keys = Endpoint(ep.list_api_keys)
    iter_api_keys = Pages(ep.list_api_keys)
    delete_api_key = Endpoint(ep.delete_api_key)
    upload = Endpoint(ep.upload)
    sign_upload = Endpoint(ep.sign_upload)
    upload_signed = Endpoint(ep.upload_signed)
    upload_to_share = Endpoint(ep.upload_to_share)
    get_media = Endpoint(ep.get_media)
    list_media = Endpoint(ep.list_media)
    iter_media = Pages(ep.list_media)
    update_media = Endpoint(ep.update_media)
    delete_media = Endpoint(ep.delete_media)
    replace_content = Endpoint(ep.replace_content)
    list_versions = Endpoint(ep.list_versions)
    download_version = Endpoint(ep.download_version)
    restore_version = Endpoint(ep.restore_version)
    list_trash = Endpoint(ep.list_trash)
    iter_trash = Pages(ep.list_trash)
    restore_media = Endpoint(ep.restore_media)
    purge_media = Endpoint(ep.purge_media)
    empty_trash = Endpoint(ep.empty_trash)
    download = Endpoint(ep.download)
    download_thumbnail = Endpoint(ep.download_thumbnail)
    get_metadata = Endpoint(ep.get_metadata)
    reprocess = Endpoint(ep.reprocess)
    search = Endpoint(ep.search)
    iter_search = Pages(ep.search)
    create_collection = Endpoint(ep.create_collection)
    list_collections = Endpoint(ep.list_collections)
    iter_collections = Pages(ep.list_collections)
    get_collection = Endpoint(ep.get_collection)
    update_collection = Endpoint(ep.update_collection)
    delete_collection = Endpoint(ep.delete_collection)
    add_to_collection = Endpoint(ep.add_to_collection)
    list_collection_media = Endpoint(ep.list_collection_media)
    iter_collection_media = Pages(ep.list_collection_media)
    remove_from_collection = Endpoint(ep.remove_from_collection)
    create_share = Endpoint(ep.create_share)
    list_shares = Endpoint(ep.list_shares)
    iter_shares = Pages(ep.list_shares)
    delete_share = Endpoint(ep.delete_share)
    open_share = Endpoint(ep.open_share)
    download_shared = Endpoint(ep.download_shared)
    create_webhook = Endpoint(ep.create_webhook)
    list_webhooks = Endpoint(ep.list_webhooks)
    iter_webhooks = Pages(ep.list_webhooks)
    get_webhook = Endpoint(ep.get_webhook)
    update_webhook = Endpoint(ep.update_webhook)
    delete_webhook = Endpoint(ep.delete_webhook)
    list_deliveries = Endpoint(ep.list_deliveries)
    iter_deliveries = Pages(ep.list_deliveries)
    list_users = Endpoint(ep.list_users)
    iter_users = Pages(ep.list_users)
    get_user = Endpoint(ep.get_user)
    update_user = Endpoint(ep.update_user)
    list_audit_events = Endpoint(ep.list_audit_events)
    iter_audit_events = Pages(ep.list_audit_events)
