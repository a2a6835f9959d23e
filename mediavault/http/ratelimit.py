"""Tiered rate limiting with the ``limits`` library (sliding window counter).

Every request to a vault route counts against one budget per period (``rate_limit_period`` seconds, 60 by
default), chosen per request:

============  ======================================  ================================
tier          identified by                           budget (config field)
============  ======================================  ================================
``api_key``   the API key (``X-API-Key``)             ``rate_limit_api_key`` (5000)
``user``      the authenticated user                  ``rate_limit_authenticated`` (1000)
``address``   the client address (no valid credential) ``rate_limit_anonymous`` (60)
============  ======================================  ================================

Counters live in process memory by default and in Redis when ``redis_url`` is set, so every process of a
deployment spends the same budget (atomic Lua scripts in Redis; Litestar's own limiter keeps per-process
counters, which let ~20 % extra requests through across two workers). The sliding window counter weighs the
previous fixed window's count by its overlap with the sliding one: O(1) memory and two Redis keys per client,
exact enough for abuse protection (RFC 6585 §4 leaves the algorithm to the server).

Every vault response carries ``X-RateLimit-Limit``, ``X-RateLimit-Remaining`` and ``X-RateLimit-Reset`` (Unix
time, seconds, when the budget next grows); over the budget the answer is 429 ``rate_limited`` with
``Retry-After`` (seconds, RFC 9110 §10.2.3) before any handler runs. Failed ``POST /auth/login`` attempts also
spend two stricter budgets (per address and per account) against password guessing (:meth:`RateLimiter.check_login`).

The client address is the TCP peer, unless the peer is one of ``trusted_proxies``: then ``X-Forwarded-For``
is read from the right, skipping trusted proxies, and the first other address is the client (a client can
prepend anything to that header, so only what trusted hops appended is believed).

If the counter store fails (Redis down), ``rate_limit_fail_open`` decides: requests are let through uncounted
(the default: the limiter protects capacity, it must not become the outage), or answered 503
``service_unavailable`` with ``Retry-After`` (nothing goes uncounted). One warning is logged when the store starts
failing and one line when it answers again, not one per request.
"""

from __future__ import annotations

import hashlib
import ipaddress
import logging
import math
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, cast

from limits import RateLimitItem, RateLimitItemPerSecond
from limits.aio.storage import MemoryStorage, RedisStorage, Storage
from limits.aio.strategies import SlidingWindowCounterRateLimiter
from litestar.enums import ScopeType
from litestar.middleware import ASGIMiddleware

from mediavault.auth.providers import PRINCIPAL_SCOPE_KEY, Principal
from mediavault.errors import RateLimited, ServiceUnavailable
from mediavault.logs import REQUEST_SCOPE

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

    from mediavault.config import MediaVaultConfig

__all__ = (
    "EXEMPT_OPT_KEY",
    "Budget",
    "RateLimitMiddleware",
    "RateLimiter",
    "client_address",
    "current_client",
    "peer_is_trusted",
)

logger = logging.getLogger("mediavault")

EXEMPT_OPT_KEY = "rate_limit_exempt"
"""Route ``opt`` key of handlers that never count (``GET /health``)."""

_IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True)
class Budget:
    """The state of one budget after a request was counted.

    Attributes:
        allowed: whether the request fits in the budget.
        limit: requests per period.
        remaining: requests left in the current window (0 when exhausted).
        reset_at: Unix time (seconds, with fractions) when the budget next grows.
    """

    allowed: bool
    limit: int
    remaining: int
    reset_at: float

    @property
    def reset(self) -> int:
        """:attr:`reset_at` rounded up to a whole Unix second (``X-RateLimit-Reset``)."""
        return math.ceil(self.reset_at)

    @property
    def headers(self) -> dict[str, str]:
        """``X-RateLimit-Limit``, ``X-RateLimit-Remaining``, ``X-RateLimit-Reset``."""
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
            "X-RateLimit-Reset": str(self.reset),
        }

    @property
    def retry_after(self) -> int:
        """Seconds until :attr:`reset_at`, rounded up (RFC 9110 §10.2.3 ``delay-seconds``), at least 1.

        Taken from the exact reset time: rounding the reset up and the clock down first could promise one second
        more than the period (61 for a 60 s window).
        """
        return max(1, math.ceil(self.reset_at - time.time()))


def _networks(proxies: tuple[str, ...]) -> tuple[_IPNetwork, ...]:
    return tuple(ipaddress.ip_network(p, strict=False) for p in proxies)


def _is_trusted(address: str, networks: tuple[_IPNetwork, ...]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in net for net in networks)


def peer_is_trusted(scope: Scope, trusted: tuple[_IPNetwork, ...]) -> bool:
    """Whether the TCP peer of ``scope`` is one of the ``trusted`` proxies (whose forwarding headers count)."""
    client = scope.get("client")
    return bool(trusted and client and _is_trusted(client[0], trusted))


