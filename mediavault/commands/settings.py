"""The server's settings for a command: :func:`~mediavault.server.load_config`, an invalid one reported as a
command-line error (its message, exit status 1) instead of a traceback."""

from __future__ import annotations

import os
from typing import TYPE_CHECKING

import click

if TYPE_CHECKING:
    from mediavault.config import MediaVaultConfig

__all__ = ("load_settings",)


def load_settings(data_dir: str | os.PathLike[str] | None = None, **overrides: object) -> MediaVaultConfig:
    """:func:`~mediavault.server.load_config` for a command.

    Raises:
        click.ClickException: a setting is invalid (``MEDIAVAULT_*`` variables, or a database driver not installed).
    """
    from mediavault.server import load_config

    try:
        return load_config(data_dir, **overrides)
    except ValueError as exc:
        raise click.ClickException(f"invalid setting: {exc}") from exc
