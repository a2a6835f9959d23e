"""``mediavault users create``: accounts made by an operator, directly on the configured database.

Like ``mediavault migrate`` it reads the server's settings (``MEDIAVAULT_*``, ``--data-dir``), so it works with
registration turned off and needs no running server. The password comes from a hidden prompt or standard input,
never from the command line (where ``ps`` shows it to every user of the machine).
"""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import TYPE_CHECKING

import click
import msgspec
from mediavault_cli.session import read_password

if TYPE_CHECKING:  # imported when the command runs: listing it in `mediavault --help` loads no database code
    from mediavault.config import MediaVaultConfig
    from mediavault.domain.auth.schemas import RegisterIn

__all__ = ("users_group",)


@click.group("users")
def users_group() -> None:
    """Manage accounts on the configured database (for operators)."""


@users_group.command("create")
@click.argument("email")
@click.option("--admin", is_flag=True, help="Give the account the admin role.")
@click.option("--display-name", help="Name shown for the account.")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
@click.option("--data-dir", default="./mediavault-data", show_default=True, type=click.Path(path_type=Path))
def create_user_command(
    email: str, admin: bool, display_name: str | None, password_stdin: bool, data_dir: Path
) -> None:
    """Create an account (password asked for twice, or read from standard input)."""
    from mediavault.commands.settings import load_settings
    from mediavault.domain.auth.schemas import RegisterIn
    from mediavault.errors import Conflict

    password = read_password(password_stdin, confirm=True)
    try:
        data = msgspec.convert({"email": email, "password": password, "display_name": display_name}, RegisterIn)
    except msgspec.ValidationError as exc:
        raise click.ClickException(_field(str(exc))) from exc
    from sqlalchemy.engine import make_url

    role = "admin" if admin else "user"
    config = load_settings(data_dir)
    try:
        user_id, stored_email = asyncio.run(_create(config, data, role))
    except Conflict as exc:
        raise click.ClickException(f"an account with the email {data.email.strip()} already exists") from exc
    # the database written to, so an account made in the wrong folder (a new, empty vault there) is noticed at once
    database = make_url(config.database_url).render_as_string(hide_password=True)
    click.echo(f"Created {role} {stored_email} (id {user_id}) in {database}")


def _field(message: str) -> str:
    if "$.password" in message:
        return "the password must be 8 to 1024 characters long"
    if "$.email" in message:
        return "that is not an email address (name@example.com)"
    return message


async def _create(config: MediaVaultConfig, data: RegisterIn, role: str) -> tuple[str, str]:
    """The new account's id and its email as stored (normalised by :class:`AuthService`)."""
    from mediavault.domain.auth.services import AuthService
    from mediavault.runtime import VaultRuntime

    runtime = VaultRuntime(config)
    try:
        if config.auto_migrate:
            await runtime.migrate()
        async with runtime.session() as session:
            user = await runtime.service(AuthService, session).create_user(data, role=role)
        await runtime.events.drain()
        return str(user.id), user.email
    finally:
        await runtime.dispose()
