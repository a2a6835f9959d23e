"""What the commands that send one request or a few share: the call on the configured connection with its errors as
a message, ``--json`` output, and the parsers of JSON and ``KEY=VALUE`` options."""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable
from typing import Any, TypeVar

import click
import httpx
import msgspec
from mediavault_sdk import Client, VaultError

from mediavault_cli.session import connect, fail

__all__ = ("as_json_option", "call", "done", "echo_json", "json_object", "key_values", "when")

T = TypeVar("T")

as_json_option = click.option("--json", "as_json", is_flag=True, help="Print the API's answer as JSON.")
"""``--json``: print what the API answered (a list, an object) instead of lines for people."""


def call(url: str | None, request: Callable[[Client], T]) -> T:
    """``request(client)`` on the configured connection (:func:`~mediavault_cli.session.connect`).

    Raises:
        click.ClickException: the server refused (its message) or could not be reached.
    """
    connection = connect(url)
    try:
        with connection.client() as vault:
            return request(vault)
    except (VaultError, httpx.HTTPError) as exc:
        raise fail(exc, connection.url) from exc


def echo_json(value: object) -> None:
    """``value`` (msgspec Structs, lists, dicts) as indented JSON on standard output."""
    click.echo(msgspec.json.format(msgspec.json.encode(value).decode(), indent=2))


def done(answer: dict[str, object], line: str, as_json: bool) -> None:
    """Report an action with no answer body: ``answer`` as JSON with ``--json``, else ``line``."""
    if as_json:
        echo_json(answer)
    else:
        click.echo(line)


def when(moment: dt.datetime | None) -> str:
    """A time for a table column: ``YYYY-MM-DD HH:MM`` as the server sent it (UTC), ``-`` for none."""
    return "-" if moment is None else moment.strftime("%Y-%m-%d %H:%M")


def json_object(_ctx: click.Context, _param: click.Parameter, value: str | None) -> dict[str, Any] | None:
    """Option callback: the option's text as a JSON object (anything else is a usage error, exit status 2)."""
    if value is None:
        return None
    try:
        parsed = json.loads(value)
    except ValueError as exc:
        raise click.BadParameter(f"not JSON: {exc}") from exc
    if not isinstance(parsed, dict):
        raise click.BadParameter('must be a JSON object, e.g. \'{"project": "apollo"}\'')
    return parsed


def key_values(_ctx: click.Context, _param: click.Parameter, values: tuple[str, ...]) -> dict[str, str] | None:
    """Option callback of a repeatable ``KEY=VALUE`` option: a dict (``None`` when not given); the value may hold
    ``=``, the key may not be empty."""
    pairs: dict[str, str] = {}
    for value in values:
        key, equals, text = value.partition("=")
        if not key or not equals:
            raise click.BadParameter(f"{value!r} is not KEY=VALUE")
        pairs[key] = text
    return pairs or None
