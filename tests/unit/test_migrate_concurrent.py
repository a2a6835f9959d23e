"""Several processes migrating one PostgreSQL database at once (every app process starting with auto_migrate)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

from sqlalchemy import text

from mediavault.db.engine import VERSION_TABLE, create_engine
from tests.backends import BACKENDS

# Each process imports everything, says "ready" and waits for "go", so the migrations really overlap.
_MIGRATE_ON_GO = """
import asyncio, sys
from mediavault.db.engine import create_engine, migrate
async def main():
    engine = create_engine(sys.argv[1])
    try:
        await migrate(engine)
    finally:
        await engine.dispose()
print("ready", flush=True)
sys.stdin.readline()
asyncio.run(main())
"""


async def _versions(url: str) -> list[str]:
    engine = create_engine(url)
    try:
        async with engine.connect() as conn:
            return list((await conn.execute(text(f"SELECT version_num FROM {VERSION_TABLE}"))).scalars())
    finally:
        await engine.dispose()


def test_processes_migrating_one_postgresql_database_at_once_all_succeed(tmp_path: Path) -> None:
    url = BACKENDS.postgres_url(tmp_path)  # an empty schema of its own, on both legs of the matrix
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", _MIGRATE_ON_GO, url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        for _ in range(2)
    ]
    try:
        for proc in procs:
            assert proc.stdout is not None and proc.stdout.readline() == b"ready\n"
        for proc in procs:
            assert proc.stdin is not None
            proc.stdin.write(b"go\n")
            proc.stdin.flush()
        outputs = [proc.communicate(timeout=60)[0].decode(errors="replace") for proc in procs]
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert [proc.returncode for proc in procs] == [0, 0], "\n".join(outputs)
    versions = asyncio.run(_versions(url))
    assert versions and len(versions) == len(set(versions))
