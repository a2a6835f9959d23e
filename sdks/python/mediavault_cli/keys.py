"""``mediavault keys``: the caller's API keys (``create``, ``list``, ``revoke``), limited to scopes and expiring.

API keys cannot manage API keys, so these commands log in with the account's password (asked for, or read from
standard input with ``--password-stdin``; the account is the stored login's, or ``--email``) and log out after; or
they use ``MEDIAVAULT_TOKEN`` (an access token) when it is set. ``create`` prints the new key once: it is never
shown again. ``list`` prints ``ID  PREFIX  SCOPES  EXPIRES  LAST-USED  NAME`` (times in UTC, ``-`` for never).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TypeVar

import click
from mediavault_sdk import Client

from mediavault_cli._shared import as_json_option, done, echo_json, when
from mediavault_cli.session import login_client, url_option

__all__ = ("keys_group",)

T = TypeVar("T")


def _login_options(command: Callable[..., None]) -> Callable[..., None]:
    command = click.option("--email", help="The account (default: the stored login's; asked for when missing).")(
        command
    )
    command = click.option("--password-stdin", is_flag=True, help="Read the password from standard input.")(command)
    return url_option(command)


def _with_login(url: str | None, email: str | None, password_stdin: bool, request: Callable[[Client], T]) -> T:
    with login_client(url, email, password_stdin) as vault:
        return request(vault)


@click.group("keys")
def keys_group() -> None:
    """Create, list and revoke your API keys (with your password, or MEDIAVAULT_TOKEN)."""


@keys_group.command("create")
@click.argument("name")
@click.option(
    "--scope",
    "scopes",
    multiple=True,
    help="Limit the key to this scope, e.g. media:read or media:write (repeatable; default: every scope).",
)
@click.option("--expires-in", type=click.IntRange(60), metavar="SECONDS", help="Seconds until it stops working.")
@as_json_option
@_login_options
def create_key_command(
    name: str,
    scopes: tuple[str, ...],
    expires_in: int | None,
    as_json: bool,
    url: str | None,
    email: str | None,
    password_stdin: bool,
) -> None:
    """Create an API key NAME and print it (shown this once): "ID  KEY"."""
    key = _with_login(
        url, email, password_stdin, lambda v: v.create_api_key(name, scopes=list(scopes) or None, expires_in=expires_in)
    )
    if as_json:
        echo_json(key)
    else:
        click.echo(f"{key.id}  {key.key}")


@keys_group.command("list")
@as_json_option
@_login_options
def list_keys_command(as_json: bool, url: str | None, email: str | None, password_stdin: bool) -> None:
    """List your API keys, newest first (never the keys themselves: their first characters)."""
    keys = _with_login(url, email, password_stdin, lambda vault: list(vault.iter_api_keys(per_page=100)))
    if as_json:
        echo_json(keys)
        return
    for key in keys:
        scopes = ",".join(key.scopes)
        click.echo(f"{key.id}  {key.prefix}  {scopes}  {when(key.expires_at)}  {when(key.last_used_at)}  {key.name}")


@keys_group.command("revoke")
@click.argument("key_id")
@as_json_option
@_login_options
def revoke_key_command(key_id: str, as_json: bool, url: str | None, email: str | None, password_stdin: bool) -> None:
    """Revoke an API key: requests with it are refused from now on."""
    _with_login(url, email, password_stdin, lambda vault: vault.delete_api_key(key_id))
    done({"revoked": key_id}, f"revoked {key_id}", as_json)
