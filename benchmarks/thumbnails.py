"""Media processing benchmark: time and peak RSS to process a 24-megapixel JPEG (6000 x 4000), and a huge PNG.

Usage::

    python benchmarks/thumbnails.py [--runs 3] [--sizes 256,1024] [--format webp] [--json FILE] [--skip-jpeg]

A photo-like JPEG (gradients and noise, quality 90, ~6-10 MB, EXIF with orientation 6 and a GPS position) is
generated once. Each measurement runs in a fresh Python process whose RSS a thread samples every millisecond
(``/proc/self/statm``): peak RSS during the work, and how much that is above the process's RSS just before it
(imports done). Repeated ``--runs`` times (median time, largest memory):

1. **baseline, naive**: what a processor written without care does: ``Image.open().load()`` decodes every pixel,
   then ``exif_transpose`` and one ``thumbnail()`` per size, saved in the same format;
2. **thumbnails**: the vault's ``ThumbnailProcessor`` (``draft()`` DCT scaling to the largest size, then each
   smaller size from the one above);
3. **all built-ins**: ``image`` metadata + ``thumbnails`` + the ``share`` copy (lossless metadata strip), i.e.
   what the processing worker does per uploaded photo.

Then a 9000 x 9000 PNG of ~250 kB (two flat halves: it compresses to nothing, decodes to 324 MB), two of them
processed at once in two threads (``processing_concurrency`` 2), peak RSS and what the process still holds after
(RSS once the work is over and garbage collected):

4. **baseline, the processors before the memory budget**: each thread reads the EXIF with ``getexif()`` (which
   decodes a PNG whole to look for an ``eXIf`` chunk after the pixels), then decodes again, ``exif_transpose``
   (a whole copy) and ``thumbnail()`` per size;
5. **all built-ins**, as the hook makes them: one :class:`~mediavault.processing.budget.MemoryBudget` (default
   512 MiB) so the second decode waits for the first, no whole copy, and freed memory handed back (``malloc_trim``).
"""

from __future__ import annotations

import argparse
import io
import json
import statistics
import subprocess
import sys
import tempfile
from pathlib import Path

CHILD = r"""
import io, json, os, sys, threading, time
from functools import partial
from PIL import Image, ImageOps
from mediavault.config import MediaVaultConfig
from mediavault.processing.base import MediaSource
from mediavault.processing.images import ImageMetadataProcessor, ShareCopyProcessor, ThumbnailProcessor

path, mode, sizes, fmt = sys.argv[1], sys.argv[2], tuple(int(s) for s in sys.argv[3].split(",")), sys.argv[4]
config = MediaVaultConfig(secret_key="x" * 32, thumbnail_sizes=sizes, thumbnail_format=fmt)
data_size = os.path.getsize(path)
source = MediaSource(id="bench", filename="photo.jpg", content_type="image/jpeg", kind="image", size=data_size,
                     checksum_sha256="0" * 64, open=partial(open, path, "rb"), config=config)
PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE
before, highest, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        highest[0] = max(highest[0], rss())
        time.sleep(0.001)
sampler = threading.Thread(target=sample)
sampler.start()
start = time.perf_counter()
if mode == "naive":
    with Image.open(path) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
    for size in sizes:
        thumb = upright.copy()
        thumb.thumbnail((size, size), Image.Resampling.LANCZOS)
        thumb.save(io.BytesIO(), "WEBP" if fmt == "webp" else "JPEG", quality=82)
    made = len(sizes)
else:
    processors = [ThumbnailProcessor(config)]
    if mode == "all":
        processors = [ImageMetadataProcessor(config), *processors, ShareCopyProcessor(config)]
    made = sum(len(p.process(source).variants) for p in processors)
elapsed = time.perf_counter() - start
done.set()
sampler.join()
peak = max(highest[0], rss())
result = {"seconds": elapsed, "peak_rss_mib": peak / 2**20, "added_mib": (peak - before) / 2**20, "variants": made}
print(json.dumps(result))
"""


HUGE_CHILD = r"""
import gc, io, json, os, sys, threading, time
from functools import partial
from PIL import Image, ImageOps
from mediavault._builtins import mediavault_media_processors
from mediavault.config import MediaVaultConfig
from mediavault.processing.base import MediaSource

path, mode, sizes = sys.argv[1], sys.argv[2], tuple(int(s) for s in sys.argv[3].split(","))
config = MediaVaultConfig(secret_key="x" * 32, thumbnail_sizes=sizes)
processors = mediavault_media_processors(config)
source = MediaSource(id="bench", filename="huge.png", content_type="image/png", kind="image",
                     size=os.path.getsize(path), checksum_sha256="0" * 64, open=partial(open, path, "rb"),
                     config=config)
PAGE = os.sysconf("SC_PAGE_SIZE")
def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * PAGE
def naive():
    with Image.open(path) as image:
        image.getexif()  # decodes the PNG whole, looking for eXIf after the pixels
    with Image.open(path) as image:
        image.load()
        upright = ImageOps.exif_transpose(image)
    for size in sizes:
        upright.thumbnail((size, size), Image.Resampling.LANCZOS)
        upright.save(io.BytesIO(), "WEBP", quality=82)
def vault():
    for processor in processors:
        processor.process(source)
before, highest, done = rss(), [0], threading.Event()
def sample():
    while not done.is_set():
        highest[0] = max(highest[0], rss())
        time.sleep(0.001)
sampler = threading.Thread(target=sample)
sampler.start()
start = time.perf_counter()
threads = [threading.Thread(target=naive if mode == "naive" else vault) for _ in range(2)]
for thread in threads:
    thread.start()
for thread in threads:
    thread.join()
elapsed = time.perf_counter() - start
done.set()
sampler.join()
gc.collect()
time.sleep(0.3)
result = {"seconds": elapsed, "peak_rss_mib": max(highest[0], rss()) / 2**20, "before_mib": before / 2**20,
          "retained_mib": rss() / 2**20}
print(json.dumps(result))
"""


