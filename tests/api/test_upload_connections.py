"""A request body that streams slowly holds no database connection: on PostgreSQL (a server backend per pooled
connection), the upload's reads end before its body is read, so a slow client cannot starve the pool. A body that
arrived in one piece keeps its connection (ending the reads would cost a COMMIT and a second checkout)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path
from typing import Any

import httpx
from litestar import Litestar
from litestar.testing import TestClient
from sqlalchemy import delete, event

from mediavault import MediaVault
from mediavault.db.models import User
from tests.backends import BACKENDS, query, stored_objects
from tests.conftest import PREFIX, Account, make_config

BOUNDARY = "slowboundary7"
FILE_PART = f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="file"; filename="slow.bin"\r\n\r\n'.encode()
CLOSING = f"\r\n--{BOUNDARY}--\r\n".encode()


async def post_in_two_pieces(
    client: TestClient[Litestar], url: str, headers: dict[str, str], pieces: tuple[bytes, bytes], between: Any
) -> httpx.Response:
    """POST a multipart body to ``url`` through the app in two pieces, awaiting ``between()`` after the first."""

    async def body() -> AsyncIterator[bytes]:
        yield pieces[0]
        await between()
        yield pieces[1]

    headers = {**headers, "Content-Type": f"multipart/form-data; boundary={BOUNDARY}"}
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=client.app), base_url="http://testserver") as http:
        return await http.post(url, content=body(), headers=headers)


def upload_beside_a_read(
    client: TestClient[Litestar], owner: Account, pieces: tuple[bytes, bytes]
) -> tuple[httpx.Response, httpx.Response]:
    """Between the two pieces of an upload's body, ``GET /users/me`` of the same user; both answers."""

    async def run() -> tuple[httpx.Response, httpx.Response]:
        started, answered = asyncio.Event(), asyncio.Event()

        async def between() -> None:
            started.set()
            await answered.wait()

        upload = asyncio.ensure_future(
            post_in_two_pieces(client, f"{PREFIX}/media/upload", owner.headers, pieces, between)
        )
        await started.wait()
        transport = httpx.ASGITransport(app=client.app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            try:  # a deadlock guard, not a timing: while the upload holds the connection this waits for the pool's 30 s
                me = await asyncio.wait_for(http.get(f"{PREFIX}/users/me", headers=owner.headers), 20)
            finally:
                answered.set()
        return me, await upload

    return client.blocking_portal.call(run)


def delete_user(config: Any, email: str) -> Any:
    """``between``: delete the account of ``email`` (its rows cascade), as an administrator or a host would."""
    return lambda: asyncio.to_thread(query, config, delete(User).where(User.email == email))


def test_a_streaming_upload_leaves_the_pool_to_other_requests(tmp_path: Path) -> None:
    """A pool of one connection: while an upload's body is still arriving, another request of the same user is
    answered (it would wait for the pool until the upload ended if the upload held its connection)."""
    config = make_config(
        tmp_path, database_url=BACKENDS.postgres_url(tmp_path), database_pool_size=1, database_max_overflow=0
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "slow@example.com")

        me, uploaded = upload_beside_a_read(client, owner, (FILE_PART + b"first half ", b"second half" + CLOSING))
        assert me.status_code == 200, me.text
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.json()["data"]["size"] == len(b"first half second half")


def test_an_upload_that_arrived_whole_checks_out_one_connection(tmp_path: Path) -> None:
    """A small upload (its body in one ASGI message) takes one connection from the pool for the whole request: its
    reads are not ended before the bytes are stored (no COMMIT, no second checkout)."""
    config = make_config(tmp_path, database_url=BACKENDS.postgres_url(tmp_path), webhook_worker=False)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "whole@example.com")
        checkouts: list[None] = []
        pool = client.app.plugins.get(MediaVault).runtime.engine.sync_engine.pool
        event.listen(pool, "checkout", lambda *_: checkouts.append(None))
        uploaded = client.post(
            f"{PREFIX}/media/upload", files={"file": ("whole.bin", b"all of it")}, headers=owner.headers
        )
        assert uploaded.status_code == 201, uploaded.text
        assert len(checkouts) == 1


def test_a_refused_upload_whose_body_goes_on_after_its_closing_boundary_leaves_the_pool(tmp_path: Path) -> None:
    """The closing boundary came in the first piece (the upload keeps its connection: nothing to wait for), but the
    body goes on (an epilogue, sent slowly); the upload is refused (an empty file) and the rest of the body is read
    before the answer: meanwhile another request is answered from a pool of one connection."""
    config = make_config(
        tmp_path, database_url=BACKENDS.postgres_url(tmp_path), database_pool_size=1, database_max_overflow=0
    )
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "epilogue@example.com")

        me, uploaded = upload_beside_a_read(client, owner, (FILE_PART + CLOSING, b"an epilogue, ignored"))
        assert me.status_code == 200, me.text
        assert uploaded.status_code == 400, uploaded.text
        assert uploaded.json()["error"]["code"] == "validation_error"


def test_an_upload_whose_owner_is_deleted_while_it_streams_is_refused_and_leaves_nothing(tmp_path: Path) -> None:
    """The owner's account is deleted while the body arrives: the rows of the new item fail their foreign key, and
    the answer is the 401 a deleted user's requests get (not a 500); no bytes are left."""
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        owner = Account(client, "leaving@example.com")
        pieces = (FILE_PART + b"first half ", b"second half" + CLOSING)
        between = delete_user(config, owner.email)
        url = f"{PREFIX}/media/upload"
        uploaded = client.blocking_portal.call(post_in_two_pieces, client, url, owner.headers, pieces, between)
        assert uploaded.status_code == 401, uploaded.text
        assert uploaded.json()["error"]["message"] == "User no longer exists"
    assert stored_objects(config) == {}


def test_a_signed_upload_whose_signer_is_deleted_while_it_streams_is_404(tmp_path: Path) -> None:
    """The same through a signed upload URL: the URL went with its signer's account, so its anonymous caller gets
    the URL's 404 (not the owner's 401, not a 500); no bytes are left."""
    config = make_config(tmp_path)
    with TestClient(Litestar(plugins=[MediaVault(config)])) as client:
        signer = Account(client, "signer@example.com")
        signed = client.post(f"{PREFIX}/uploads/signed", headers=signer.headers, json={}).json()["data"]

        pieces = (FILE_PART + b"first half ", b"second half" + CLOSING)
        between = delete_user(config, signer.email)
        uploaded = client.blocking_portal.call(post_in_two_pieces, client, signed["url"], {}, pieces, between)
        assert uploaded.status_code == 404, uploaded.text
        assert uploaded.json()["error"]["code"] == "not_found"
    assert stored_objects(config) == {}
