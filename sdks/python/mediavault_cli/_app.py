"""The ``mediavault`` click group: its own commands and those of the ``mediavault.cli`` entry-point group, each
imported only when it is run (or listed by ``--help``), so ``mediavault upload ...`` starts without the server.

An entry point of the group names a :class:`click.Group` (the ``mediavault`` package's is
``mediavault.cli:main``: ``serve``, ``migrate``, ``worker``, ``users``...); its commands become ``mediavault``
commands. A name of this package wins over a plugin's.
"""

from __future__ import annotations

import contextlib
import importlib
from functools import cache

import click

__all__ = ("PLUGIN_GROUP", "cli")

PLUGIN_GROUP = "mediavault.cli"
"""Entry-point group of packages adding commands to ``mediavault``."""

_COMMANDS = {
    "login": "mediavault_cli.session:login_command",
    "logout": "mediavault_cli.session:logout_command",
    "upload": "mediavault_cli.transfer:upload_command",
    "download": "mediavault_cli.transfer:download_command",
    "ls": "mediavault_cli.listing:ls_command",
    "trash": "mediavault_cli.trash:trash_command",
    "usage": "mediavault_cli.trash:usage_command",
    "versions": "mediavault_cli.versions:versions_command",
    "replace": "mediavault_cli.versions:replace_command",
    "edit": "mediavault_cli.versions:edit_command",
    "keys": "mediavault_cli.keys:keys_group",
    "admin": "mediavault_cli.admin:admin_group",
    "audit": "mediavault_cli.admin:audit_command",
}
_SERVER_COMMANDS = ("serve", "migrate", "worker", "users", "reprocess")


def _load(target: str) -> click.Command:
    module, _, attribute = target.partition(":")
    command: click.Command = getattr(importlib.import_module(module), attribute)
    return command


@cache
def _plugin_groups() -> tuple[click.Group, ...]:
    from importlib.metadata import entry_points  # ~20 ms: only when a command is not this package's

    return tuple(entry.load() for entry in entry_points(group=PLUGIN_GROUP))


class _Group(click.Group):
    def list_commands(self, ctx: click.Context) -> list[str]:
        names = set(_COMMANDS)
        for group in _plugin_groups():
            names.update(group.list_commands(ctx))
        return sorted(names)

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name in _COMMANDS:
            return _load(_COMMANDS[cmd_name])
        for group in _plugin_groups():
            if (command := group.get_command(ctx, cmd_name)) is not None:
                return command
        return None

    def resolve_command(
        self, ctx: click.Context, args: list[str]
    ) -> tuple[str | None, click.Command | None, list[str]]:
        try:
            return super().resolve_command(ctx, args)
        except click.UsageError as exc:
            if args and args[0] in _SERVER_COMMANDS:
                hint = "it runs a server: install the mediavault package (pip install mediavault)"
                raise click.UsageError(f"{exc.message}; {hint}", exc.ctx) from None
            raise


def _version(ctx: click.Context, _param: click.Parameter, value: bool) -> None:
    if value and not ctx.resilient_parsing:
        from importlib.metadata import PackageNotFoundError, version

        click.echo(f"mediavault-sdk {version('mediavault-sdk')}")
        with contextlib.suppress(PackageNotFoundError):  # the server package is optional
            click.echo(f"mediavault {version('mediavault')} (server)")
        ctx.exit()


@click.group(cls=_Group)
@click.option(
    "--version", is_flag=True, expose_value=False, is_eager=True, callback=_version, help="Show the version and exit."
)
def cli() -> None:
    """Media Vault: move files to and from a vault, list what it holds, and (with the server package) run one."""
