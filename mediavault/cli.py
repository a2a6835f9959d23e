"""The server's commands: ``serve``, ``migrate``, ``worker``, ``reprocess``, ``fsck``, ``users``, ``export``,
``import`` and ``storage migrate`` (:mod:`mediavault.commands`);
``litestar mediavault migrate`` for host apps is the plugin's own (:mod:`mediavault.plugin`).

:data:`main` is registered in the ``mediavault.cli`` entry-point group, so the ``mediavault`` command (owned by the
SDK's :mod:`mediavault_cli`, with ``login``, ``upload``, ``download``, ``ls``) runs these too, importing this module
only when one of them is invoked.
"""

from __future__ import annotations

import asyncio
import os
from pathlib import Path
from typing import Any

import click

from mediavault.commands.backup import export_command, import_command, storage_group
from mediavault.commands.users import users_group

__all__ = ("main",)


@click.group()
@click.version_option(package_name="mediavault")
def main() -> None:
    """Media Vault server commands."""


main.add_command(users_group)
main.add_command(export_command)
main.add_command(import_command)
main.add_command(storage_group)


@main.command()
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to bind.")
@click.option("--port", default=8080, show_default=True, type=int, help="TCP port.")
@click.option(
    "--data-dir",
    default="./mediavault-data",
    show_default=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Where the default SQLite database, media files and secret key live.",
)
@click.option("--workers", default=1, show_default=True, type=click.IntRange(min=1), help="Worker processes.")
@click.option(
    "--ssl-certfile",
    type=click.Path(exists=True, dir_okay=False, path_type=Path),
    help="Serve https with this PEM certificate (chain); needs --ssl-keyfile.",
)
@click.option(
    "--ssl-keyfile", type=click.Path(exists=True, dir_okay=False, path_type=Path), help="The certificate's PEM key."
)
def serve(
    host: str, port: int, data_dir: Path, workers: int, ssl_certfile: Path | None, ssl_keyfile: Path | None
) -> None:
    """Run the reference server (settings from MEDIAVAULT_* environment variables).

    More than one worker needs MEDIAVAULT_REDIS_URL (the realtime broker and shared rate limits) and a database
    and storage outside process memory; see docs/deployment.md.
    """
    import functools

    import uvicorn

    from mediavault.commands.settings import load_settings
    from mediavault.protocol import DeadlineH11Protocol
    from mediavault.server import multiprocess_problems
    from mediavault.supervisor import run_workers

    if (ssl_certfile is None) != (ssl_keyfile is None):
        raise click.UsageError("--ssl-certfile and --ssl-keyfile go together")
    os.environ["MEDIAVAULT_DATA_DIR"] = str(data_dir.resolve())
    config = load_settings()  # creates the data dir's secret key once, before any worker reads it
    if workers > 1 and (problems := multiprocess_problems(config)):
        raise click.UsageError(f"--workers {workers} needs state shared by every process: " + "; ".join(problems))
    if config.auto_migrate:
        from mediavault.db.engine import run_migrations

        run_migrations(config.database_url)  # once, before any worker starts
    os.environ["MEDIAVAULT_AUTO_MIGRATE"] = "false"
    options: dict[str, Any] = dict(
        app="mediavault.server:create_app",
        factory=True,
        proxy_headers=False,  # X-Forwarded-For is read by the vault itself, from trusted_proxies only
        server_header=False,
        log_level="info",
        timeout_graceful_shutdown=10,
        timeout_keep_alive=config.keep_alive_timeout,  # longer than the pools in front, which close first
        # uvicorn's h11 protocol with the client_header_timeout / client_body_timeout deadlines (slow clients)
        http=functools.partial(
            DeadlineH11Protocol,
            header_timeout=config.client_header_timeout,
            body_timeout=config.client_body_timeout,
        ),
        h11_max_incomplete_event_size=16 * 1024,  # request line + headers at most 16 KiB
        ws="websockets-sansio",  # uvicorn's maintained websockets protocol (the legacy one is deprecated)
        ws_max_size=64 * 1024,  # realtime client messages are tiny; larger frames close the socket (1009)
        ws_ping_interval=20.0,  # dead realtime peers are detected within ~40 s
        ws_ping_timeout=20.0,
    )
    if config.log_format == "json":
        from mediavault.logs import logging_config

        options["log_config"] = logging_config()
    if ssl_certfile is not None:
        options.update(ssl_certfile=str(ssl_certfile.resolve()), ssl_keyfile=str(ssl_keyfile.resolve()))  # type: ignore[union-attr]
    if workers == 1:
        uvicorn.run(host=host, port=port, **options)
    else:  # one SO_REUSEPORT socket per worker, so the kernel spreads connections (uvicorn's workers share one)
        run_workers(options, host=host, port=port, workers=workers)


