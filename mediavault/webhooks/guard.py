"""The SSRF guard: webhook URLs may only reach public ``http(s)`` addresses.

A URL is refused unless its scheme is ``http`` or ``https`` and *every* address its host resolves to
(``getaddrinfo``, run in a worker thread) is a public unicast address: loopback, private (RFC 1918,
ULA, and the deprecated site-local ``fec0::/10`` that Python 3.11 counts as global), shared (RFC 6598),
link-local (incl. ``169.254.169.254`` cloud metadata), multicast, unspecified, reserved and documentation
ranges are refused, and so are IPv6 addresses embedding a refused IPv4 one (IPv4-mapped ``::ffff:0:0/96``,
NAT64 ``64:ff9b::/96``, 6to4 ``2002::/16``) and Teredo.
Numeric host spellings (``2130706433``, ``0x7f.1``, ``127.1``) resolve like any other name, so they
are caught too. The check runs when an endpoint is created or changed and again before every
delivery (DNS answers change); the delivery then connects to the address that was checked.
"""

from __future__ import annotations

import ipaddress
import socket
from dataclasses import dataclass
from urllib.parse import urlsplit

import anyio.to_thread

__all__ = ("CheckedTarget", "TargetRefused", "check_target", "is_public_address", "resolve")

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_SIX_TO_FOUR = ipaddress.ip_network("2002::/16")


class TargetRefused(ValueError):
    """The URL may not be used as a webhook target (the message says why)."""


@dataclass(frozen=True)
class CheckedTarget:
    """A URL that passed the guard and the address to connect to (``None`` when the guard is off)."""

    url: str
    address: str | None


def is_public_address(ip: IPAddress) -> bool:
    """Whether ``ip`` is a globally routable unicast address (and so is any IPv4 address it embeds)."""
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.is_site_local:  # fec0::/10 (RFC 3879): still routed inside some networks
            return False
        if ip.ipv4_mapped is not None:
            return is_public_address(ip.ipv4_mapped)
        if ip.teredo is not None:
            return False
        if ip in _NAT64:
            return is_public_address(ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
        if ip in _SIX_TO_FOUR:
            return ip.sixtofour is not None and is_public_address(ip.sixtofour)
    return ip.is_global and not (ip.is_multicast or ip.is_reserved or ip.is_unspecified or ip.is_loopback)


def _getaddrinfo(host: str, port: int) -> list[str]:
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


async def resolve(host: str, port: int) -> list[IPAddress]:
    """Every address ``host`` resolves to (``getaddrinfo`` in a worker thread; scope ids dropped).

    Raises:
        TargetRefused: the name does not resolve.
    """
    try:
        addresses = await anyio.to_thread.run_sync(_getaddrinfo, host, port)
    except (OSError, UnicodeError) as exc:
        raise TargetRefused(f"host {host!r} does not resolve") from exc
    return [ipaddress.ip_address(a.partition("%")[0]) for a in addresses]


async def check_target(url: str, *, allow_private: bool) -> CheckedTarget:
    """Check an ``http(s)`` webhook URL; return it with the public address to connect to.

    Args:
        url: the endpoint URL.
        allow_private: ``allow_private_webhook_targets``: skip the address check (not the scheme check).

    Raises:
        TargetRefused: not ``http(s)``, no host, credentials in the URL, or a non-public address.
    """
    try:
        parts = urlsplit(url)
        port = parts.port or (443 if parts.scheme.lower() == "https" else 80)
    except ValueError as exc:
        raise TargetRefused("not a valid URL") from exc
    if parts.scheme.lower() not in {"http", "https"}:
        raise TargetRefused("only http and https URLs are allowed")
    host = parts.hostname
    if not host:
        raise TargetRefused("the URL has no host")
    if parts.username is not None or parts.password is not None:
        raise TargetRefused("credentials in the URL are not allowed")
    if allow_private:
        return CheckedTarget(url, None)
    addresses = await resolve(host, port)
    refused = [str(a) for a in addresses if not is_public_address(a)]
    if refused or not addresses:
        raise TargetRefused(f"host {host!r} resolves to a non-public address ({', '.join(refused)})")
    return CheckedTarget(url, str(addresses[0]))
