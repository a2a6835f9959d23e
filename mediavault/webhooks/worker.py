"""The webhook delivery worker: outbox → attempts → signed requests, retried until they succeed.

One :class:`WebhookWorker` per vault instance runs in the app's lifespan (``webhook_worker=True``, the
default) or alone under ``mediavault worker``. Its loop:

1. **fan-out**: outbox events not yet dispatched become a first attempt per matching endpoint (at
   start this catches up with everything raised while no worker ran);
2. **claim** due attempts (lease, see :mod:`mediavault.db.webhooks`) up to its concurrency, and send
   each one in its own task: SSRF check (users' endpoints), Standard Webhooks signature, transport;
3. **record** the attempt (status, response status, duration, a short excerpt of an error answer) and,
   on failure, schedule the next one after ``webhook_retry_schedule[n - 1]`` seconds ±20 % jitter, or
   later if the receiver sent ``Retry-After``;
4. sleep until woken by a committed event (the event publisher), a finished attempt, the next due
   attempt, or ``webhook_poll_interval`` (events raised by other processes).

Outcomes: 2xx succeeds; 410 Gone disables the endpoint; 3xx (redirects are never followed), other
statuses, timeouts and connection errors are retried. After ``webhook_failure_limit`` deliveries in a
row that failed every attempt the endpoint is disabled; its ``disabled_reason`` tells the owner why.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dt
import email.utils
import hashlib
import logging
import random
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import parse_qsl, urlsplit

import msgspec
from sqlalchemy.exc import IntegrityError, OperationalError
from sqlalchemy.ext.asyncio import AsyncSession

from mediavault.config import MediaVaultConfig
from mediavault.db.audit import AuditRepository
from mediavault.db.availability import log_retry
from mediavault.db.models import Webhook, WebhookDelivery, utcnow
from mediavault.db.webhooks import ClaimedDelivery, DeliveryRepository, WebhookRepository
from mediavault.events import EVENT_NAMES, Event
from mediavault.meta import VERSION
from mediavault.webhooks.guard import TargetRefused, check_target
from mediavault.webhooks.signing import check_secret, signed_headers
from mediavault.webhooks.transport import (
    TransportError,
    TransportResponse,
    TransportTimeout,
    WebhookMessage,
    WebhookTransport,
)

__all__ = ("WebhookWorker", "config_key")

logger = logging.getLogger("mediavault.webhooks")

MAX_ERROR_CHARS = 120
"""Longest ``error`` kept in the delivery log (a receiver's answer is never shown beyond this excerpt)."""
MAX_EXCERPT_CHARS = 100
MAX_RETRY_AFTER = 86_400.0
"""A ``Retry-After`` longer than a day is capped to a day."""
JITTER = 0.2
PRUNE_INTERVAL = 3600.0
"""Seconds between two :meth:`WebhookWorker.prune` runs of one worker (the first runs at start)."""


def config_key(url: str) -> str:
    """The key of a host-level endpoint: SHA-256 (hex) of its URL."""
    return hashlib.sha256(url.encode()).hexdigest()


def retry_after_seconds(value: str | None, now: dt.datetime | None = None) -> float | None:
    """``Retry-After`` (RFC 9110 §10.2.3: delay-seconds or an HTTP-date) in seconds, capped to a day."""
    if not value:
        return None
    value = value.strip()
    if value.isdigit():
        return min(float(value), MAX_RETRY_AFTER)
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return min(max((when - (now or utcnow())).total_seconds(), 0.0), MAX_RETRY_AFTER)


def _redacted(body: bytes, claimed: ClaimedDelivery) -> bytes:
    """``body`` with the endpoint's signing secret and its URL's query values blanked (a receiver may echo them)."""
    secrets = [claimed.secret, claimed.secret.removeprefix("whsec_")]  # the Standard Webhooks key, with or without
    secrets += [value for _, value in parse_qsl(urlsplit(claimed.url).query)]
    for secret in secrets:
        if len(secret) >= 4:
            body = body.replace(secret.encode(), b"[redacted]")
    return body


def _excerpt(body: bytes) -> str:
    text = body.decode("utf-8", errors="replace")
    text = "".join(c if c.isprintable() else " " for c in text).strip()
    return text[:MAX_EXCERPT_CHARS] + ("…" if len(text) > MAX_EXCERPT_CHARS else "")


class _Outcome(msgspec.Struct):
    status: str  # succeeded | failed
    response_status: int | None = None
    error: str | None = None
    retry_after: float | None = None
    gone: bool = False


@dataclass
class _Result:
    """A finished attempt waiting to be recorded (the recorder writes many in one transaction)."""

    claimed: ClaimedDelivery
    outcome: _Outcome
    started: dt.datetime
    duration_ms: int
    recorded: asyncio.Future[None]


class WebhookWorker:
    """Delivers the webhooks of one vault instance.

    Args:
        config: ``webhook_*`` settings and the host-level endpoints (``webhooks``) are read.
        session_factory: opens a new database session.
        transports: from the ``mediavault_webhook_transports`` hook, plugins' first.
        concurrency: attempts in flight at once.
        batch: events fanned out / attempts claimed per query.

    Raises:
        ValueError: a host-level endpoint of ``config.webhooks`` is invalid (secret, event names, or no
            transport for its URL).
    """

    def __init__(
        self,
        config: MediaVaultConfig,
        session_factory: Callable[[], AsyncSession],
        transports: list[WebhookTransport],
        *,
        concurrency: int = 32,
        batch: int = 100,
    ) -> None:
        self.config = config
        self.session_factory = session_factory
        self.transports = transports
        self.concurrency = concurrency
        self.batch = batch
        self.lease = self.config.webhook_timeout * 2 + 5
        self._wake: asyncio.Event | None = None
        self._task: asyncio.Task[None] | None = None
        self._inflight: dict[asyncio.Task[None], ClaimedDelivery] = {}
        self._results: list[_Result] = []
        self._results_ready: asyncio.Event | None = None
        self._recorder: asyncio.Task[None] | None = None
        self._stopping = False
        self._next_prune = 0.0  # time.monotonic() of the next prune
        for endpoint in self.config.webhooks:
            try:
                check_secret(endpoint.secret)
            except ValueError as exc:
                raise ValueError(f"webhooks: {endpoint.url}: {exc}") from exc
            unknown = sorted(set(endpoint.events) - EVENT_NAMES)
            if unknown:
                raise ValueError(f"webhooks: {endpoint.url}: unknown events {', '.join(unknown)}")
            if self.transport_for(endpoint.url) is None:
                raise ValueError(f"webhooks: {endpoint.url}: no transport handles this URL")
        if len({config_key(e.url) for e in self.config.webhooks}) != len(self.config.webhooks):
            raise ValueError("webhooks: each URL may appear once")

    # ------------------------------------------------------------------ targets

    def transport_for(self, url: str) -> WebhookTransport | None:
        """The first transport (plugins' before the built-in HTTP one) that handles ``url``."""
        return next((t for t in self.transports if t.handles(url)), None)

    async def check_url(self, url: str) -> None:
        """Check a URL a user wants to register (creation and update).

        Raises:
            TargetRefused: no transport handles it, or the SSRF guard / the transport refuses it.
        """
        transport = self.transport_for(url)
        if transport is None:
            raise TargetRefused("only http and https URLs are allowed")
        try:
            transport.check_url(url)
        except ValueError as exc:
            raise TargetRefused(str(exc)) from exc
        if _is_http(url):
            await check_target(url, allow_private=self.config.allow_private_webhook_targets)

    # ------------------------------------------------------------------ lifecycle

    def notify(self, _event: Event | None = None) -> None:
        """Wake the loop (an event was committed; subscribed to the event publisher)."""
        if self._wake is not None:
            self._wake.set()

    @property
    def running(self) -> bool:
        """Whether the loop is running."""
        return self._task is not None and not self._task.done()

    async def start(self) -> None:
        """Synchronise the host-level endpoints and start the loop on the running event loop."""
        await self.sync_config_endpoints()
        self._stopping = False
        self._wake = asyncio.Event()
        self._results_ready = asyncio.Event()
        self._recorder = asyncio.create_task(self._record_results(), name="mediavault-webhook-recorder")
        self._task = asyncio.create_task(self._run(), name="mediavault-webhook-worker")

    async def stop(self) -> None:
        """Stop the loop; attempts in flight are cancelled and their leases given back (they will be
        made again, with the same ``webhook-id``). Closes the transports."""
        self._stopping = True
        tasks = [t for t in (self._task, self._recorder, *self._inflight) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        finished, self._results = self._results, []
        if finished:  # attempts made but not yet recorded: record them rather than make them again
            with contextlib.suppress(Exception):
                await self._record_batch(finished)
        abandoned = [c.claim_token for c in self._inflight.values()]
        self._inflight.clear()
        self._task = self._recorder = None
        if abandoned:
            with contextlib.suppress(Exception):
                async with self.session_factory() as session:
                    await DeliveryRepository(session=session).release(abandoned)
                    await session.commit()
        for transport in self.transports:
            with contextlib.suppress(Exception):
                await transport.aclose()

    async def sync_config_endpoints(self) -> None:
        """Make the host-level endpoint rows match ``config.webhooks``: add new ones, update and
        re-enable listed ones, disable those no longer listed (their history stays)."""
        wanted = {config_key(e.url): e for e in self.config.webhooks}
        for _ in range(3):  # two processes starting together may race on the unique config_key
            try:
                async with self.session_factory() as session:
                    repo, deliveries = WebhookRepository(session=session), DeliveryRepository(session=session)
                    existing = {str(w.config_key): w for w in await repo.host_level()}
                    for key, endpoint in wanted.items():
                        row = existing.get(key)
                        if row is None:
                            session.add(
                                Webhook(
                                    config_key=key,
                                    url=endpoint.url,
                                    secret=endpoint.secret,
                                    events=list(endpoint.events),
                                )
                            )
                            continue
                        row.url, row.secret, row.events = endpoint.url, endpoint.secret, list(endpoint.events)
                        if not row.active:
                            row.enable()
                    for key, stale in existing.items():
                        if key not in wanted and stale.active:
                            await self._disable(deliveries, stale, "removed from the host configuration")
                    await session.commit()
                return
            except IntegrityError:
                await asyncio.sleep(0.05)
        raise RuntimeError("could not synchronise the host-level webhook endpoints")

    # ------------------------------------------------------------------ the loop

    async def _run(self) -> None:
        assert self._wake is not None
        while not self._stopping:
            self._wake.clear()
            timeout = self.config.webhook_poll_interval
            try:
                if time.monotonic() >= self._next_prune:
                    self._next_prune = time.monotonic() + PRUNE_INTERVAL
                    await self.prune()
                await self.fan_out()
                await self._claim_and_spawn()
                timeout = await self._sleep_time()
            except asyncio.CancelledError:
                raise
            except Exception as exc:
                log_retry(logger, exc, "webhook worker: loop iteration failed; retrying")
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(timeout):
                    await self._wake.wait()

    async def prune(self) -> tuple[int, int]:
        """Delete dispatched outbox events older than ``outbox_retention`` and finished attempts older than
        ``webhook_delivery_retention`` (bounded tables); ``(events, attempts)`` deleted. Audit log lines older than
        ``audit_retention`` go too (this worker runs the vault's hourly clean-up). The loop calls it at most once per
        :data:`PRUNE_INTERVAL` seconds."""
        now = utcnow()
        async with self.session_factory() as session:
            pruned = await DeliveryRepository(session=session).prune(
                events_before=now - dt.timedelta(seconds=self.config.outbox_retention),
                attempts_before=now - dt.timedelta(seconds=self.config.webhook_delivery_retention),
            )
            audit = await AuditRepository(session).prune(now - dt.timedelta(seconds=self.config.audit_retention))
            await session.commit()
        if any(pruned):
            logger.info("pruned %d outbox events and %d webhook attempts past their retention", *pruned)
        if audit:
            logger.info("pruned %d audit log lines past their retention", audit)
        return pruned

    async def fan_out(self) -> int:
        """Turn every undispatched outbox event into first attempts; the number of attempts created."""
        created = 0
        while True:
            async with self.session_factory() as session:
                taken, made = await DeliveryRepository(session=session).fan_out(limit=self.batch)
                await session.commit()
            created += made
            if taken < self.batch:
                return created

    async def _claim_and_spawn(self) -> None:
        while not self._stopping:
            free = self.concurrency - len(self._inflight)
            if free <= 0:
                return
            want = min(free, self.batch)
            async with self.session_factory() as session:
                claimed = await DeliveryRepository(session=session).claim_due(limit=want, lease=self.lease)
                await session.commit()
            for item in claimed:
                task = asyncio.create_task(self._deliver(item))
                self._inflight[task] = item
                task.add_done_callback(self._done)
            if len(claimed) < want:
                return

    def _done(self, task: asyncio.Task[None]) -> None:
        if not task.cancelled():
            self._inflight.pop(task, None)
        self.notify()

    async def _sleep_time(self) -> float:
        poll = self.config.webhook_poll_interval
        if len(self._inflight) >= self.concurrency:
            return poll  # a finishing attempt wakes the loop
        async with self.session_factory() as session:
            due = await DeliveryRepository(session=session).next_due()
        if due is None:
            return poll
        return min(max((due - utcnow()).total_seconds(), 0.005), poll)

    # ------------------------------------------------------------------ one attempt

    async def _deliver(self, claimed: ClaimedDelivery) -> None:
        started = utcnow()
        clock = time.perf_counter()
        outcome = await self._attempt(claimed)
        duration_ms = round((time.perf_counter() - clock) * 1000)
        result = _Result(claimed, outcome, started, duration_ms, asyncio.get_running_loop().create_future())
        self._results.append(result)
        assert self._results_ready is not None
        self._results_ready.set()
        await result.recorded  # the attempt holds its slot (and its lease) until it is recorded

    async def _record_results(self) -> None:
        """Record finished attempts in batches: one transaction for all that finished meanwhile."""
        assert self._results_ready is not None
        while True:
            await self._results_ready.wait()
            self._results_ready.clear()
            batch, self._results = self._results, []
            if not batch:
                continue
            try:
                await self._record_batch(batch)
            except Exception:
                logger.exception(
                    "webhook worker: %d attempts could not be recorded; they will be made again", len(batch)
                )
            for result in batch:
                if not result.recorded.done():
                    result.recorded.set_result(None)

    async def _record_batch(self, batch: list[_Result]) -> None:
        for attempt in range(5):
            try:
                retries = await self._record(batch)
                break
            except OperationalError:  # e.g. SQLite busy beyond its timeout: try again, the leases still hold
                if attempt == 4:
                    raise
                logger.warning("webhook worker: could not record %d attempts, retrying", len(batch), exc_info=True)
                await asyncio.sleep(0.1 * 2**attempt)
        loop = asyncio.get_running_loop()
        for retry_at in retries:
            loop.call_later((retry_at - utcnow()).total_seconds(), self.notify)

    async def _attempt(self, claimed: ClaimedDelivery) -> _Outcome:
        timeout = self.config.webhook_timeout
        transport = self.transport_for(claimed.url)
        if transport is None:
            return _Outcome("failed", error="no transport handles this URL")
        connect_to = None
        body = msgspec.json.encode(claimed.payload)
        try:
            async with asyncio.timeout(timeout):
                if claimed.owner_id is not None and _is_http(claimed.url):  # host-level endpoints are trusted
                    target = await check_target(claimed.url, allow_private=self.config.allow_private_webhook_targets)
                    connect_to = target.address
            headers = {
                "content-type": "application/json",
                "user-agent": f"mediavault-webhooks/{VERSION}",
                **signed_headers(claimed.secret, str(claimed.event_id), body),
            }
            message = WebhookMessage(
                url=claimed.url,
                body=body,
                headers=headers,
                event_id=str(claimed.event_id),
                event=claimed.event,
                attempt=claimed.attempt,
                timeout=timeout,
                connect_to=connect_to,
            )
            async with asyncio.timeout(timeout + 1):  # a plugin transport that ignores message.timeout
                response = await transport.send(message)
        except TargetRefused as exc:
            return _Outcome("failed", error=f"refused: {exc}")
        except TimeoutError:
            return _Outcome("failed", error=f"timed out after {timeout:g} s")
        except TransportTimeout as exc:
            return _Outcome("failed", error=f"timed out: {exc}")
        except TransportError as exc:
            return _Outcome("failed", error=str(exc)[:MAX_ERROR_CHARS] or type(exc).__name__)
        except Exception as exc:  # a broken plugin transport must not kill the worker
            logger.exception("webhook transport %r failed", transport)
            return _Outcome("failed", error=f"transport error: {type(exc).__name__}")
        return self._judge(response, claimed)

    @staticmethod
    def _judge(response: TransportResponse, claimed: ClaimedDelivery) -> _Outcome:
        status = response.status_code
        if 200 <= status < 300:
            return _Outcome("succeeded", response_status=status)
        headers = {k.lower(): v for k, v in response.headers.items()}
        error = f"HTTP {status}"
        if 300 <= status < 400:
            error += f": redirect to {headers.get('location', '?')[:100]} not followed"
        elif status == 410:
            error += ": Gone, the endpoint was disabled"
        if excerpt := _excerpt(_redacted(response.body_excerpt, claimed)):
            error += f": {excerpt}"
        return _Outcome(
            "failed",
            response_status=status,
            error=error[:MAX_ERROR_CHARS],
            retry_after=retry_after_seconds(headers.get("retry-after")),
            gone=status == 410,
        )

    async def _record(self, batch: list[_Result]) -> list[dt.datetime]:
        """Record ``batch`` in one transaction; returns when the retries it scheduled fall due."""
        schedule = self.config.webhook_retry_schedule
        retries = []
        async with self.session_factory() as session:
            deliveries = DeliveryRepository(session=session)
            for result in batch:
                claimed, outcome = result.claimed, result.outcome
                webhook = await session.get(Webhook, claimed.webhook_id)
                if webhook is None:
                    continue  # deleted meanwhile (its attempts went with it)
                retry_at = None
                retries_left = webhook.active and claimed.attempt <= len(schedule)
                if outcome.status == "failed" and not outcome.gone and retries_left:
                    delay = schedule[claimed.attempt - 1] * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311
                    retry_at = utcnow() + dt.timedelta(seconds=max(delay, outcome.retry_after or 0.0))
                recorded = await deliveries.finish(
                    claimed,
                    status=outcome.status,
                    attempted_at=result.started,
                    response_status=outcome.response_status,
                    duration_ms=result.duration_ms,
                    error=outcome.error,
                    next_attempt_at=retry_at,
                )
                if not recorded:
                    continue  # the claim was lost (lease ran out and another worker took the attempt)
                if outcome.status == "succeeded":
                    if webhook.consecutive_failures:
                        webhook.consecutive_failures = 0
                elif outcome.gone:
                    await self._disable(deliveries, webhook, "the receiver answered 410 Gone")
                elif retry_at is not None:
                    session.add(
                        WebhookDelivery(
                            id=uuid.uuid4(),
                            webhook_id=claimed.webhook_id,
                            event_id=claimed.event_id,
                            event=claimed.event,
                            attempt=claimed.attempt + 1,
                            status="pending",
                            next_attempt_at=retry_at,
                        )
                    )
                    retries.append(retry_at)
                elif webhook.active:  # every attempt of this delivery failed
                    webhook.consecutive_failures += 1
                    if webhook.consecutive_failures >= self.config.webhook_failure_limit:
                        await self._disable(
                            deliveries,
                            webhook,
                            f"{webhook.consecutive_failures} deliveries in a row failed every attempt "
                            f"(last error: {outcome.error})"[:MAX_ERROR_CHARS],
                        )
            await session.commit()
        return retries

    async def _disable(self, deliveries: DeliveryRepository, webhook: Webhook, reason: str) -> None:
        logger.warning("webhook %s (%s) disabled: %s", webhook.id, webhook.url, reason)
        webhook.active = False
        webhook.disabled_reason = reason
        webhook.disabled_at = utcnow()
        await deliveries.fail_pending(webhook.id, "not sent: the endpoint was disabled")


def _is_http(url: str) -> bool:
    return url.lower().startswith(("http://", "https://"))
