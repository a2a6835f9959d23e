"""The architecture contracts of ``pyproject.toml`` (``[tool.importlinter]``) hold: ``lint-imports`` runs them.

Layers (entry points > plugin > runtime > edge > services > infrastructure), no import cycles at any depth, no module
below the plugin importing the runtime, ``http/`` apart from the domain, services without HTTP, areas apart. A new
import that breaks one fails here with import-linter's report (which import, on which line, through which chain).
"""

from __future__ import annotations

import subprocess
import sys
import tomllib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
CONTRACTS = {
    "acyclic",
    "layers",
    "area-layers",
    "runtime-on-top",
    "http-edge",
    "services-no-http",
    "services-no-litestar",
    "areas-apart",
    "sdk-apart",
}
"""The contracts docs/architecture.md describes; dropping one from pyproject.toml fails the suite too."""


def test_the_documented_contracts_are_configured() -> None:
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"]
    assert "mediavault" in config["root_packages"]
    assert {contract["id"] for contract in config["contracts"]} >= CONTRACTS


def test_import_contracts_are_kept() -> None:
    run = "import sys; from importlinter.cli import lint_imports_command; sys.exit(lint_imports_command())"
    result = subprocess.run(
        [sys.executable, "-c", run, "--no-cache"], cwd=ROOT, capture_output=True, text=True, timeout=600, check=False
    )
    assert result.returncode == 0, f"lint-imports found broken contracts:\n{result.stdout}{result.stderr}"
    assert "0 broken" in result.stdout
