"""A real local HTTP receiver for webhook tests: records every request, answers as scripted.

``Receiver().start()`` listens on 127.0.0.1 (a free port, or a given one so a test can take a receiver
down and bring it back on the same URL). Each request is answered by the next entry of ``script``
(then by ``default``): a status code, or a :class:`Reply` with headers, a body or a delay (to time out).
"""

from __future__ import annotations

import json
import random
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any


@dataclass
class Reply:
    status: int = 200
    headers: dict[str, str] = field(default_factory=dict)
    body: bytes = b"ok"
    delay: float = 0.0


@dataclass
class Received:
    path: str
    headers: dict[str, str]
    body: bytes
    at: float
    status: int = 200

    @property
    def json(self) -> Any:
        return json.loads(self.body)

    @property
    def id(self) -> str:
        return self.headers["webhook-id"]


class Receiver:
    def __init__(self, port: int = 0, *, default: int | Reply = 200, fail_ratio: float = 0.0) -> None:
        self.requests: list[Received] = []
        self.script: list[int | Reply] = []
        self.default = default
        self.fail_ratio = fail_ratio
        self._lock = threading.Lock()
        self._cond = threading.Condition(self._lock)
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                with receiver._cond:
                    reply = receiver.script.pop(0) if receiver.script else receiver.default
                    if receiver.fail_ratio and random.random() < receiver.fail_ratio:
                        reply = 500
                reply = reply if isinstance(reply, Reply) else Reply(reply)
                with receiver._cond:
                    record = Received(
                        self.path, {k.lower(): v for k, v in self.headers.items()}, body, time.time(), reply.status
                    )
                    receiver.requests.append(record)
                    receiver._cond.notify_all()
                if reply.delay:
                    time.sleep(reply.delay)
                try:
                    self.send_response(reply.status)
                    for name, value in reply.headers.items():
                        self.send_header(name, value)
                    self.send_header("content-length", str(len(reply.body)))
                    self.end_headers()
                    self.wfile.write(reply.body)
                except OSError:
                    pass

            def log_message(self, *args: Any) -> None:
                pass

        class Server(ThreadingHTTPServer):
            request_queue_size = 256  # many workers connecting at once must not overflow the listen backlog

        self.server = Server(("127.0.0.1", port), Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.url = f"http://127.0.0.1:{self.port}/hook"
        self._thread: threading.Thread | None = None

    def start(self) -> Receiver:
        self._thread = threading.Thread(target=self.server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()
        return self

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    def __enter__(self) -> Receiver:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def wait_for(self, count: int, timeout: float = 10.0) -> list[Received]:
        """Wait until at least ``count`` requests arrived; return them all."""
        deadline = time.monotonic() + timeout
        with self._cond:
            while len(self.requests) < count:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise AssertionError(f"expected {count} requests, got {len(self.requests)}")
                self._cond.wait(left)
            return list(self.requests)

    def ids(self) -> list[str]:
        with self._lock:
            return [r.id for r in self.requests]
