"""CPU instructions per request, counted by callgrind, for the vault's own requests and two floors, in one process.

Usage::

    python benchmarks/instructions.py [--requests 40] [--postgres [URL]] [--json FILE] [--only NAME,...]

Runs itself under ``valgrind --tool=callgrind`` (Debian's ``valgrind``). The measured process builds, in one event
loop, three ASGI apps and calls them directly with hand-built ASGI scopes (no sockets, no client, one request at a
time):

- a bare Litestar app (``benchmarks/_litestar_baseline.py``): ``GET /hello`` answering a dict (the framework
  floor) and ``GET /db``, one ``SELECT 1`` through a SQLAlchemy ``AsyncSession`` on ``sqlite+aiosqlite``
  (``--postgres``: ``postgresql+asyncpg``): the **database floor** every ratio is divided by;
- the reference server's app (``mediavault.server.create_app``: the plugin, its rate limiter with budgets never
  reached, Argon2 made cheap, a SQLite file and local files in a temporary directory, or with ``--postgres`` a
  database of its own created on that server and dropped at the end), with a user, an API key and 25 media
  items (three tags each) made through the API: ``GET /health``, ``GET /users/me`` with the access JWT and with
  the API key, ``GET /media/{id}``, ``GET /media`` (a page of 20 with its total and tags),
  ``GET /media/{id}/content`` (4 KiB) and ``POST /media/upload`` (a 4 KiB file).

The webhook and processing workers are off (``mediavault worker`` would run them), so only the request path is
counted. Every request's status is checked.

How it counts: each boundary between measured regions is a call of ``os.getpgrp()`` (nothing else in the
process calls ``getpgrp``), and callgrind runs with ``--dump-before=getpgrp``, so each region gets a dump file of
its own. Per target: a warm-up of ``--requests`` requests, then ``n`` and ``3n`` requests in two regions
(``n = --requests``); instructions per request are ``(I(3n) - I(n)) / 2n``, which cancels what a region costs
whatever its length (the marker call, the event loop's start). Instructions of every thread count (aiosqlite's
included). Instruction counts do not move with the machine's load; runs repeat to within about 1 %.

Printed per target: instructions per request (millions) and the ratio to the database floor, next to the budget
of issue 11 (SQLite; on PostgreSQL the ratios are compared with the SQLite ones).
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import uuid
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
PREFIX = "/api/v1"
DEFAULT_POSTGRES = "postgresql://postgres@127.0.0.1:5432/test"

TARGETS = (
    # (name, label, budget as a ratio to the database floor)
    ("hello", "Litestar handler returning a dict (framework floor)", None),
    ("db", "Litestar + SELECT 1 through an AsyncSession (database floor)", None),
    ("health", "GET /health", None),
    ("me_jwt", "GET /users/me (JWT)", 1.5),
    ("me_key", "GET /users/me (API key)", 1.5),
    ("media", "GET /media/{id}", 2.0),
    ("list", "GET /media (page of 20, total and tags)", 3.0),
    ("content", "GET /media/{id}/content (4 KiB)", 2.5),
    ("upload", "POST /media/upload (4 KiB)", 4.0),
)
FLOOR = "db"


# --------------------------------------------------------------------------------------------------- the measured side


class Asgi:
    """Calls one ASGI app with hand-built scopes and answers ``(status, body)``."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(
        self, method: str, path: str, headers: dict[str, str] | None = None, body: bytes = b"", query: str = ""
    ) -> tuple[int, bytes]:
        raw_headers = [(b"host", b"127.0.0.1:8000")]
        raw_headers += [(k.lower().encode(), v.encode()) for k, v in (headers or {}).items()]
        if body:
            raw_headers.append((b"content-length", str(len(body)).encode()))
        scope = {
            "type": "http",
            "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1",
            "method": method,
            "scheme": "http",
            "path": path,
            "raw_path": path.encode(),
            "query_string": query.encode(),
            "root_path": "",
            "headers": raw_headers,
            "client": ("127.0.0.1", 40000),
            "server": ("127.0.0.1", 8000),
            "state": {},
        }
        sent = False
        status = 0
        chunks: list[bytes] = []
        done = asyncio.Event()

        async def receive() -> dict[str, Any]:
            nonlocal sent
            if not sent:
                sent = True
                return {"type": "http.request", "body": body, "more_body": False}
            await done.wait()  # as a server does: the client is gone once the response is complete
            return {"type": "http.disconnect"}

        async def send(message: dict[str, Any]) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            elif message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))
                if not message.get("more_body", False):
                    done.set()

        await self.app(scope, receive, send)
        return status, b"".join(chunks)