def make_huge_png(path: Path) -> int:
    """Write a 9000 x 9000 RGB PNG of two flat halves (~250 kB) to ``path``; its size in bytes."""
    from PIL import Image

    image = Image.new("RGB", (9000, 9000), (30, 120, 200))
    image.paste((200, 30, 30), (0, 0, 4500, 9000))
    image.save(path, "PNG")
    return path.stat().st_size


def measure_huge(path: Path, mode: str, sizes: str, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", HUGE_CHILD, str(path), mode, sizes], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "before_mib": min(r["before_mib"] for r in results),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
        "retained_mib": max(r["retained_mib"] for r in results),
    }


def make_photo(path: Path) -> int:
    """Write a 6000 x 4000 photo-like JPEG with EXIF (orientation 6, GPS) to ``path``; its size in bytes."""
    from PIL import Image

    width, height = 6000, 4000
    gradient = Image.linear_gradient("L").resize((width, height))
    noise = Image.effect_noise((width, height), 40)
    image = Image.merge("RGB", (gradient, noise, gradient.transpose(Image.Transpose.FLIP_LEFT_RIGHT)))
    exif = Image.Exif()
    exif[0x0112] = 6
    exif[0x010F], exif[0x0110] = "Benchmark", "24MP"
    exif.get_ifd(0x8825).update({1: "N", 2: (48.0, 51.0, 30.0), 3: "E", 4: (2.0, 17.0, 40.0)})
    buf = io.BytesIO()
    image.save(buf, "JPEG", quality=90, exif=exif.tobytes())
    path.write_bytes(buf.getvalue())
    return len(buf.getvalue())


def measure(path: Path, mode: str, sizes: str, fmt: str, runs: int) -> dict[str, float]:
    results = []
    for _ in range(runs):
        out = subprocess.run(
            [sys.executable, "-c", CHILD, str(path), mode, sizes, fmt], capture_output=True, text=True, check=True
        )
        results.append(json.loads(out.stdout))
    return {
        "seconds": statistics.median(r["seconds"] for r in results),
        "peak_rss_mib": max(r["peak_rss_mib"] for r in results),
        "added_mib": max(r["added_mib"] for r in results),
        "variants": results[0]["variants"],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=3)
    parser.add_argument("--sizes", default="256,1024")
    parser.add_argument("--format", default="webp", choices=("webp", "jpeg"))
    parser.add_argument("--json", type=Path)
    parser.add_argument("--skip-jpeg", action="store_true", help="only the huge PNG")
    args = parser.parse_args()
    report: dict[str, dict[str, float]] = {}
    with tempfile.TemporaryDirectory() as tmp:
        if not args.skip_jpeg:
            jpeg_benchmark(Path(tmp) / "photo.jpg", args, report)
        path = Path(tmp) / "huge.png"
        size = make_huge_png(path)
        print(f"9000x9000 PNG ({size / 1e3:.0f} kB), two processed at once; sizes {args.sizes}, webp")
        for mode, label in (
            ("naive", "baseline: getexif() + load + exif_transpose + thumbnail()"),
            ("vault", "all built-ins (memory budget, no whole copy, malloc_trim)"),
        ):
            result = measure_huge(path, mode, args.sizes, args.runs)
            report[f"huge-{mode}"] = result
            print(
                f"  {label:<60} {result['seconds'] * 1000:6.0f} ms  RSS {result['before_mib']:5.0f} MiB idle,"
                f" peak {result['peak_rss_mib']:6.0f} MiB, {result['retained_mib']:5.0f} MiB after"
            )
    if args.json:
        args.json.write_text(json.dumps(report, indent=2))


def jpeg_benchmark(path: Path, args: argparse.Namespace, report: dict[str, dict[str, float]]) -> None:
    """The 24-megapixel JPEG: naive, thumbnails, all built-ins."""
    size = make_photo(path)
    print(f"24-megapixel JPEG (6000x4000, q90, EXIF): {size / 1e6:.1f} MB; sizes {args.sizes}, {args.format}")
    for mode, label in (
        ("naive", "baseline: full decode + thumbnail()"),
        ("thumbnails", "ThumbnailProcessor (draft)"),
        ("all", "all built-ins (metadata, thumbnails, share copy)"),
    ):
        result = measure(path, mode, args.sizes, args.format, args.runs)
        report[mode] = result
        print(
            f"  {label:<50} {result['seconds'] * 1000:6.0f} ms  peak RSS {result['peak_rss_mib']:6.1f} MiB"
            f" (+{result['added_mib']:5.1f} over the idle process)  {result['variants']} variants"
        )


if __name__ == "__main__":
    main()
