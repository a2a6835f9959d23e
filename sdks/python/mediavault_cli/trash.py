"""``mediavault trash`` and ``mediavault usage``: what the caller deleted (restore or purge it) and what they store.

``trash`` lists the deleted media, most recently deleted first (``ID  SIZE  TYPE  DELETED  PURGED-AT  FILENAME``,
times in UTC; ``The trash is empty.`` on standard error when there are none); ``--restore ID`` puts one back,
``--purge ID`` deletes one and its bytes for good, ``--empty`` the whole trash (after a confirmation, or ``--yes``).
``usage`` prints the bytes stored, the quota and the media count. ``--json`` prints what the API returns. The server
keeps a trash only when its ``trash_retention_days`` is over 0.
"""

from __future__ import annotations

import click
from mediavault_sdk import Usage

from mediavault_cli._shared import as_json_option, call, done, echo_json, when
from mediavault_cli.session import url_option

__all__ = ("trash_command", "usage_command")


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
        media = call(url, lambda vault: vault.restore_media(restore_id))
        if as_json:
            echo_json(media)
        else:
            click.echo(f"{media.id}  {media.filename}")
    elif purge_id is not None:
        call(url, lambda vault: vault.purge_media(purge_id))
        done({"purged": purge_id}, f"purged {purge_id}", as_json)
    elif empty:
        if not yes:
            click.confirm("Delete everything in the trash for good?", abort=True, err=True)
        call(url, lambda vault: vault.empty_trash())
        done({"emptied": True}, "trash emptied", as_json)
    else:
        items = call(url, lambda vault: list(vault.iter_trash(per_page=100)))
        if as_json:
            echo_json(items)
            return
        if not items:  # a note, on standard error: standard output stays for the rows scripts read
            click.echo("The trash is empty.", err=True)
        for item in items:
            deleted, purged = when(item.deleted_at), when(item.purge_at)
            click.echo(f"{item.id}  {item.size:>12}  {item.type:<8}  {deleted}  {purged}  {item.filename}")


@click.command("usage")
@as_json_option
@url_option
def usage_command(as_json: bool, url: str | None) -> None:
    """Bytes stored (each stored file once, versions and trash included), the quota and the number of media."""
    usage: Usage = call(url, lambda vault: vault.usage())
    if as_json:
        echo_json(usage)
        return
    if usage.quota_bytes is None:
        quota = "no quota"
    else:
        quota = f"quota {usage.quota_bytes} bytes, {100 * usage.used_bytes / max(usage.quota_bytes, 1):.1f} % used"
    click.echo(f"used {usage.used_bytes} bytes ({quota}), {usage.media_count} media")
