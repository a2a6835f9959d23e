"""``mediavault trash`` and ``mediavault usage``: what the caller deleted (restore or purge it) and what they store.

``trash`` lists the deleted media, most recently deleted first (``ID  SIZE  TYPE  DELETED  PURGED-AT  FILENAME``,
times in UTC); ``--restore ID`` puts one back, ``--purge ID`` deletes one and its bytes for good, ``--empty`` the
whole trash (after a confirmation, or ``--yes``). ``usage`` prints the bytes stored, the quota and the media count.
``--json`` prints what the API returns. The server keeps a trash only when its ``trash_retention_days`` is over 0.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
import httpx
import msgspec
from mediavault_sdk import Client, Usage, VaultError
from mediavault_sdk.types import TrashedMedia

from mediavault_cli.session import connect, fail, url_option

__all__ = ("trash_command", "usage_command")

T = TypeVar("T")


def _call(url: str | None, request: Callable[[Client], T]) -> T:
    """``request(client)`` on the configured connection; the server's and the network's errors as a message."""
    connection = connect(url)
    try:
        with connection.client() as vault:
            return request(vault)
    except (VaultError, httpx.HTTPError) as exc:
        raise fail(exc, connection.url) from exc


def _echo_json(value: object) -> None:
    click.echo(msgspec.json.format(msgspec.json.encode(value).decode(), indent=2))


def _done(answer: dict[str, object], line: str, as_json: bool) -> None:
    if as_json:
        _echo_json(answer)
    else:
        click.echo(line)


def _all_trash(vault: Client) -> list[TrashedMedia]:
    items: list[TrashedMedia] = []
    number = 1
    while True:
        page = vault.list_trash(page=number, per_page=100)
        items.extend(page.items)
        if page.pagination.links.next is None:
            return items
        number += 1


@click.command("trash")
@click.option("--restore", "restore_id", metavar="ID", help="Put this deleted media back where it was.")
@click.option("--purge", "purge_id", metavar="ID", help="Delete this media and its bytes for good.")
@click.option("--empty", is_flag=True, help="Delete everything in the trash for good (asks first).")
@click.option("-y", "--yes", is_flag=True, help="With --empty: do not ask.")
@click.option(
    "--json", "as_json", is_flag=True, help="Print the API's answer as JSON (the list, or the restored media)."
)
@url_option
def trash_command(
    restore_id: str | None, purge_id: str | None, empty: bool, yes: bool, as_json: bool, url: str | None
) -> None:
    """List deleted media, or restore (--restore ID), purge (--purge ID) or empty (--empty) the trash."""
    if sum((restore_id is not None, purge_id is not None, empty)) > 1:
        raise click.UsageError("give at most one of --restore, --purge and --empty")
    if restore_id is not None:
        media = _call(url, lambda vault: vault.restore_media(restore_id))
        if as_json:
            _echo_json(media)
        else:
            click.echo(f"{media.id}  {media.filename}")
    elif purge_id is not None:
        _call(url, lambda vault: vault.purge_media(purge_id))
        _done({"purged": purge_id}, f"purged {purge_id}", as_json)
    elif empty:
        if not yes:
            click.confirm("Delete everything in the trash for good?", abort=True, err=True)
        _call(url, lambda vault: vault.empty_trash())
        _done({"emptied": True}, "trash emptied", as_json)
    else:
        items = _call(url, _all_trash)
        if as_json:
            _echo_json(items)
            return
        for item in items:
            deleted, purged = (t.strftime("%Y-%m-%d %H:%M") for t in (item.deleted_at, item.purge_at))
            click.echo(f"{item.id}  {item.size:>12}  {item.type:<8}  {deleted}  {purged}  {item.filename}")


@click.command("usage")
@click.option("--json", "as_json", is_flag=True, help="Print the API's answer as JSON.")
@url_option
def usage_command(as_json: bool, url: str | None) -> None:
    """Bytes stored (each stored file once, versions and trash included), the quota and the number of media."""
    usage: Usage = _call(url, lambda vault: vault.usage())
    if as_json:
        _echo_json(usage)
        return
    if usage.quota_bytes is None:
        quota = "no quota"
    else:
        quota = f"quota {usage.quota_bytes} bytes, {100 * usage.used_bytes / max(usage.quota_bytes, 1):.1f} % used"
    click.echo(f"used {usage.used_bytes} bytes ({quota}), {usage.media_count} media")
