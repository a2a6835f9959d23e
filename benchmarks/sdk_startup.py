"""Start-up of the Python SDK and of the ``mediavault`` command, each in fresh interpreters, next to baselines
measured in the same run.

    python benchmarks/sdk_startup.py [--rounds 7]

Builds a temporary virtual environment holding only ``sdks/python[cli]`` (httpx, msgspec, click, rich: no server),
then times, round-robin so load on the machine hits every variant alike: ``python -c pass``, ``import httpx,
msgspec`` (the floor: the SDK's two dependencies), ``import mediavault_sdk``, ``mediavault --version`` and
``mediavault upload --help`` there; and, in this interpreter's environment (the server installed),
``mediavault upload --help``, ``mediavault --help`` (which lists the server's commands, so imports the server) and
``import mediavault.client`` (the former name, through the server package). Prints the median and the minimum wall
time of each, and the number of modules ``import mediavault_sdk`` loads.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def _venv_with_sdk(where: Path) -> Path:
    venv.EnvBuilder(with_pip=True).create(where)
    python = where / "bin" / "python"
    subprocess.run(
        [python, "-m", "pip", "install", "-q", f"{ROOT / 'sdks' / 'python'}[cli]"],
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return python


def _wall(command: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--rounds", type=int, default=7)
    rounds = parser.parse_args().rounds
    cli = "from mediavault_cli import main; main()"
    with tempfile.TemporaryDirectory() as tmp:
        sdk = str(_venv_with_sdk(Path(tmp) / "venv"))
        full = sys.executable
        variants = {
            "python -c pass (SDK-only venv)": [sdk, "-c", "pass"],
            "import httpx, msgspec (baseline)": [sdk, "-c", "import httpx, msgspec"],
            "import mediavault_sdk": [sdk, "-c", "import mediavault_sdk"],
            "mediavault --version": [sdk, "-c", cli, "--version"],
            "mediavault upload --help": [sdk, "-c", cli, "upload", "--help"],
            "with the server: mediavault upload --help": [full, "-c", cli, "upload", "--help"],
            "with the server: mediavault --help": [full, "-c", cli, "--help"],
            "with the server: import mediavault.client": [full, "-c", "import mediavault.client"],
        }
        times: dict[str, list[float]] = {name: [] for name in variants}
        for _ in range(rounds):
            for name, command in variants.items():
                times[name].append(_wall(command))
        count = subprocess.run(
            [sdk, "-c", "import sys; n = len(sys.modules); import mediavault_sdk; print(len(sys.modules) - n)"],
            check=True,
            capture_output=True,
            text=True,
        ).stdout.strip()
    print(f"wall time of a fresh interpreter, {rounds} rounds (median / min)")
    for name, values in times.items():
        print(f"{name:<45} {statistics.median(values):6.3f} s / {min(values):6.3f} s")
    print(f"modules loaded by import mediavault_sdk: {count}")


if __name__ == "__main__":
    main()
