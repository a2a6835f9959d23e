"""uvicorn's h11 protocol with deadlines for slow and silent clients, for ``mediavault serve``.

uvicorn bounds the size of a request head (``h11_max_incomplete_event_size``) but not the time it may take, and
waits for a request body forever: a client that trickles a header line every few seconds, connects and sends
nothing, or stops in the middle of an upload holds a connection (and its file descriptor) for as long as it likes
(slowloris). :class:`DeadlineH11Protocol` adds nginx's two deadlines (``client_header_timeout``,
``client_body_timeout``):

- the request head must be complete within ``header_timeout`` seconds of its first byte (of the connection, for a
  new one);
- while the application waits for the body, the client must send some of it at least every ``body_timeout``
  seconds. Time in which the server is not reading (its buffer is full, or it owes the client a
  ``100 Continue``) does not count.

When a deadline passes before any response began, the connection gets ``408 request_timeout`` in the vault's
error envelope and is closed; the application sees ``http.disconnect``, so an upload in progress is aborted and
nothing of it is kept (a tus ``PATCH`` keeps the bytes that arrived, as for a client that hung up).
"""

from __future__ import annotations

import asyncio
from typing import Any

import h11
import msgspec
from uvicorn.protocols.http.h11_impl import H11Protocol

from mediavault.http.envelope import ErrorBody, ErrorEnvelope, ErrorMeta, request_id
from mediavault.http.security import security_headers_for
from mediavault.meta import utc_timestamp

__all__ = ("DeadlineH11Protocol",)


class DeadlineH11Protocol(H11Protocol):
    """:class:`uvicorn.protocols.http.h11_impl.H11Protocol` with a header and a body deadline.

    Pass as ``uvicorn.Config(http=functools.partial(DeadlineH11Protocol, header_timeout=30, body_timeout=60))``.

    Args:
        header_timeout: seconds from the first byte of a request (or from the connection) to its last header.
        body_timeout: seconds the client may send nothing while the application waits for its body.
    """

    def __init__(self, *args: Any, header_timeout: float, body_timeout: float, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.header_timeout = header_timeout
        self.body_timeout = body_timeout
        self._deadline: asyncio.TimerHandle | None = None

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm(self.header_timeout, self._head_expired)

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        state = self.conn.their_state
        if state is h11.IDLE:  # a request head has begun (or a new connection's first bytes)
            if self._deadline is None:
                self._arm(self.header_timeout, self._head_expired)
        elif state is h11.SEND_BODY:  # any bytes of the body restart its deadline
            self._arm(self.body_timeout, self._body_expired)
        else:
            self._disarm()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)

    def on_response_complete(self) -> None:
        self._disarm()
        super().on_response_complete()

    def _arm(self, seconds: float, callback: Any) -> None:
        self._disarm()
        self._deadline = self.loop.call_later(seconds, callback)

    def _disarm(self) -> None:
        if self._deadline is not None:
            self._deadline.cancel()
            self._deadline = None

    def _head_expired(self) -> None:
        self._deadline = None
        idle = self.cycle is None or self.cycle.response_complete
        if idle and self.conn.their_state is h11.IDLE and not self.transport.is_closing():
            self._answer_408({})

    def _body_expired(self) -> None:
        self._deadline = None
        cycle = self.cycle
        if self.conn.their_state is not h11.SEND_BODY or cycle is None or self.transport.is_closing():
            return
        if cycle.response_started:  # the application answers without the rest of the body; uvicorn closes after
            return
        if self.flow.read_paused or cycle.waiting_for_100_continue or cycle.body:  # the server is the slow one
            self._arm(self.body_timeout, self._body_expired)
            return
        cycle.disconnected = True  # the application's receive() now answers http.disconnect; its sends are dropped
        cycle.message_event.set()
        self._answer_408(cycle.scope)

    def _answer_408(self, scope: Any) -> None:
        """Write ``408 request_timeout`` (the envelope) and close the connection."""
        rid = request_id(scope)
        body = msgspec.json.encode(
            ErrorEnvelope(
                error=ErrorBody(
                    code="request_timeout", message="Request timed out: the client sent too slowly", details=[]
                ),
                meta=ErrorMeta(timestamp=utc_timestamp(), request_id=rid),
            )
        )
        headers = [(b"content-type", b"application/json"), (b"x-request-id", rid.encode("latin-1"))]
        headers += [*security_headers_for(headers), (b"content-length", b"%d" % len(body)), (b"connection", b"close")]
        head = b"HTTP/1.1 408 Request Timeout\r\n" + b"".join(b"%s: %s\r\n" % h for h in headers) + b"\r\n"
        self.transport.write(head + body)
        self.transport.close()