def multipart(filename: str, content: bytes, fields: dict[str, str]) -> tuple[str, bytes]:
    """``(content type, body)`` of a ``multipart/form-data`` upload of one file and some text fields."""
    boundary = uuid.uuid4().hex
    parts = [
        f'--{boundary}\r\nContent-Disposition: form-data; name="{name}"\r\n\r\n{value}\r\n'.encode()
        for name, value in fields.items()
    ]
    parts.append(
        f'--{boundary}\r\nContent-Disposition: form-data; name="file"; filename="{filename}"\r\n'
        f"Content-Type: application/octet-stream\r\n\r\n".encode()
        + content
        + b"\r\n"
    )
    parts.append(f"--{boundary}--\r\n".encode())
    return f"multipart/form-data; boundary={boundary}", b"".join(parts)


async def vault_requests(call: Asgi) -> dict[str, Callable[[], Awaitable[tuple[int, bytes]]]]:
    """Make a user, an API key and 25 media through the API; the request of each vault target."""
    credentials = {"email": "bench@example.com", "password": "benchmark password"}
    json_headers = {"content-type": "application/json"}
    status, _ = await call("POST", f"{PREFIX}/auth/register", json_headers, json.dumps(credentials).encode())
    assert status == 201, status
    login = {"username": credentials["email"], "password": credentials["password"]}
    status, body = await call("POST", f"{PREFIX}/auth/login", json_headers, json.dumps(login).encode())
    assert status == 200, (status, body)
    bearer = {"authorization": f"Bearer {json.loads(body)['data']['token']}"}
    status, body = await call(
        "POST", f"{PREFIX}/users/me/api-keys", {**bearer, **json_headers}, json.dumps({"name": "bench"}).encode()
    )
    assert status == 201, (status, body)
    api_key = {"x-api-key": json.loads(body)["data"]["key"]}
    media_id = ""
    for i in range(25):
        content_type, upload = multipart(f"item-{i}.bin", os.urandom(4096), {"tags": f"bench,tag{i % 5},more"})
        status, body = await call("POST", f"{PREFIX}/media/upload", {**bearer, "content-type": content_type}, upload)
        assert status == 201, (status, body)
        media_id = json.loads(body)["data"]["id"]
    content_type, upload_body = multipart("upload.bin", os.urandom(4096), {})
    upload_headers = {**bearer, "content-type": content_type}
    return {
        "health": lambda: call("GET", f"{PREFIX}/health"),
        "me_jwt": lambda: call("GET", f"{PREFIX}/users/me", bearer),
        "me_key": lambda: call("GET", f"{PREFIX}/users/me", api_key),
        "media": lambda: call("GET", f"{PREFIX}/media/{media_id}", bearer),
        "list": lambda: call("GET", f"{PREFIX}/media", bearer, query="per_page=20"),
        "content": lambda: call("GET", f"{PREFIX}/media/{media_id}/content", bearer),
        "upload": lambda: call("POST", f"{PREFIX}/media/upload", upload_headers, upload_body),
    }


def expected_status(name: str) -> int:
    return 201 if name == "upload" else 200


def marker() -> None:
    """A region boundary: callgrind dumps its counters before every ``getpgrp`` (``--dump-before=getpgrp``)."""
    os.getpgrp()


async def measure_all(args: argparse.Namespace, tmp: Path, regions: list[str]) -> None:
    sys.path.insert(0, str(HERE))
    from _litestar_baseline import create_app as baseline_app

    from mediavault.server import create_app, load_config

    database_url = args.database_url or f"sqlite+aiosqlite:///{tmp / 'vault.db'}"
    baseline_url = args.baseline_url or f"sqlite+aiosqlite:///{tmp / 'baseline.db'}"
    config = load_config(
        tmp / "data",
        database_url=database_url,
        storage_url=(tmp / "data" / "media").as_uri(),
        webhook_worker=False,
        processing_worker=False,
        argon2_time_cost=1,
        argon2_memory_cost=8,
        argon2_parallelism=1,
        rate_limit_anonymous=10**9,
        rate_limit_authenticated=10**9,
        rate_limit_api_key=10**9,
        load_entry_points=False,
    )
    baseline, vault = baseline_app(baseline_url), create_app(config)
    async with baseline.lifespan(), vault.lifespan():
        bare, mv = Asgi(baseline), Asgi(vault)
        requests: dict[str, Callable[[], Awaitable[tuple[int, bytes]]]] = {
            "hello": lambda: bare("GET", "/hello"),
            "db": lambda: bare("GET", "/db"),
            **await vault_requests(mv),
        }
        n = args.requests
        for name in args.only:
            request = requests[name]
            for count, label in ((n, "warm-up"), (n, "n"), (3 * n, "3n")):
                gc.collect()
                marker()  # the region before this one (setup, gc) ends here
                regions.append("setup")
                for _ in range(count):
                    status, body = await request()
                    if status != expected_status(name):
                        raise RuntimeError(f"{name}: {status} {body[:300]!r}")
                marker()
                regions.append(f"{name}:{label}")


def inner(args: argparse.Namespace) -> None:
    """The measured process (under callgrind): run every target and write the list of regions to ``--regions``."""
    regions: list[str] = []
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(measure_all(args, Path(tmp), regions))
    Path(args.regions).write_text(json.dumps(regions))


