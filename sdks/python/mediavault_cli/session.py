"""Where the CLI's server and credentials come from, and ``mediavault login`` / ``logout``.

Settings, first found wins:

* the server: ``--url``, else ``MEDIAVAULT_URL``, else the stored login;
* the credential: ``MEDIAVAULT_API_KEY``, else ``MEDIAVAULT_TOKEN`` (an access token), else the stored login.

``mediavault login`` asks for the email and password, creates an API key named after this machine and stores it
with the URL in ``$XDG_CONFIG_HOME/mediavault/credentials.json`` (``~/.config/...``; folder 0700, file 0600, written
atomically). A key rather than a token pair, because a refresh token is spent on use: two CLI runs refreshing the
same stored token at once would revoke each other's login (reuse detection), while a key can be used by any number
of runs and revoked on its own (``mediavault logout --revoke``). Secrets never go on the command line, where other
users of the machine can read them (``ps``).
"""

from __future__ import annotations

import json
import os
import socket
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path

import click
import httpx
from mediavault_sdk import AsyncClient, Client, Unauthorized, VaultError

__all__ = (
    "Connection",
    "Login",
    "connect",
    "credentials_path",
    "fail",
    "login_client",
    "login_command",
    "logout_command",
    "read_password",
    "url_option",
)

url_option = click.option(
    "--url",
    envvar="MEDIAVAULT_URL",
    help="The server, e.g. http://127.0.0.1:8080 (default: $MEDIAVAULT_URL, else the stored login).",
)


@dataclass
class Login:
    """What ``mediavault login`` stores: the server, the account and the API key made for this machine."""

    url: str
    email: str
    api_key: str
    key_id: str


def credentials_path() -> Path:
    """``$XDG_CONFIG_HOME/mediavault/credentials.json`` (``~/.config`` when unset, per the XDG base directory spec)."""
    base = os.environ.get("XDG_CONFIG_HOME") or str(Path.home() / ".config")
    return Path(base) / "mediavault" / "credentials.json"


def _stored() -> Login | None:
    path = credentials_path()
    try:
        return Login(**json.loads(path.read_text()))
    except FileNotFoundError:
        return None
    except (ValueError, TypeError) as exc:
        raise click.ClickException(
            f"{path} is not a stored login ({exc}); remove it and run 'mediavault login'"
        ) from exc


def _store(login: Login) -> Path:
    path = credentials_path()
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    temp = path.with_name(f".{path.name}.{os.getpid()}")
    fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w") as fh:
        json.dump(asdict(login), fh)
    os.replace(temp, path)
    return path


@dataclass(frozen=True)
class Connection:
    """The server and credential the CLI uses (an API key or an access token)."""

    url: str
    api_key: str | None
    token: str | None

    def client(self) -> Client:
        """A blocking client for this connection."""
        return Client(self.url, api_key=self.api_key, token=None if self.api_key else self.token)

    def async_client(self) -> AsyncClient:
        """An asyncio client for this connection."""
        return AsyncClient(self.url, api_key=self.api_key, token=None if self.api_key else self.token)


def connect(url: str | None) -> Connection:
    """The configured server and credential (see the module docstring), checked with ``GET /users/me``.

    Raises:
        click.ClickException: no server or no credential is configured, the credential is refused, or the server
            cannot be reached.
    """
    stored = _stored()
    url = url or (stored.url if stored else None)
    if not url:
        raise click.ClickException("no server: run 'mediavault login --url URL' or set MEDIAVAULT_URL")
    api_key, token = os.environ.get("MEDIAVAULT_API_KEY"), os.environ.get("MEDIAVAULT_TOKEN")
    if not (api_key or token) and stored and stored.url.rstrip("/") == url.rstrip("/"):
        api_key = stored.api_key
    if not (api_key or token):
        raise click.ClickException(
            f"not logged in to {url}: run 'mediavault login' or set MEDIAVAULT_API_KEY (or MEDIAVAULT_TOKEN)"
        )
    connection = Connection(url, api_key, token)
    with connection.client() as client:
        try:
            client.me()  # a wrong or revoked credential fails here, once, not once per file
        except Unauthorized as exc:
            raise click.ClickException(f"{url} refused the credential ({exc}): run 'mediavault login' again") from exc
        except (VaultError, httpx.HTTPError) as exc:
            raise fail(exc, url) from exc
    return connection


