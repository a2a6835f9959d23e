"""Start-up of the Python SDK and of the ``mediavault`` command, each in fresh interpreters, next to baselines
measured in the same run.

    python benchmarks/sdk_startup.py [--rounds 7]

Builds two temporary virtual environments, one holding only ``sdks/python`` (httpx, msgspec) and one
``sdks/python[cli]`` (+ click, rich; httpx then also imports its own command line's click and rich), then times,
round-robin so load on the machine hits every variant alike: ``python -c pass``, ``import httpx, msgspec`` (the
floor: the SDK's two dependencies) and ``import mediavault_sdk`` in the first; ``mediavault --version`` and
``mediavault upload --help`` in the second; and, in this interpreter's environment (the server installed),
``mediavault upload --help``, ``mediavault --help`` (which lists the server's commands, so imports the server) and
``import mediavault.client`` (the former name, through the server package). Prints the median and the minimum wall
time of each, the median CPU time (user + system: steadier than wall time on a loaded machine), and the number of
modules ``import mediavault_sdk`` loads.
"""

from __future__ import annotations

import argparse
import resource
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _venv_with_sdk(where: Path, extras: str = "") -> Path:
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", f"{ROOT / 'sdks' / 'python'}{extras}"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return python


def _cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def _run(command: list[str]) -> tuple[float, float]:
    """Wall and CPU seconds of one run of ``command``."""
    start, cpu = time.perf_counter(), _cpu()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start, _cpu() - cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    cli = "from mediavault_cli import main; main()"
    with tempfile.TemporaryDirectory() as tmp:
        sdk = str(_venv_with_sdk(Path(tmp) / "sdk"))
        with_cli = str(_venv_with_sdk(Path(tmp) / "cli", "[cli]"))
        full = sys.executable
        variants = {
            "python -c pass (SDK-only venv)": [sdk, "-c", "pass"],
            "import httpx, msgspec (baseline)": [sdk, "-c", "import httpx, msgspec"],
            "import mediavault_sdk": [sdk, "-c", "import mediavault_sdk"],
            "[cli] mediavault --version": [with_cli, "-c", cli, "--version"],
            "[cli] mediavault upload --help": [with_cli, "-c", cli, "upload", "--help"],
            "with the server: mediavault upload --help": [full, "-c", cli, "upload", "--help"],
            "with the server: mediavault --help": [full, "-c", cli, "--help"],
            "with the server: import mediavault.client": [full, "-c", "import mediavault.client"],
        }
        times: dict[str, list[tuple[float, float]]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, command in variants.items():
                times[name].append(_run(command))
        count = subprocess.run(
            [sdk, "-c", "import sys; n = len(sys.modules); import mediavault_sdk; print(len(sys.modules) - n)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    print(f"a fresh interpreter, {rounds} rounds: wall time median / min, CPU time median")
    for name, values in times.items():
        wall = [w for w, _ in values]
        cpu = statistics.median(c for _, c in values)
        print(f"{name:<45} {statistics.median(wall):6.3f} s / {min(wall):6.3f} s   cpu {cpu:6.3f} s")
    print(f"modules loaded by import mediavault_sdk: {count}")


if __name__ == "__main__":
    main()
