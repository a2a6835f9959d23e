"""``mediavault admin`` and ``mediavault audit``: the admin API (role ``admin``) from the command line.

``admin users [-q TEXT]`` lists accounts (``ID  ROLE  STATE  USED  QUOTA  EMAIL``, bytes; ``-`` for no quota),
``admin user ID`` shows one, ``admin disable ID`` / ``admin enable ID`` stop or allow an account (disabling ends its
logins and refuses its API keys at once), ``admin quota ID BYTES`` sets its quota (``none``: unlimited) and ``admin
role ID admin|user`` its role. ``audit`` prints the audit log, newest first (``TIME  ACTION  ACTOR  TARGET  IP``,
UTC), filtered by ``--action``, ``--actor`` and ``--since``/``--until``. ``--json`` prints what the API returns.
They use the CLI's credential (the stored login's API key, ``MEDIAVAULT_API_KEY`` or ``MEDIAVAULT_TOKEN``), which must
be an admin's; a key limited to scopes cannot use the admin API.
"""

from __future__ import annotations

import datetime as dt
import itertools
from typing import Any

import click
from mediavault_sdk import AdminUser, AuditEvent, Client

from mediavault_cli._shared import as_json_option, call, echo_json, when
from mediavault_cli.session import url_option

__all__ = ("admin_group", "audit_command")


def _line(user: AdminUser) -> str:
    state = "disabled" if user.disabled else "active"
    quota = "-" if user.quota_bytes is None else str(user.quota_bytes)
    return f"{user.id}  {user.role:<5}  {state:<8}  {user.used_bytes:>12}  {quota:>12}  {user.email}"


def _show(user: AdminUser, as_json: bool) -> None:
    if as_json:
        echo_json(user)
    else:
        click.echo(_line(user))


def _update(url: str | None, user_id: str, as_json: bool, **changes: Any) -> None:
    def update(vault: Client) -> AdminUser:
        return vault.update_user(user_id, **changes)

    _show(call(url, update), as_json)


@click.group("admin")
def admin_group() -> None:
    """Accounts, for admins: list, show, disable or enable, set a quota or a role (the admin API)."""


@admin_group.command("users")
@click.option("-q", "--query", help="Only accounts whose email or display name contains this text.")
@as_json_option
@url_option
def users_command(query: str | None, as_json: bool, url: str | None) -> None:
    """List accounts, oldest first: id, role, state, bytes used, quota in bytes (- none) and email."""
    users = call(url, lambda vault: list(vault.iter_users(q=query, per_page=100)))
    if as_json:
        echo_json(users)
        return
    for user in users:
        click.echo(_line(user))


@admin_group.command("user")
@click.argument("user_id")
@as_json_option
@url_option
def user_command(user_id: str, as_json: bool, url: str | None) -> None:
    """Show one account (the line of 'admin users')."""
    _show(call(url, lambda vault: vault.get_user(user_id)), as_json)


@admin_group.command("disable")
@click.argument("user_id")
@as_json_option
@url_option
def disable_command(user_id: str, as_json: bool, url: str | None) -> None:
    """Disable an account: its logins end and its API keys are refused at once."""
    _update(url, user_id, as_json, disabled=True)


@admin_group.command("enable")
@click.argument("user_id")
@as_json_option
@url_option
def enable_command(user_id: str, as_json: bool, url: str | None) -> None:
    """Enable a disabled account again (it logs in anew: its old logins stay ended)."""
    _update(url, user_id, as_json, disabled=False)


def _quota(_ctx: click.Context, _param: click.Parameter, value: str) -> int | None:
    if value.lower() in ("none", "unlimited"):
        return None
    if not value.isdigit():
        raise click.BadParameter(f"{value!r} is neither a number of bytes nor 'none'")
    return int(value)


@admin_group.command("quota")
@click.argument("user_id")
@click.argument("quota_bytes", metavar="BYTES|none", callback=_quota)
@as_json_option
@url_option
def quota_command(user_id: str, quota_bytes: int | None, as_json: bool, url: str | None) -> None:
    """Set an account's quota in bytes ('none': unlimited, whatever the server's default)."""
    _update(url, user_id, as_json, quota_bytes=quota_bytes)


@admin_group.command("role")
@click.argument("user_id")
@click.argument("role", type=click.Choice(["admin", "user"]))
@as_json_option
@url_option
def role_command(user_id: str, role: str, as_json: bool, url: str | None) -> None:
    """Give an account the admin or the user role."""
    _update(url, user_id, as_json, role=role)


@click.command("audit")
@click.option("--action", help="Only this action, e.g. auth.login_failed or media.deleted.")
@click.option("--actor", "actor_id", metavar="USER_ID", help="Only what this user did.")
@click.option("--since", type=click.DateTime(), help="From this time on (UTC), e.g. 2026-12-01 or 2026-12-01T08:00:00.")
@click.option("--until", type=click.DateTime(), help="Before this time (UTC).")
@click.option("-n", "--limit", type=click.IntRange(min=1), help="At most this many (default: all).")
@as_json_option
@url_option
def audit_command(
    action: str | None,
    actor_id: str | None,
    since: dt.datetime | None,
    until: dt.datetime | None,
    limit: int | None,
    as_json: bool,
    url: str | None,
) -> None:
    """Print the audit log, newest first: time, action, actor, target and address (admins only)."""

    def read(vault: Client) -> list[AuditEvent]:
        per_page = min(limit or 100, 100)
        events = vault.iter_audit_events(
            action=action, actor_id=actor_id, since=_utc(since), until=_utc(until), per_page=per_page
        )
        return list(itertools.islice(events, limit))

    events = call(url, read)
    if as_json:
        echo_json(events)
        return
    for event in events:
        target = f"{event.target_type}:{event.target_id}" if event.target_id else "-"
        click.echo(
            f"{when(event.created_at)}  {event.action:<20}  {event.actor_id or '-'}  {target}  {event.ip or '-'}"
        )


def _utc(moment: dt.datetime | None) -> dt.datetime | None:
    """A time from the command line (click reads it without an offset) in UTC, as the audit log's times are."""
    return None if moment is None else moment.replace(tzinfo=dt.UTC)