# --------------------------------------------------------------------------------------------------------- the driver


async def _postgres(url: str, action: str, name: str) -> None:
    import asyncpg

    connection = await asyncpg.connect(url)
    try:
        await connection.execute(f'{action} DATABASE "{name}"')
    finally:
        await connection.close()


def _with_database(url: str, name: str) -> str:
    base = re.sub(r"^postgres(ql)?(\+\w+)?://", "postgresql+asyncpg://", url)
    return base.rsplit("/", 1)[0] + "/" + name


def run(args: argparse.Namespace) -> dict[str, float]:
    """Run the measured process under callgrind; instructions per request of each target."""
    if shutil.which("valgrind") is None:
        raise SystemExit("valgrind is not installed (apt-get install valgrind)")
    databases: list[str] = []
    extra: list[str] = []
    if args.postgres:
        for role in ("vault", "baseline"):
            name = f"mediavault_bench_{role}_{uuid.uuid4().hex[:8]}"
            asyncio.run(_postgres(args.postgres, "CREATE", name))
            databases.append(name)
        extra = ["--database-url", _with_database(args.postgres, databases[0])]
        extra += ["--baseline-url", _with_database(args.postgres, databases[1])]
    try:
        with tempfile.TemporaryDirectory() as out_name:
            out = Path(out_name)
            cmd = [
                "valgrind",
                "--tool=callgrind",
                "--dump-before=getpgrp",
                f"--callgrind-out-file={out / 'cg.out'}",
                sys.executable,
                str(Path(__file__).resolve()),
                "--inner",
                "--regions",
                str(out / "regions.json"),
                "--requests",
                str(args.requests),
                "--only",
                ",".join(args.only),
                *extra,
            ]
            proc = subprocess.run(cmd, capture_output=True, text=True, cwd=HERE.parent)
            if proc.returncode != 0:
                raise SystemExit(f"the measured process failed:\n{proc.stdout[-3000:]}\n{proc.stderr[-5000:]}")
            regions = json.loads((out / "regions.json").read_text())
            totals = [_total(out / f"cg.out.{i}") for i in range(1, len(regions) + 1)]
    finally:
        for name in databases:
            asyncio.run(_postgres(args.postgres, "DROP", name))
    counted = dict(zip(regions, totals, strict=True))
    n = args.requests
    return {name: (counted[f"{name}:3n"] - counted[f"{name}:n"]) / (2 * n) for name in args.only}


def _total(path: Path) -> int:
    match = re.search(r"^totals:\s*(\d+)", path.read_text(errors="replace"), re.MULTILINE)
    if match is None:
        raise RuntimeError(f"no totals in {path}")
    return int(match.group(1))


def report(per_request: dict[str, float], postgres: bool) -> None:
    floor = per_request.get(FLOOR)
    engine = "PostgreSQL (asyncpg)" if postgres else "SQLite (aiosqlite)"
    print(f"instructions per request (callgrind), {engine}; ratio = x the database floor, same run")
    print(f"  {'request':<62} {'M instr':>8} {'ratio':>6} {'budget':>7}")
    for name, label, budget in TARGETS:
        if name not in per_request:
            continue
        ratio = per_request[name] / floor if floor else float("nan")
        verdict = "" if budget is None else ("ok" if ratio <= budget else "OVER")
        budget_text = "" if budget is None else f"<= {budget:.1f}"
        print(f"  {label:<62} {per_request[name] / 1e6:8.2f} {ratio:6.2f} {budget_text:>7} {verdict}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--requests", type=int, default=40, help="n: requests of the smaller measured region")
    parser.add_argument(
        "--postgres",
        nargs="?",
        const=DEFAULT_POSTGRES,
        default=None,
        metavar="URL",
        help=f"measure on PostgreSQL (a server URL whose user may create databases; default {DEFAULT_POSTGRES})",
    )
    parser.add_argument("--only", default=",".join(t[0] for t in TARGETS), help="comma-separated target names")
    parser.add_argument("--json", type=Path, default=None, help="also write the figures here")
    parser.add_argument("--inner", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--regions", help=argparse.SUPPRESS)
    parser.add_argument("--database-url", help=argparse.SUPPRESS)
    parser.add_argument("--baseline-url", help=argparse.SUPPRESS)
    args = parser.parse_args()
    args.only = [name for name in args.only.split(",") if name]
    unknown = set(args.only) - {t[0] for t in TARGETS}
    if unknown:
        parser.error(f"unknown targets: {', '.join(sorted(unknown))}")
    if args.inner:
        inner(args)
        return
    if FLOOR not in args.only:
        args.only.insert(0, FLOOR)
    per_request = run(args)
    report(per_request, bool(args.postgres))
    if args.json:
        args.json.write_text(json.dumps({"postgres": bool(args.postgres), "instructions": per_request}, indent=2))


if __name__ == "__main__":
    main()
