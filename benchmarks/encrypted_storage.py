"""Encryption at rest (``plugins/mediavault-encrypted``): its cost over the plain fsspec backend, same run.

Usage::

    python benchmarks/encrypted_storage.py [--size 256M] [--repeat 3] [--ranges 500] [--tmp DIR]

For the plain :class:`~mediavault.storage.fsspec.FsspecStorage` (the baseline) and for
:class:`~mediavault_encrypted.EncryptedStorage` over the same kind of local directory, in this process:

1. **write**: one object of ``--size`` bytes through ``open_writer``/``write``/``close`` in 1 MiB pieces (what
   an upload hands the backend), from one repeated random 1 MiB block; MiB/s of plaintext;
2. **read**: the whole object through ``read()`` (256 KiB chunks, as downloads use); MiB/s;
3. **range**: ``--ranges`` random 4 KiB ``read(key, start, start + 4096)`` calls (a ``Range`` request each:
   open, header, seek, at most two chunks decrypted); p50 / p99 in milliseconds;
4. memory: the growth of this process's peak RSS (``VmHWM``, reset through ``/proc/self/clear_refs`` before each
   phase) during write and read: it must stay flat whatever ``--size``.

A 16 MiB warm-up write goes to each backend first. The median of ``--repeat`` runs is printed for throughput,
the maximum for memory. Linux only (``/proc``).
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "plugins" / "mediavault-encrypted"))

from mediavault_encrypted import EncryptedStorage, Keyring  # noqa: E402

from mediavault.storage.base import StorageBackend  # noqa: E402
from mediavault.storage.fsspec import FsspecStorage  # noqa: E402

MIB = 1024 * 1024


def parse_size(text: str) -> int:
    units = {"K": 1024, "M": MIB, "G": 1024 * MIB}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def _status_kib(field: str) -> int:
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith(field + ":"):
            return int(line.split()[1])
    raise RuntimeError(f"{field} not in /proc/self/status")


def _reset_peak() -> None:
    Path("/proc/self/clear_refs").write_text("5")


async def _phase_write(backend: StorageBackend, key: str, size: int, block: bytes) -> tuple[float, float]:
    _reset_peak()
    base = _status_kib("VmRSS")
    started = time.perf_counter()
    writer = await backend.open_writer(key)
    for offset in range(0, size, len(block)):
        await writer.write(block[: min(len(block), size - offset)])
    await writer.close()
    elapsed = time.perf_counter() - started
    return size / MIB / elapsed, (_status_kib("VmHWM") - base) / 1024


async def _phase_read(backend: StorageBackend, key: str, size: int) -> tuple[float, float]:
    _reset_peak()
    base = _status_kib("VmRSS")
    started = time.perf_counter()
    total = 0
    async for chunk in backend.read(key):
        total += len(chunk)
    elapsed = time.perf_counter() - started
    assert total == size, (total, size)
    return size / MIB / elapsed, (_status_kib("VmHWM") - base) / 1024


async def _phase_ranges(backend: StorageBackend, key: str, size: int, count: int) -> list[float]:
    rng = random.Random(7)
    times = []
    for _ in range(count):
        start = rng.randrange(size - 4096)
        began = time.perf_counter()
        data = b"".join([chunk async for chunk in backend.read(key, start, start + 4096)])
        times.append((time.perf_counter() - began) * 1000)
        assert len(data) == 4096
    return times


async def run(args: argparse.Namespace, tmp: Path) -> None:
    block = os.urandom(MIB)
    backends: dict[str, StorageBackend] = {
        "plain fsspec (baseline)": FsspecStorage((tmp / "plain").as_uri()),
        "encrypted (64 KiB chunks)": EncryptedStorage(FsspecStorage((tmp / "enc").as_uri()), Keyring([os.urandom(32)])),
    }
    print(f"object size {args.size // MIB} MiB, {args.repeat} runs (median throughput, max memory)")
    print(f"{'backend':<27} | write MiB/s | read MiB/s | write HWM +MiB | read HWM +MiB | 4 KiB range p50/p99 ms")
    for name, backend in backends.items():
        writes, reads, write_mem, read_mem, ranges = [], [], [], [], []
        await _phase_write(backend, "media/bench/warm-up", 16 * MIB, block)  # threads, page cache, imports
        await backend.delete("media/bench/warm-up")
        for run_number in range(args.repeat):
            key = f"media/bench/{run_number}"
            speed, memory = await _phase_write(backend, key, args.size, block)
            writes.append(speed)
            write_mem.append(memory)
            speed, memory = await _phase_read(backend, key, args.size)
            reads.append(speed)
            read_mem.append(memory)
            ranges += await _phase_ranges(backend, key, args.size, args.ranges)
            await backend.delete(key)
        q = statistics.quantiles(ranges, n=100)
        print(
            f"{name:<27} | {statistics.median(writes):11.0f} | {statistics.median(reads):10.0f} | "
            f"{max(write_mem):13.1f} | {max(read_mem):13.1f} | {q[49]:.2f} / {q[98]:.2f}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--size", type=parse_size, default=parse_size("256M"))
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--ranges", type=int, default=500)
    parser.add_argument("--tmp", type=Path, default=None, help="directory for the objects (default: system temp)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(dir=args.tmp) as tmp:
        asyncio.run(run(args, Path(tmp)))


if __name__ == "__main__":
    main()
