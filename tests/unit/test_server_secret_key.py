"""The reference server's generated secret key when several processes start at once on a fresh data dir."""

from __future__ import annotations

import multiprocessing
import stat
from pathlib import Path

from mediavault.server import _secret_key

PROCESSES = 8


def _read_key(data_dir: Path, barrier: multiprocessing.synchronize.Barrier, out: multiprocessing.Queue[str]) -> None:
    barrier.wait()
    out.put(_secret_key(data_dir))


def test_processes_starting_at_once_all_read_the_same_complete_key(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    ctx = multiprocessing.get_context("fork")
    barrier, out = ctx.Barrier(PROCESSES), ctx.Queue()
    procs = [ctx.Process(target=_read_key, args=(data_dir, barrier, out)) for _ in range(PROCESSES)]
    for proc in procs:
        proc.start()
    keys = [out.get(timeout=30) for _ in procs]
    for proc in procs:
        proc.join(30)
    assert [proc.exitcode for proc in procs] == [0] * PROCESSES
    assert len(set(keys)) == 1 and len(keys[0]) >= 32
    assert sorted(p.name for p in data_dir.iterdir()) == ["secret_key"]  # no temporary file left behind
    assert stat.S_IMODE((data_dir / "secret_key").stat().st_mode) == 0o600
    assert _secret_key(data_dir) == keys[0]  # reused on the next start
