"""SDK and CLI benchmark against a real ``mediavault serve`` on loopback.

Usage::

    python benchmarks/sdk.py [--size 256M] [--files 200] [--file-size 64K] [--tmp DIR]

What it measures, each next to a baseline made in the same run:

1. one large file (``--size``, random bytes on disk) uploaded with ``Client.upload(path)`` and
   ``AsyncClient.upload(path)``, against plain ``httpx.Client.post(files={"file": fh})`` (httpx's own multipart
   encoder streaming the same file); wall time (MiB/s) and the client's peak Python allocations (``tracemalloc``,
   measured in a separate pass so it does not slow the timed one);
2. the same file downloaded with ``Client.download(id, path)`` against ``httpx.Client.stream`` into a file;
3. ``mediavault upload`` of a folder of ``--files`` files of ``--file-size`` each, in this process (click's
   runner, so no interpreter start-up is counted), with ``-j 1`` and ``-j 4``, then the same command again when
   everything is already there (all skipped: one SHA-256 and one ``GET /media?checksum_sha256=`` per file).

Everything it writes lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import shutil
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
from click.testing import CliRunner

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mediavault_cli._app import cli
from mediavault_sdk import AsyncClient, Client

from benchmarks._server import PREFIX, Server

PASSWORD = "correct horse battery"
MIB = 1024 * 1024


def _bytes(text: str) -> int:
    units = {"K": 1024, "M": MIB, "G": 1024 * MIB}
    return int(text[:-1]) * units[text[-1].upper()] if text[-1].upper() in units else int(text)


def _timed(fn: Callable[[], Any]) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _peak(fn: Callable[[], Any]) -> int:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--size", default="256M")
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--file-size", default="64K")
    parser.add_argument("--tmp", default=None)
    args = parser.parse_args()
    size, file_size = _bytes(args.size), _bytes(args.file_size)
    root = Path(tempfile.mkdtemp(prefix="mv-sdk-bench-", dir=args.tmp))
    server = Server(
        root / "data", {"MEDIAVAULT_MAX_UPLOAD_SIZE": str(4 * size), "MEDIAVAULT_PROCESSING_WORKER": "false"}
    )
    try:
        big = root / "big.bin"
        with big.open("wb") as fh:
            for _ in range(size // MIB):
                fh.write(os.urandom(MIB))
        with Client(server.base) as vault:
            vault.register("bench@example.com", PASSWORD)
            vault.login("bench@example.com", PASSWORD)
            key = vault.create_api_key("bench").key
        headers = {"X-API-Key": key}
        results: list[tuple[str, float, int]] = []

        with (
            Client(server.base, api_key=key, timeout=300) as vault,
            httpx.Client(base_url=server.base + PREFIX, headers=headers, timeout=300) as raw,
        ):

            def baseline_upload() -> None:
                with big.open("rb") as fh:
                    response = raw.post("/media/upload", files={"file": ("big.bin", fh)})
                response.raise_for_status()
                raw.delete(f"/media/{response.json()['data']['id']}")

            def sdk_upload() -> None:
                vault.delete_media(vault.upload(big).id)

            def async_upload() -> None:
                async def run() -> None:
                    async with AsyncClient(server.base, api_key=key, timeout=300) as avault:
                        await avault.delete_media((await avault.upload(big)).id)

                asyncio.run(run())

            for name, fn in (
                ("upload: httpx files= (baseline)", baseline_upload),
                ("upload: Client.upload(path)", sdk_upload),
                ("upload: AsyncClient.upload(path)", async_upload),
            ):
                seconds = min(_timed(fn) for _ in range(2))
                results.append((name, seconds, _peak(fn)))

            media_id = vault.upload(big).id
            out = root / "out.bin"

            def baseline_download() -> None:
                with raw.stream("GET", f"/media/{media_id}/content") as response, out.open("wb") as fh:
                    for chunk in response.iter_bytes():
                        fh.write(chunk)

            def sdk_download() -> None:
                vault.download(media_id, out)

            for name, fn in (
                ("download: Client.download(path)", sdk_download),
                ("download: httpx stream (baseline)", baseline_download),
            ):
                seconds = min(_timed(fn) for _ in range(2))
                results.append((name, seconds, _peak(fn)))
            vault.delete_media(media_id)

        print(f"\none {size / MIB:.0f} MiB file (best of 2; peak = client's Python allocations)")
        print(f"{'':40} {'MiB/s':>8} {'peak KiB':>10}")
        for name, seconds, peak in results:
            print(f"{name:40} {size / MIB / seconds:8.0f} {peak / 1024:10.0f}")

        folder = root / "folder"
        for i in range(args.files):
            sub = folder / f"d{i % 10}"
            sub.mkdir(parents=True, exist_ok=True)
            (sub / f"f{i:04}.bin").write_bytes(os.urandom(file_size))
        env = {k: None for k in os.environ if k.startswith("MEDIAVAULT_")}
        env.update({"MEDIAVAULT_URL": server.base, "MEDIAVAULT_API_KEY": key})
        runner = CliRunner()
        print(f"\nmediavault upload: {args.files} files of {file_size // 1024} KiB (in process, no start-up)")
        for label, options in (("-j 1", ["-j", "1"]), ("-j 4", ["-j", "4"]), ("-j 4, all already there", ["-j", "4"])):
            if not label.endswith("there"):
                with Client(server.base, api_key=key) as vault:
                    for media in list(vault.iter_media(per_page=100)):
                        vault.delete_media(media.id)
            start = time.perf_counter()
            result = runner.invoke(cli, ["upload", *options, str(folder)], env=env)
            seconds = time.perf_counter() - start
            summary = result.output.strip().splitlines()[-1]
            print(f"{label:28} {seconds:6.2f} s  {args.files / seconds:6.0f} files/s   ({summary})")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
