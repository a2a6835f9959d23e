"""Upload benchmark: ``mediavault serve`` against a bare-ASGI baseline, over real sockets.

Usage::

    python benchmarks/upload.py [--sizes 10M,100M,1G] [--tmp DIR] [--repeat N] [--json FILE] [--storage s3]

What it does:

1. starts ``mediavault serve`` (uvicorn, 1 worker) on a free port with a fresh data dir under ``--tmp``,
   and the baseline (``benchmarks/_baseline.py``: bare ASGI app under uvicorn with the same settings,
   writing the raw body to disk) on another;
2. registers and logs in;
3. for each size, uploads a ``multipart/form-data`` body whose file part is generated on the fly (one
   1 MiB random block, repeated), streamed by httpx with a ``Content-Length``; the client never holds
   more than that block. The same body goes to the baseline. After each upload the stored file is
   deleted (``DELETE /media/{id}``; the baseline's file is unlinked);
4. measures wall time (throughput in MiB/s) and the server process's memory: ``VmRSS`` from
   ``/proc/<pid>/status`` sampled every 20 ms in a thread, reported as peak minus the RSS just
   before the upload, plus ``VmHWM`` (reset through ``/proc/<pid>/clear_refs`` before each upload
   where the kernel allows it, so it is the exact per-upload peak even between samples);
5. prints a table. Goals (from the issue): RSS growth flat and < 64 MiB at 1 GiB; throughput
   at least 0.8x the baseline. Then CPU time per MiB of file (``/proc/<pid>/stat``, user + system, in 10 ms
   ticks): each server's whole process and its event loop's (main) thread alone, and the client's (this
   process), with the throughput ratio of each repeat's pair of uploads.

``--storage s3`` stores the uploads on S3 instead of local files: a moto server (``tests/s3.py``, in its own
process) on loopback, ``storage_url=s3://<fresh bucket>/bench``; the server's RSS then shows what the multipart
writer holds (parts of 8 MiB, one in flight). moto keeps objects in its own memory, not the server's.

Needs Linux (``/proc``). Everything it writes lives in one temporary directory, removed at the end.
"""

from __future__ import annotations

import argparse
import contextlib
import hashlib
import json
import os
import shutil
import statistics
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from pathlib import Path

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from _server import PREFIX, Process, Server, free_port, moto_storage_env  # noqa: E402

MiB = 1024 * 1024
BLOCK = MiB


# --------------------------------------------------------------------------- helpers


def parse_size(text: str) -> int:
    """``10M`` → 10 MiB, ``1G`` → 1 GiB, ``512K``, or plain bytes."""
    text = text.strip().upper().removesuffix("B").removesuffix("I")
    units = {"K": 1024, "M": MiB, "G": 1024 * MiB}
    if text and text[-1] in units:
        return int(float(text[:-1]) * units[text[-1]])
    return int(text)


def human(size: int) -> str:
    for unit, factor in (("GiB", 1024 * MiB), ("MiB", MiB), ("KiB", 1024)):
        if size >= factor and size % factor == 0:
            return f"{size // factor} {unit}"
    return f"{size} B"


def read_status(pid: int) -> dict[str, int]:
    """``VmRSS`` and ``VmHWM`` of ``pid`` in bytes."""
    out: dict[str, int] = {}
    with open(f"/proc/{pid}/status") as fh:
        for line in fh:
            if line.startswith(("VmRSS:", "VmHWM:")):
                name, value = line.split(":", 1)
                out[name] = int(value.split()[0]) * 1024
    return out


