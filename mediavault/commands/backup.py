"""``mediavault export DIR``, ``mediavault import DIR`` and ``mediavault storage migrate --to URL``, on the
configured database and storage (``MEDIAVAULT_*``, ``--data-dir``), like ``mediavault fsck``.

The work is :mod:`mediavault.backup`'s; these commands build the vault's parts, call it and print the outcome.
"""

from __future__ import annotations

import asyncio
import dataclasses
import json
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

import click

if TYPE_CHECKING:  # imported when a command runs: listing it in `mediavault --help` loads no database code
    from mediavault.runtime import VaultRuntime

__all__ = ("export_command", "import_command", "storage_group")

T = TypeVar("T")

_data_dir = click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
_concurrency = click.option(
    "--concurrency", default=8, show_default=True, type=click.IntRange(1, 64), help="Objects moved at once."
)


@click.command("export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
@_concurrency
@_data_dir
def export_command(directory: Path, concurrency: int, data_dir: Path) -> None:
    """Export every row and stored object of the vault into DIRECTORY (new or empty), with a manifest of sizes and
    SHA-256 checksums; the rows are one consistent snapshot, taken while the vault may keep running."""
    from mediavault.backup import export_vault

    report = _run(
        data_dir, lambda runtime: export_vault(runtime.engine, runtime.storage, directory, concurrency=concurrency)
    )
    for line in report.summary():
        click.echo(line)


@click.command("import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
@_concurrency
@_data_dir
def import_command(directory: Path, concurrency: int, data_dir: Path) -> None:
    """Import an export from DIRECTORY into an empty vault of the same schema revision (its database migrated, its
    storage empty). Every object and table file is checked against the manifest; on any error nothing is kept."""
    from mediavault.backup import import_vault

    async def run(runtime: VaultRuntime) -> Any:
        return await import_vault(
            runtime.engine,
            runtime.storage,
            directory,
            concurrency=concurrency,
            migrate=runtime.config.auto_migrate,
            migrate_command="mediavault migrate",
        )

    click.echo(f"imported {_run(data_dir, run).summary()}")


@click.group("storage")
def storage_group() -> None:
    """Work on the configured storage (for operators)."""


@storage_group.command("migrate")
@click.option("--to", "url", required=True, help="The new storage URL (file:///srv/media, s3://bucket/prefix ...).")
@click.option(
    "--to-options",
    default="{}",
    show_default=True,
    help="Its storage options as a JSON object (for s3://, s3fs's: endpoint_url, key, secret ...).",
)
@_concurrency
@_data_dir
def storage_migrate_command(url: str, to_options: str, concurrency: int, data_dir: Path) -> None:
    """Copy every object of the configured storage to URL and verify each (size and SHA-256 read back). Run it
    again to resume: objects already copied and verified are skipped. The configured storage is never changed.
    Exit status 1 when an object could not be copied."""
    from mediavault.backup import copy_storage
    from mediavault.commands.settings import load_settings

    try:
        options = json.loads(to_options)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}", param_hint="--to-options") from None
    if not isinstance(options, dict):
        raise click.BadParameter("must be a JSON object", param_hint="--to-options")
    config = load_settings(data_dir)
    if url.rstrip("/") == config.storage_url.rstrip("/"):
        raise click.BadParameter("is the configured storage itself", param_hint="--to")

    async def run(runtime: VaultRuntime) -> Any:
        target_config = dataclasses.replace(runtime.config, storage_url=url, storage_options=options)
        target = runtime.plugin_manager.hook.mediavault_storage_backend(config=target_config)
        if target is None:
            raise click.BadParameter("no storage backend handles this URL", param_hint="--to")
        return await copy_storage(runtime.storage, target, concurrency=concurrency)

    report = _run(data_dir, run)
    for failure in report.failed:
        click.echo(f"failed: {failure}", err=True)
    click.echo(report.summary())
    if not report.complete:
        raise SystemExit(1)
    click.echo(
        f"Every object is at {url}. To switch: stop the vault's processes, run this command again (it copies what "
        f"was written meanwhile), then set MEDIAVAULT_STORAGE_URL={url}"
        + (" and MEDIAVAULT_STORAGE_OPTIONS to the --to-options JSON" if options else "")
        + f" (storage_url in MediaVaultConfig) and start them. The old storage at {config.storage_url} "
        "was left as it was: remove it once the vault serves from the new one."
    )


def _run(data_dir: Path, work: Callable[[VaultRuntime], Awaitable[T]]) -> T:
    """Run ``work`` on a runtime of the configured vault, disposed of afterwards; a refusal becomes the command's
    error message (exit status 1). When it fails, the data directory, secret key and SQLite database it created are
    removed again (``export`` with nothing configured leaves no empty vault behind)."""
    from mediavault.backup import BackupError, Leftovers, sqlite_paths
    from mediavault.commands.settings import load_settings
    from mediavault.runtime import VaultRuntime

    async def run(runtime: VaultRuntime) -> T:
        try:
            return await work(runtime)
        finally:
            await runtime.dispose()

    root = data_dir.expanduser().resolve()  # as load_settings resolves it
    try:
        with Leftovers() as leftovers:
            leftovers.watch(root, root / "secret_key")
            config = load_settings(data_dir)
            leftovers.watch(*sqlite_paths(config.database_url))
            return asyncio.run(run(VaultRuntime(config)))
    except BackupError as exc:
        raise click.ClickException(str(exc)) from None