@main.command("migrate")
@click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
def migrate_command(data_dir: Path) -> None:
    """Apply the vault's database migrations (settings from MEDIAVAULT_* variables)."""
    from mediavault.commands.settings import load_settings
    from mediavault.db.engine import run_migrations

    run_migrations(load_settings(data_dir).database_url)
    click.echo("migrations applied")


@main.command("worker")
@click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
def worker_command(data_dir: Path) -> None:
    """Run only the background workers, webhook delivery and media processing, with the expiry of resumable
    uploads, the trash's purge and, when MEDIAVAULT_FSCK_INTERVAL is set, the periodic fsck (settings from
    MEDIAVAULT_* variables), until SIGINT/SIGTERM.

    For deployments that keep that work out of the web processes: run those with
    MEDIAVAULT_WEBHOOK_WORKER=false and MEDIAVAULT_PROCESSING_WORKER=false, and one or more of these beside
    them (they share the work safely).
    """
    from mediavault.commands.settings import load_settings

    config = load_settings(data_dir)
    if config.auto_migrate:
        from mediavault.db.engine import run_migrations

        run_migrations(config.database_url)
    asyncio.run(_run_worker(config))


@main.command("reprocess")
@click.argument("media_ids", nargs=-1)
@click.option("--failed", is_flag=True, help="Only items whose processing failed (all of them when no id is given).")
@click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
def reprocess_command(media_ids: tuple[str, ...], failed: bool, data_dir: Path) -> None:
    """Process media again from scratch: the MEDIA_IDS given, or with --failed every item marked failed (settings
    from MEDIAVAULT_* variables). A running processing worker takes them within its poll interval."""
    import uuid

    from mediavault.commands.settings import load_settings

    if not media_ids and not failed:
        raise click.UsageError("give media ids or --failed")
    try:
        ids = [uuid.UUID(media_id) for media_id in media_ids]
    except ValueError as exc:
        raise click.BadParameter(f"not a media id: {exc}", param_hint="MEDIA_IDS") from exc
    queued = asyncio.run(_requeue(load_settings(data_dir), ids or None, failed))
    click.echo(f"{queued} item{'' if queued == 1 else 's'} queued for processing")


@main.command("fsck")
@click.option("--repair", is_flag=True, help="Remove orphaned bytes and temporary files, re-queue processing.")
@click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
def fsck_command(repair: bool, data_dir: Path) -> None:
    """Check database rows against stored bytes (settings from MEDIAVAULT_* variables); safe while the server
    runs. Exit status 0 when consistent (or repaired), 1 when problems were found without --repair."""
    from mediavault.commands.settings import load_settings

    config = load_settings(data_dir)
    report = asyncio.run(_fsck(config, repair))
    for line in report.summary():
        click.echo(line)
    if not report.consistent and not repair:
        raise SystemExit(1)


async def _fsck(config: Any, repair: bool) -> Any:
    from mediavault.fsck import fsck
    from mediavault.runtime import VaultRuntime

    runtime = VaultRuntime(config)
    try:
        return await fsck(runtime.storage, runtime.session, max_age=config.temporary_file_max_age, repair=repair)
    finally:
        await runtime.dispose()


async def _requeue(config: object, media_ids: list[Any] | None, failed: bool) -> int:
    from mediavault.db.processing import ProcessingRepository
    from mediavault.runtime import VaultRuntime

    runtime = VaultRuntime(config)  # type: ignore[arg-type]
    try:
        async with runtime.session() as session:
            queued = await ProcessingRepository(session).requeue(media_ids, failed_only=failed)
            await session.commit()
        return queued
    finally:
        await runtime.dispose()


async def _run_worker(config: object) -> None:
    import signal

    from mediavault.runtime import VaultRuntime

    runtime = VaultRuntime(config)  # type: ignore[arg-type]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    try:
        await runtime.webhooks.start()
        await runtime.processing.start()
        click.echo("webhook and media processing workers running (Ctrl+C to stop)")
        async with runtime.periodic_tasks(processing=True):  # as app processes: upload expiry, trash purge, fsck
            await stop.wait()
    finally:
        await runtime.processing.stop()
        await runtime.webhooks.stop()
        await runtime.dispose()
