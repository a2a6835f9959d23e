"""The webhook benchmark's receiver: a bare ASGI app under uvicorn that counts deliveries per ``webhook-id``.

    python benchmarks/_webhook_receiver.py --port 8082

``POST /hook`` answers 500 with probability ``fail`` (else 204) and counts the request; ``POST /control?fail=0.5``
resets the counters and sets the failure ratio; ``GET /stats`` returns ``{"requests", "accepted",
"distinct_accepted", "accepted_twice"}`` (``accepted_twice``: ids answered 2xx more than once).
"""

from __future__ import annotations

import argparse
import collections
import json
import random
from typing import Any
from urllib.parse import parse_qs

import uvicorn

STATE: dict[str, Any] = {"fail": 0.0, "requests": 0, "accepted": collections.Counter()}


async def _respond(send: Any, status: int, payload: dict[str, Any] | None = None) -> None:
    body = json.dumps(payload).encode() if payload is not None else b""
    headers = [(b"content-length", str(len(body)).encode())]
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": body})


async def app(scope: dict[str, Any], receive: Any, send: Any) -> None:
    if scope["type"] == "lifespan":
        while True:
            message = await receive()
            await send({"type": message["type"] + ".complete"})
            if message["type"] == "lifespan.shutdown":
                return
    if scope["type"] != "http":
        return
    more = True
    while more:
        more = (await receive()).get("more_body", False)
    path = scope["path"]
    if path == "/control":
        query = parse_qs(scope["query_string"].decode())
        STATE.update(fail=float(query.get("fail", ["0"])[0]), requests=0, accepted=collections.Counter())
        await _respond(send, 200, {"ok": True})
    elif path == "/stats":
        accepted = STATE["accepted"]
        await _respond(
            send,
            200,
            {
                "requests": STATE["requests"],
                "accepted": sum(accepted.values()),
                "distinct_accepted": len(accepted),
                "accepted_twice": sum(1 for n in accepted.values() if n > 1),
            },
        )
    else:
        STATE["requests"] += 1
        if random.random() < STATE["fail"]:
            await _respond(send, 500)
            return
        webhook_id = dict(scope["headers"]).get(b"webhook-id", b"").decode()
        STATE["accepted"][webhook_id] += 1
        await _respond(send, 204)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, required=True)
    args = parser.parse_args()
    uvicorn.run(app, host="127.0.0.1", port=args.port, log_level="warning", access_log=False)


if __name__ == "__main__":
    main()