def current_client(trusted: tuple[_IPNetwork, ...]) -> tuple[str | None, str | None]:
    """``(address, user agent)`` of the vault request being served in this context (:data:`~mediavault.logs.
    REQUEST_SCOPE`), ``(None, None)`` outside one (a script, the in-process API); the user agent cut to 512
    characters, ``None`` when not sent."""
    scope = REQUEST_SCOPE.get()
    if scope is None:
        return None, None
    agent = next((v.decode("latin-1")[:512] for k, v in scope.get("headers", ()) if k == b"user-agent"), None)
    return client_address(scope, trusted), agent  # type: ignore[arg-type]


def client_address(scope: Scope, trusted: tuple[_IPNetwork, ...]) -> str:
    """The client's address: the TCP peer, or what trusted proxies said in ``X-Forwarded-For``.

    Args:
        scope: an ASGI HTTP or WebSocket scope.
        trusted: networks of reverse proxies whose ``X-Forwarded-For`` is believed.

    Returns:
        An IP address as text (``"unknown"`` when the server gave no peer, e.g. a Unix socket).
    """
    client = scope.get("client")
    peer = client[0] if client else "unknown"
    if not peer_is_trusted(scope, trusted):
        return peer
    hops = [
        hop.strip()
        for name, value in scope.get("headers", ())
        if name == b"x-forwarded-for"
        for hop in value.decode("latin-1").split(",")
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, trusted):
            try:
                return str(ipaddress.ip_address(hop))
            except ValueError:
                return peer  # a malformed hop appended by a trusted proxy: fall back to the proxy itself
    return hops[0] if hops else peer


def _budget(
    item: RateLimitItem,
    allowed: bool,
    previous_count: int,
    previous_expires_in: float,
    current_count: int,
    current_expires_in: float,
) -> Budget:
    """The :class:`Budget` of ``item`` from its sliding window (the two windows' counts and seconds to expiry).

    The same arithmetic as ``limits``' ``SlidingWindowCounterRateLimiter.get_window_stats``: the previous window's
    count weighted by its overlap with the sliding one plus the current count is spent; the budget next grows when
    one of the previous window's requests slides out or the current window expires, whichever comes first.
    """
    period = item.get_expiry()
    spent = previous_count * previous_expires_in / period + current_count
    remaining = max(0, item.amount - math.floor(spent))
    resets = []
    if previous_count:
        resets.append(previous_expires_in % (period / previous_count))
    if current_count:
        resets.append(current_expires_in % period)
    return Budget(
        allowed=allowed,
        limit=item.amount,
        remaining=remaining,
        reset_at=time.time() + min(resets, default=0.0),
    )


