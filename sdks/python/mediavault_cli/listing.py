"""``mediavault ls``: what is in the vault, newest first, with the filters of ``GET /media``.

One line per media (``ID  SIZE  TYPE  CREATED  FILENAME``, sizes in bytes) or, with ``--json``, a JSON array of the
media as the API returns them. ``--collection`` lists a collection's media instead of all of the caller's;
``--meta KEY=VALUE`` keeps media whose custom metadata has that value.
"""

from __future__ import annotations

import itertools
from typing import Any, get_args

import click
import httpx
import msgspec
from mediavault_sdk import Media, VaultError
from mediavault_sdk.types import Kind, Sort

from mediavault_cli._shared import key_values
from mediavault_cli.session import connect, fail, url_option

__all__ = ("ls_command",)


@click.command("ls")
@click.option("--tag", help="Only media with this tag (case-insensitive).")
@click.option("--type", "kind", type=click.Choice(get_args(Kind)), help="Only media of this type.")
@click.option("-q", "--query", help="Only media whose filename, title or description contains this text.")
@click.option(
    "--meta",
    "metadata",
    multiple=True,
    callback=key_values,
    metavar="KEY=VALUE",
    help="Only media whose custom metadata has KEY with this value, as text (repeatable: all must match).",
)
@click.option("--collection", help="List this collection's media (its id).")
@click.option("--sort", type=click.Choice(get_args(Sort)), default="-created_at", show_default=True, help="Order.")
@click.option("-n", "--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@click.option("--json", "as_json", is_flag=True, help="Print a JSON array of the media (every field).")
@url_option
def ls_command(
    tag: str | None,
    kind: str | None,
    query: str | None,
    metadata: dict[str, str] | None,
    collection: str | None,
    sort: str,
    limit: int | None,
    as_json: bool,
    url: str | None,
) -> None:
    """List media in the vault: id, size in bytes, type, upload time and file name."""
    connection = connect(url)
    filters: dict[str, Any] = {"tag": tag, "type": kind, "q": query, "sort": sort, "metadata": metadata}
    filters["per_page"] = min(limit or 100, 100)
    try:
        with connection.client() as vault:
            pages = vault.iter_collection_media(collection, **filters) if collection else vault.iter_media(**filters)
            media = list(itertools.islice(pages, limit))
    except (VaultError, httpx.HTTPError) as exc:
        raise fail(exc, connection.url) from exc
    if as_json:
        click.echo(msgspec.json.format(msgspec.json.encode(media).decode(), indent=2))
        return
    for item in media:
        click.echo(_line(item))


def _line(media: Media) -> str:
    created = media.created_at.strftime("%Y-%m-%d %H:%M")
    return f"{media.id}  {media.size:>12}  {media.type:<8}  {created}  {media.filename}"
