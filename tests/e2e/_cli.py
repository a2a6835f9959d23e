"""Helpers of the ``mediavault`` command's end-to-end tests: its environment, a run in this process, a CLI user."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from click.testing import CliRunner
from mediavault_cli._app import cli

from tests.e2e.conftest import VaultServer, process_env

__all__ = ("CliUser", "Run", "cli_env", "mediavault")


def cli_env(config_home: Path, server: VaultServer, **extra: str) -> dict[str, str | None]:
    """The CLI's environment: nothing of the caller's MEDIAVAULT_* settings, the engines of ``server``'s data dir
    (for ``users create --data-dir``), the login stored under ``config_home``."""
    env: dict[str, str | None] = {k: None for k in os.environ if k.startswith("MEDIAVAULT_")}
    env.update(process_env(server.data_dir))
    env.update(XDG_CONFIG_HOME=str(config_home), **extra)
    return env


@dataclass
class Run:
    returncode: int
    stdout: str  # standard output and error, as a person sees them
    out: str  # standard output alone (ids, --json)


def mediavault(*args: str, env: dict[str, str | None], stdin: str | None = None) -> Run:
    """Run ``mediavault ARGS`` to completion with click's runner (in this process, so no interpreter start-up)."""
    result = CliRunner().invoke(cli, list(args), input=stdin, env=env, catch_exceptions=False)
    return Run(result.exit_code, result.output, result.stdout)


@dataclass
class CliUser:
    """An account logged in with ``mediavault login``: the CLI's environment and the stored API key."""

    env: dict[str, str | None]
    api_key: str
