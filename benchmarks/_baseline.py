"""The upload benchmark's baseline: a bare ASGI app (no framework) that streams the request body to disk.

Run by ``benchmarks/upload.py`` under uvicorn with the same settings as ``mediavault serve``::

    python benchmarks/_baseline.py --port 8081 --out-dir /tmp/baseline

Every ``POST`` body is written, chunk by chunk as uvicorn delivers it, to a new file in ``--out-dir``
with a plain blocking ``write()`` on the event loop (no thread hop, no buffering, no parsing, no
hashing): the least work a server can do to keep an upload. The answer is ``201`` with
``{"path": ..., "size": ...}``; the benchmark deletes the file. ``GET`` answers ``200`` (readiness probe).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import uuid
from typing import Any

import uvicorn

OUT_DIR = "."
MODE = "thread"
BATCH = 1024 * 1024


async def _respond(send: Any, status: int, payload: dict[str, Any]) -> None:
    body = json.dumps(payload).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            if message["type"] == "lifespan.startup":
                await send({"type": "lifespan.startup.complete"})
            elif message["type"] == "lifespan.shutdown":
                await send({"type": "lifespan.shutdown.complete"})
                return
    if scope["type"] != "http":
        return
    if scope["method"] != "POST":
        await _respond(send, 200, {"status": "ok"})
        return
    path = os.path.join(OUT_DIR, uuid.uuid4().hex)
    size = 0
    buffer = bytearray()
    with open(path, "wb") as fh:  # noqa: ASYNC230 - opening is cheap; the writes are what MODE is about
        more = True
        while more:
            message = await receive()
            if message["type"] == "http.disconnect":
                fh.close()
                os.unlink(path)
                return
            chunk = message.get("body", b"")
            more = message.get("more_body", False)
            size += len(chunk)
            if MODE == "blocking":
                fh.write(chunk)
            elif MODE == "thread":
                buffer += chunk
                if len(buffer) >= BATCH or (not more and buffer):
                    data = bytes(buffer)
                    buffer.clear()
                    await asyncio.to_thread(fh.write, data)
    await _respond(send, 201, {"path": path, "size": size})


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--out-dir", required=True)
    parser.add_argument("--mode", choices=("thread", "blocking", "discard"), default="thread")
    args = parser.parse_args()
    global OUT_DIR, MODE
    OUT_DIR = args.out_dir
    MODE = args.mode
    os.makedirs(OUT_DIR, exist_ok=True)
    # The same uvicorn settings as ``mediavault serve`` (mediavault/cli.py).
    uvicorn.run(
        app,
        host=args.host,
        port=args.port,
        workers=1,
        proxy_headers=False,
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=10,
    )


if __name__ == "__main__":
    main()