def cpu_seconds(pid: int, tid: int | None = None) -> float:
    """User + system CPU time so far, in seconds: of process ``pid`` (all its threads; ``/proc/<pid>/stat``), or of
    its thread ``tid`` alone (``/proc/<pid>/task/<tid>/stat``; the main thread's ``tid`` is ``pid``)."""
    path = f"/proc/{pid}/stat" if tid is None else f"/proc/{pid}/task/{tid}/stat"
    with open(path) as fh:
        fields = fh.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def reset_hwm(pid: int) -> bool:
    """Reset the peak RSS (``VmHWM``) of ``pid`` to its current RSS (Linux >= 4.0)."""
    try:
        with open(f"/proc/{pid}/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


class RssSampler(threading.Thread):
    """Samples ``VmRSS`` of ``pid`` every ``interval`` seconds until stopped."""

    def __init__(self, pid: int, interval: float = 0.02) -> None:
        super().__init__(daemon=True)
        self.pid = pid
        self.interval = interval
        self.peak = 0
        self.samples = 0
        self._stop_event = threading.Event()

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.peak = max(self.peak, read_status(self.pid)["VmRSS"])
                self.samples += 1
            except (OSError, KeyError):
                return
            self._stop_event.wait(self.interval)

    def stop(self) -> None:
        self._stop_event.set()
        self.join()


class Multipart:
    """A one-file ``multipart/form-data`` body of ``size`` file bytes, generated lazily from one block."""

    def __init__(self, size: int, block: bytes, filename: str = "bench.bin") -> None:
        self.size = size
        self.block = block
        self.boundary = uuid.uuid4().hex
        self.head = (
            f"--{self.boundary}\r\n"
            f'Content-Disposition: form-data; name="file"; filename="{filename}"\r\n'
            "Content-Type: application/octet-stream\r\n\r\n"
        ).encode()
        self.tail = f"\r\n--{self.boundary}--\r\n".encode()

    @property
    def content_type(self) -> str:
        return f"multipart/form-data; boundary={self.boundary}"

    @property
    def length(self) -> int:
        return len(self.head) + self.size + len(self.tail)

    def file_chunks(self) -> Iterator[bytes]:
        left = self.size
        view = memoryview(self.block)
        while left > 0:
            n = min(len(self.block), left)
            left -= n
            yield self.block if n == len(self.block) else bytes(view[:n])

    def __iter__(self) -> Iterator[bytes]:
        yield self.head
        yield from self.file_chunks()
        yield self.tail

    def sha256(self) -> str:
        digest = hashlib.sha256()
        for chunk in self.file_chunks():
            digest.update(chunk)
        return digest.hexdigest()


# --------------------------------------------------------------------------- servers


@dataclass
class Measurement:
    seconds: float
    rss_before: int
    rss_peak_growth: int
    hwm: int
    hwm_growth: int | None
    cpu_seconds: float = 0.0
    loop_cpu_seconds: float = 0.0
    client_cpu_seconds: float = 0.0

    @property
    def mib_s(self) -> float:
        return 0.0 if self.seconds == 0 else self.size / MiB / self.seconds

    @property
    def cpu_ms_per_mib(self) -> float:
        return 0.0 if self.size == 0 else self.cpu_seconds * 1000 / (self.size / MiB)

    @property
    def loop_cpu_ms_per_mib(self) -> float:
        return 0.0 if self.size == 0 else self.loop_cpu_seconds * 1000 / (self.size / MiB)

    @property
    def client_cpu_ms_per_mib(self) -> float:
        return 0.0 if self.size == 0 else self.client_cpu_seconds * 1000 / (self.size / MiB)

    size: int = 0


def measure(server: Process, client: httpx.Client, url: str, body: Multipart, headers: dict[str, str]) -> tuple:
    """Upload ``body`` once; returns (response, Measurement)."""
    exact_hwm = reset_hwm(server.pid)
    before = read_status(server.pid)["VmRSS"]
    sampler = RssSampler(server.pid)
    sampler.start()
    cpu_before, loop_before = cpu_seconds(server.pid), cpu_seconds(server.pid, server.pid)
    client_before = time.process_time()
    started = time.perf_counter()
    response = client.post(
        url,
        content=iter(body),
        headers={**headers, "Content-Type": body.content_type, "Content-Length": str(body.length)},
    )
    seconds = time.perf_counter() - started
    cpu, loop_cpu = cpu_seconds(server.pid) - cpu_before, cpu_seconds(server.pid, server.pid) - loop_before
    client_cpu = time.process_time() - client_before
    sampler.stop()
    status = read_status(server.pid)
    peak = max(sampler.peak, status["VmRSS"])
    m = Measurement(
        seconds=seconds,
        rss_before=before,
        rss_peak_growth=peak - before,
        hwm=status["VmHWM"],
        hwm_growth=status["VmHWM"] - before if exact_hwm else None,
        cpu_seconds=cpu,
        loop_cpu_seconds=loop_cpu,
        client_cpu_seconds=client_cpu,
        size=body.size,
    )
    return response, m


# --------------------------------------------------------------------------- main


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sizes", default="10M,100M,1G", help="comma-separated sizes (K/M/G = KiB/MiB/GiB)")
    parser.add_argument("--tmp", default=None, help="parent directory for the data dirs (default: system temp)")
    parser.add_argument("--repeat", type=int, default=1, help="uploads per size and server; the median is reported")
    parser.add_argument("--no-verify", action="store_true", help="skip comparing the stored SHA-256 and size")
    parser.add_argument("--no-baseline", action="store_true", help="measure only mediavault")
    parser.add_argument(
        "--baseline-mode",
        choices=("thread", "blocking", "discard"),
        default="thread",
        help="how the baseline writes: 1 MiB batches in a worker thread (like mediavault's storage; default), "
        "every chunk with a blocking write on the event loop, or not at all (network ceiling)",
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the results as JSON here")
    parser.add_argument(
        "--storage",
        choices=("local", "s3"),
        default="local",
        help="where mediavault stores uploads: local files (default) or S3 (a moto server on loopback)",
    )
    args = parser.parse_args()

    sizes = [parse_size(s) for s in args.sizes.split(",") if s.strip()]
    biggest = max(sizes)
    tmp_parent = Path(args.tmp or tempfile.gettempdir())
    tmp_parent.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(tmp_parent).free
    if free < 2 * biggest + 512 * MiB:
        print(f"not enough disk space in {tmp_parent}: {free / MiB:.0f} MiB free", file=sys.stderr)
        return 2

    root = Path(tempfile.mkdtemp(prefix="mediavault-bench-", dir=tmp_parent))
    servers: list[Process] = []
    stack = contextlib.ExitStack()
    try:
        env = {
            "MEDIAVAULT_MAX_UPLOAD_SIZE": str(max(biggest, 1024 * MiB)),
            "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": "100000",
        }
        if args.storage == "s3":
            env.update(moto_storage_env(stack))
        mv = Server(root / "mediavault-data", env, timeout=60)
        servers.append(mv)

        base: Process | None = None
        if not args.no_baseline:
            out_dir = root / "baseline-out"
            port = free_port()
            base_cmd = [sys.executable, str(HERE / "_baseline.py"), "--port", str(port), "--out-dir", str(out_dir)]
            base_cmd += ["--mode", args.baseline_mode]
            clean = {k: v for k, v in os.environ.items() if not k.startswith("MEDIAVAULT_")}
            base = Process("baseline", base_cmd, port, "/", clean, root / "baseline.log", timeout=60)
            servers.append(base)

        block = os.urandom(BLOCK)
        results = []
        with httpx.Client(base_url=mv.base_url + PREFIX, timeout=httpx.Timeout(600.0)) as client:
            email, password = "bench@example.com", "benchmark password"
            assert client.post("/auth/register", json={"email": email, "password": password}).status_code == 201
            login = client.post("/auth/login", json={"username": email, "password": password})
            auth = {"Authorization": f"Bearer {login.json()['data']['token']}"}

            def upload_mv(body: Multipart) -> Measurement:
                response, m = measure(mv, client, "/media/upload", body, auth)
                if response.status_code != 201:
                    raise RuntimeError(f"mediavault upload failed: {response.status_code} {response.text[:500]}")
                media = response.json()["data"]
                assert media["size"] == body.size, media
                if not args.no_verify:
                    assert media["checksum_sha256"] == body.sha256(), "checksum mismatch"
                assert client.delete(f"/media/{media['id']}", headers=auth).status_code == 204
                return m

            def upload_base(body: Multipart) -> Measurement:
                assert base is not None
                with httpx.Client(base_url=base.base_url, timeout=httpx.Timeout(600.0)) as bclient:
                    response, m = measure(base, bclient, "/upload", body, {})
                if response.status_code != 201:
                    raise RuntimeError(f"baseline upload failed: {response.status_code} {response.text[:500]}")
                data = response.json()
                assert data["size"] == body.length, data
                os.unlink(data["path"])
                return m

            # Warm-up: first-request costs (lazy imports, DB pool, thread pool) are not per-upload growth.
            upload_mv(Multipart(MiB, block))
            if base:
                upload_base(Multipart(MiB, block))

            for size in sizes:
                mv_runs, base_runs = [], []
                for _ in range(args.repeat):
                    mv_runs.append(upload_mv(Multipart(size, block)))
                    if base:
                        base_runs.append(upload_base(Multipart(size, block)))
                results.append((size, mv_runs, base_runs))
                print(f"  done {human(size)}", file=sys.stderr, flush=True)

        print_table(
            results,
            repeat=args.repeat,
            baseline_mode=None if args.no_baseline else args.baseline_mode,
            storage=args.storage,
        )
        if args.json:
            args.json.write_text(
                json.dumps(
                    [
                        {
                            "size": size,
                            "mediavault": [
                                asdict(m) | {"mib_s": m.mib_s, "cpu_ms_per_mib": m.cpu_ms_per_mib} for m in mv_runs
                            ],
                            "baseline": [
                                asdict(m) | {"mib_s": m.mib_s, "cpu_ms_per_mib": m.cpu_ms_per_mib} for m in base_runs
                            ],
                        }
                        for size, mv_runs, base_runs in results
                    ],
                    indent=2,
                )
            )
        return 0
    finally:
        for server in servers:
            server.stop()
        stack.close()
        shutil.rmtree(root, ignore_errors=True)


def _median(runs: list[Measurement], attr: str) -> float:
    return statistics.median(getattr(m, attr) for m in runs)


def print_table(results: list, repeat: int, baseline_mode: str | None, storage: str = "local") -> None:
    print()
    print(f"Upload benchmark (median of {repeat}; uvicorn, 1 worker, 127.0.0.1; RSS growth = peak - before upload)")
    print("mediavault storage: " + ("S3 (moto server on 127.0.0.1, multipart)" if storage == "s3" else "local files"))
    if baseline_mode:
        print(f"baseline: bare ASGI app, body written to disk ({baseline_mode} mode)")
    header = (
        f"{'size':>8} | {'mediavault MiB/s':>16} | {'baseline MiB/s':>14} | {'ratio':>5} | "
        f"{'mv RSS growth MiB':>17} | {'mv HWM growth MiB':>17} | {'base RSS growth MiB':>19} | "
        f"{'base HWM growth MiB':>19}"
    )
    print(header)
    print("-" * len(header))
    for size, mv_runs, base_runs in results:
        mv_speed = _median(mv_runs, "mib_s")
        mv_rss = max(m.rss_peak_growth for m in mv_runs) / MiB
        mv_hwm = [m.hwm_growth for m in mv_runs if m.hwm_growth is not None]
        if base_runs:
            base_speed = _median(base_runs, "mib_s")
            base_rss = max(m.rss_peak_growth for m in base_runs) / MiB
            base_hwm = [m.hwm_growth for m in base_runs if m.hwm_growth is not None]
            ratio = f"{mv_speed / base_speed:5.2f}"
            base_cols = f"{base_speed:14.1f}"
            base_mem = f"{base_rss:19.1f} | " + (f"{max(base_hwm) / MiB:19.1f}" if base_hwm else f"{'n/a':>19}")
        else:
            ratio, base_cols, base_mem = f"{'-':>5}", f"{'-':>14}", f"{'-':>19} | {'-':>19}"
        mv_hwm_col = f"{max(mv_hwm) / MiB:17.1f}" if mv_hwm else f"{'n/a':>17}"
        row = f"{human(size):>8} | {mv_speed:16.1f} | {base_cols} | {ratio} | {mv_rss:17.1f} | {mv_hwm_col}"
        print(f"{row} | {base_mem}")
    print()
    print("server CPU time per MiB of file (user + system; all threads / the event loop's thread), median;")
    print("the client's (this process, httpx sending) CPU per MiB sending to mediavault; per-run throughput ratios")
    print("(mediavault / baseline, the two uploads of one repeat)")
    for size, mv_runs, base_runs in results:
        mv_cpu, mv_loop = _median(mv_runs, "cpu_ms_per_mib"), _median(mv_runs, "loop_cpu_ms_per_mib")
        client = _median(mv_runs, "client_cpu_ms_per_mib")
        line = f"{human(size):>8} | mediavault {mv_cpu:5.2f} / {mv_loop:5.2f} ms | client {client:5.2f} ms"
        if base_runs:
            base_cpu, base_loop = _median(base_runs, "cpu_ms_per_mib"), _median(base_runs, "loop_cpu_ms_per_mib")
            pairs = " ".join(f"{m.mib_s / b.mib_s:.2f}" for m, b in zip(mv_runs, base_runs, strict=True))
            line += f" | baseline {base_cpu:5.2f} / {base_loop:5.2f} ms | per-run ratios {pairs}"
        print(line)
    print()


if __name__ == "__main__":
    sys.exit(main())
