"""``mediavault versions``, ``mediavault replace`` and ``mediavault edit``: one media's versions of its bytes, new
bytes under the same id, and its title, description, tags and custom metadata.

``versions ID`` lists the kept versions, newest (the current one, marked ``*``) first: ``VERSION  SIZE  CREATED
SHA-256  CONTENT-TYPE``; ``--restore N`` makes a copy of version ``N`` the current bytes, ``--download N -o PATH``
writes version ``N`` to a file. ``replace ID FILE`` uploads new bytes for the media (``PUT /media/{id}/content``):
same id, collections and share links; the old bytes become a version. From ``--resumable-from`` bytes (64 MiB) on
the file goes through the vault's resumable uploads naming the media, with a progress bar, as ``mediavault upload``
does: run again after an interruption, it continues from the server's offset. ``edit ID`` changes the fields given
(``--metadata`` is a JSON merge patch: ``null`` removes a key). ``--json`` prints what the API returns.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click
from mediavault_sdk import Client, Media
from msgspec import UNSET

from mediavault_cli._shared import as_json_option, call, echo_json, json_object, when
from mediavault_cli.session import url_option
from mediavault_cli.transfer import FileBar, chunk_size_option, progress_bars, resumable_from_option, stderr_console

__all__ = ("edit_command", "replace_command", "versions_command")


def _show(media: Media, as_json: bool) -> None:
    if as_json:
        echo_json(media)
    else:
        click.echo(f"{media.id}  version {media.version}  {media.size} bytes  {media.filename}")


@click.command("versions")
@click.argument("media_id")
@click.option("--restore", type=click.IntRange(1), metavar="N", help="Make a copy of version N the current bytes.")
@click.option("--download", type=click.IntRange(1), metavar="N", help="Write version N's bytes to -o PATH.")
@click.option("-o", "--output", type=click.Path(dir_okay=False, path_type=Path), help="With --download: the file.")
@as_json_option
@url_option
def versions_command(
    media_id: str, restore: int | None, download: int | None, output: Path | None, as_json: bool, url: str | None
) -> None:
    """List a media's versions (newest first, * = current), restore one (--restore N) or save one (--download N)."""
    if restore is not None and download is not None:
        raise click.UsageError("give at most one of --restore and --download")
    if (download is None) != (output is None):
        raise click.UsageError("--download N and -o PATH go together")
    if restore is not None:
        _show(call(url, lambda vault: vault.restore_version(media_id, restore)), as_json)
    elif download is not None and output is not None:
        size = call(url, lambda vault: vault.download_version(media_id, download, output))
        if as_json:
            echo_json({"version": download, "path": str(output), "size": size})
        else:
            click.echo(f"version {download} of {media_id}: {size} bytes written to {output}")
    else:
        versions = call(url, lambda vault: vault.list_versions(media_id))
        if as_json:
            echo_json(versions)
            return
        for v in versions:
            mark = "*" if v.current else " "
            click.echo(
                f"{mark}{v.version:>4}  {v.size:>12}  {when(v.created_at)}  {v.checksum_sha256}  {v.content_type}"
            )


@click.command("replace")
@click.argument("media_id")
@click.argument("path", type=click.Path(exists=True, dir_okay=False, path_type=Path))
@click.option("--filename", help="The name to store (default: the file's own).")
@resumable_from_option
@chunk_size_option
@as_json_option
@url_option
def replace_command(
    media_id: str,
    path: Path,
    filename: str | None,
    resumable_from: int,
    chunk_size: int,
    as_json: bool,
    url: str | None,
) -> None:
    """Upload FILE as the new bytes of a media (same id, collections and share links; the old bytes are kept as a
    version). Prints the media's id, new version, size and file name. A large file (--resumable-from) goes in
    resumable chunks: run again after an interruption, it continues from where the server got."""
    size = path.stat().st_size
    resumable = size >= resumable_from

    def replace(vault: Client) -> Media:
        with progress_bars(stderr_console()) as progress, FileBar(progress, path, size, resumable) as bar:
            name = filename or path.name
            return vault.replace_content(
                media_id, path, filename=name, progress=bar, resumable=resumable, chunk_size=chunk_size
            )

    _show(call(url, replace), as_json)


@click.command("edit")
@click.argument("media_id")
@click.option("--title", help="The new title ('' clears it).")
@click.option("--description", help="The new description ('' clears it).")
@click.option("--tag", "tags", multiple=True, help="The tags, replacing the old ones (repeatable).")
@click.option("--no-tags", is_flag=True, help="Remove every tag.")
@click.option(
    "--metadata",
    callback=json_object,
    metavar="JSON",
    help='A JSON merge patch of the custom metadata: \'{"stage": "done", "draft": null}\' sets one key, removes one.',
)
@as_json_option
@url_option
def edit_command(
    media_id: str,
    title: str | None,
    description: str | None,
    tags: tuple[str, ...],
    no_tags: bool,
    metadata: dict[str, Any] | None,
    as_json: bool,
    url: str | None,
) -> None:
    """Change a media's title, description, tags or custom metadata (what is not given stays)."""
    if tags and no_tags:
        raise click.UsageError("give --tag or --no-tags, not both")
    changes: dict[str, Any] = {
        "title": UNSET if title is None else title or None,
        "description": UNSET if description is None else description or None,
        "tags": list(tags) if tags or no_tags else UNSET,
        "metadata": UNSET if metadata is None else metadata,
    }
    if all(value is UNSET for value in changes.values()):
        raise click.UsageError("nothing to change: give --title, --description, --tag, --no-tags or --metadata")

    def edit(vault: Client) -> Media:
        return vault.update_media(media_id, **changes)

    media = call(url, edit)
    if as_json:
        echo_json(media)
    else:
        click.echo(f"{media.id}  {media.filename}  tags {','.join(media.tags) or '-'}  metadata {media.metadata}")