class RateLimiter:
    """The budgets of one vault instance.

    Args:
        config: ``redis_url``, ``redis_key_prefix``, ``path_prefix``, ``rate_limit_*`` and ``trusted_proxies``
            are read.
    """

    def __init__(self, config: MediaVaultConfig) -> None:
        self.enabled = config.rate_limit_enabled
        self.trusted = _networks(config.trusted_proxies)
        self._period = config.rate_limit_period
        self._namespace = config.path_prefix or "/"
        self._items: dict[str, RateLimitItem] = {
            tier: RateLimitItemPerSecond(limit, self._period)
            for tier, limit in (
                ("api_key", config.rate_limit_api_key),
                ("user", config.rate_limit_authenticated),
                ("address", config.rate_limit_anonymous),
                ("login_address", config.rate_limit_login_per_address),
                ("login_account", config.rate_limit_login_per_account),
            )
        }
        self.storage: Storage
        if config.redis_url:
            self.storage = RedisStorage(
                "async+" + config.redis_url,
                implementation="redispy",
                key_prefix=f"{config.redis_key_prefix}:ratelimit",
                wrap_exceptions=True,
            )
        else:
            self.storage = MemoryStorage()
        self._strategy = SlidingWindowCounterRateLimiter(self.storage)
        self._fail_open = config.rate_limit_fail_open
        self.on_rejected: Callable[[str], None] | None = None
        """Called with the tier of each request refused with 429 (the metrics' counter, when enabled)."""
        self._store_failing = False

    async def hit(self, tier: str, identity: str) -> Budget | None:
        """Count one request of ``identity`` against ``tier``'s budget.

        Args:
            tier: ``api_key``, ``user``, ``address``, ``login_address`` or ``login_account``.
            identity: who is counted (a key id, user id, address, or account hash).

        Returns:
            The budget after counting, or ``None`` when the counter store failed and ``rate_limit_fail_open`` lets
            the request through uncounted.

        Raises:
            ServiceUnavailable: the counter store failed and ``rate_limit_fail_open`` is off.
        """
        item = self._items[tier]
        key = item.key_for(self._namespace, tier, identity)
        expiry = item.get_expiry()
        # The storage is called directly (the strategy's hit() and get_window_stats() compute the key again and
        # add a layer each): one atomic count, then one read of the window for the headers.
        try:
            allowed = await self.storage.acquire_sliding_window_entry(key, item.amount, expiry)  # type: ignore[attr-defined]
            window = await self.storage.get_sliding_window(key, expiry)  # type: ignore[attr-defined]
        except Exception as exc:
            self._store_failed(exc)
            return None
        self._store_answered()
        return _budget(item, bool(allowed), *window)

    def _store_failed(self, exc: Exception) -> None:
        """Apply ``rate_limit_fail_open`` to a failed counter store call; log the first failure of a run only.

        Raises:
            ServiceUnavailable: ``rate_limit_fail_open`` is off.
        """
        if not self._store_failing:
            self._store_failing = True
            what = "letting requests through uncounted" if self._fail_open else "answering 503"
            logger.warning("rate limiter store failed (%s: %s); %s until it answers", type(exc).__name__, exc, what)
        if not self._fail_open:
            raise ServiceUnavailable("Rate limiting is unavailable; try again shortly", retry_after=5) from None

    def _store_answered(self) -> None:
        if self._store_failing:
            self._store_failing = False
            logger.warning("rate limiter store answers again; counting requests")

    def _login_identities(self, address: str, email: str) -> tuple[tuple[str, str], ...]:
        # The account is identified by the SHA-256 of its normalised email: no email is stored in clear.
        account = hashlib.sha256(email.strip().lower().encode()).hexdigest()
        return (("login_address", address), ("login_account", account))

    async def check_login(self, address: str, email: str) -> None:
        """Refuse a login attempt when ``address`` or the account ``email`` used up its failed-login budget.

        Only failures spend these budgets (:meth:`record_login_failure`), so people who type their password
        right are never slowed down, while guessing costs at most ``rate_limit_login_per_*`` Argon2id
        verifications a period (OWASP Authentication Cheat Sheet, "Protect against automated attacks").

        Raises:
            RateLimited: a budget is exhausted (``Retry-After`` says when it frees up).
        """
        if not self.enabled:
            return
        for tier, identity in self._login_identities(address, email):
            item = self._items[tier]
            try:
                allowed = await self._strategy.test(item, self._namespace, tier, identity)
                if allowed:
                    continue
                stats = await self._strategy.get_window_stats(item, self._namespace, tier, identity)
            except Exception as exc:
                self._store_failed(exc)
                return
            budget = Budget(allowed=False, limit=item.amount, remaining=0, reset_at=stats.reset_time)
            raise RateLimited(
                "Too many failed login attempts; try again later",
                retry_after=budget.retry_after,
                headers=budget.headers,
            )

    async def record_login_failure(self, address: str, email: str) -> None:
        """Spend one failed attempt from the budgets of ``address`` and of the account ``email``."""
        if self.enabled:
            for tier, identity in self._login_identities(address, email):
                await self.hit(tier, identity)

    async def __aenter__(self) -> RateLimiter:
        return self

    async def __aexit__(self, *_exc: object) -> None:
        await self.close()

    async def close(self) -> None:
        """Release the counter store's connections (Redis)."""
        client: Any = getattr(getattr(self.storage, "bridge", None), "storage", None)
        aclose = getattr(client, "aclose", None)
        if aclose is not None:
            try:
                await aclose()
            except Exception:  # pragma: no cover - shutting down anyway
                logger.debug("closing the rate limiter's Redis client failed", exc_info=True)


class RateLimitMiddleware(ASGIMiddleware):
    """Router middleware: pick the tier, count the request, add the headers, or answer 429.

    The tier comes from the principal :class:`~mediavault.http.auth.AuthenticationMiddleware` (which runs before)
    left in the scope: the API key's, the user's, or, without a principal (none, or a bad credential), the client
    address'. The limiter never authenticates.

    Args:
        limiter: the vault's budgets.
    """

    scopes = (ScopeType.HTTP,)
    exclude_opt_key = EXEMPT_OPT_KEY

    def __init__(self, limiter: RateLimiter) -> None:
        self.limiter = limiter

    def __deepcopy__(self, _memo: dict[int, Any]) -> RateLimitMiddleware:
        return self  # Litestar deep-copies routers on registration; the limiter is shared, never copied

    async def handle(self, scope: Scope, receive: Receive, send: Send, next_app: ASGIApp) -> None:
        principal: Principal | None = scope.get(PRINCIPAL_SCOPE_KEY)  # type: ignore[assignment]
        if principal is None:
            tier, identity = "address", client_address(scope, self.limiter.trusted)
        elif principal.api_key_id is not None:
            tier, identity = "api_key", str(principal.api_key_id)
        else:
            tier, identity = "user", str(principal.user_id)
        budget = await self.limiter.hit(tier, identity)
        if budget is None:
            await next_app(scope, receive, send)
            return
        if not budget.allowed:
            if self.limiter.on_rejected is not None:
                self.limiter.on_rejected(tier)
            raise RateLimited(retry_after=budget.retry_after, headers=budget.headers)
        extra = [(k.lower().encode(), v.encode()) for k, v in budget.headers.items()]

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = cast("list[tuple[bytes, bytes]]", message.setdefault("headers", []))
                present = {k.lower() for k, _ in headers}
                headers.extend((k, v) for k, v in extra if k not in present)
            await send(message)

        await next_app(scope, receive, send_with_headers)