@contextmanager
def login_client(url: str | None, email: str | None, password_stdin: bool) -> Iterator[Client]:
    """A client authenticated by a login, for what API keys may not do (managing API keys): ``MEDIAVAULT_TOKEN``
    when set, else a login to the server (``url``, else the stored login's) as ``email`` (else the stored login's,
    else asked for) with the password (asked for, or the first line of standard input), logged out afterwards.

    Raises:
        click.ClickException: no server configured, the login was refused, or the server could not be reached.
    """
    stored = _stored()
    url = url or (stored.url if stored else None)
    if not url:
        raise click.ClickException("no server: run 'mediavault login --url URL' or set MEDIAVAULT_URL")
    if stored and stored.url.rstrip("/") == url.rstrip("/"):
        email = email or stored.email
    token = os.environ.get("MEDIAVAULT_TOKEN")
    try:
        with Client(url, token=token) as client:
            if token is None:
                client.login(email or click.prompt("Email"), read_password(password_stdin))
            try:
                yield client
            finally:
                if token is None:
                    client.logout()
    except (VaultError, httpx.HTTPError) as exc:
        raise fail(exc, url) from exc


def read_password(from_stdin: bool, *, confirm: bool = False) -> str:
    """The password: the first line of standard input with ``from_stdin``, else a hidden prompt."""
    if from_stdin:
        return sys.stdin.readline().rstrip("\r\n")
    return str(click.prompt("Password", hide_input=True, confirmation_prompt=confirm))


def fail(exc: Exception, url: str) -> click.ClickException:
    """A message a person understands for an error of the server or the network."""
    if isinstance(exc, httpx.TransportError):
        return click.ClickException(f"cannot reach {url}: {exc}")
    return click.ClickException(str(exc))


@click.command("login")
@url_option
@click.option("--email", help="The account's email (asked for when missing).")
@click.option("--password-stdin", is_flag=True, help="Read the password from the first line of standard input.")
def login_command(url: str | None, email: str | None, password_stdin: bool) -> None:
    """Log in and keep an API key for this machine (in ~/.config/mediavault/credentials.json, mode 0600)."""
    stored = _stored()
    url = url or (stored.url if stored else None) or click.prompt("Server URL", default="http://127.0.0.1:8080")
    email = email or click.prompt("Email")
    password = read_password(password_stdin)
    try:
        with Client(url) as client:
            client.login(email, password)
            key = client.create_api_key(f"mediavault CLI on {socket.gethostname()}"[:200])
            client.logout()  # the key is what stays; the login session is not needed any more
    except (VaultError, httpx.HTTPError) as exc:
        raise fail(exc, url) from exc
    path = _store(Login(url=url, email=email, api_key=key.key, key_id=key.id))
    click.echo(f"Logged in to {url} as {email}; API key {key.prefix}... stored in {path}")


@click.command("logout")
@click.option("--revoke", is_flag=True, help="Also delete the API key on the server (asks for the password).")
@click.option("--password-stdin", is_flag=True, help="With --revoke: read the password from standard input.")
def logout_command(revoke: bool, password_stdin: bool) -> None:
    """Forget the stored login (with --revoke, delete its API key on the server first)."""
    stored = _stored()
    if stored is None:
        click.echo("Not logged in.")
        return
    if revoke:
        try:
            with Client(stored.url) as client:
                client.login(stored.email, read_password(password_stdin))
                client.delete_api_key(stored.key_id)
                client.logout()
        except (VaultError, httpx.HTTPError) as exc:
            raise fail(exc, stored.url) from exc
    credentials_path().unlink()
    note = "its API key was deleted" if revoke else "its API key still works until deleted (logout --revoke)"
    click.echo(f"Logged out of {stored.url}; {note}.")
