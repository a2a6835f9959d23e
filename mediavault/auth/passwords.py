"""Argon2id password hashing (RFC 9106) through argon2-cffi, off the event loop.

Each hash costs ``argon2_memory_cost`` KiB and (with the defaults, RFC 9106 §4's second recommended
option, t=3, m=64 MiB, p=4) roughly 100-150 ms of CPU here, so hashing runs in worker threads behind a
limiter: at most ``password_hash_concurrency`` hashes at once, however many logins arrive.
"""

from __future__ import annotations

import anyio
import anyio.to_thread
from argon2 import PasswordHasher as _Argon2
from argon2 import Type
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

__all__ = ("PasswordHasher",)


class PasswordHasher:
    """Hash and verify passwords with Argon2id.

    Args:
        time_cost: passes over memory (t).
        memory_cost: memory in KiB (m).
        parallelism: lanes (p).
        concurrency: hashes allowed to run at once.
    """

    def __init__(self, *, time_cost: int, memory_cost: int, parallelism: int, concurrency: int) -> None:
        self._hasher = _Argon2(time_cost=time_cost, memory_cost=memory_cost, parallelism=parallelism, type=Type.ID)
        self._limiter = anyio.CapacityLimiter(concurrency)
        self._dummy_hash: str | None = None

    async def hash(self, password: str) -> str:
        """Return the PHC-format Argon2id hash of ``password``."""
        return await anyio.to_thread.run_sync(self._hasher.hash, password, limiter=self._limiter)

    async def verify(self, password_hash: str, password: str) -> bool:
        """Whether ``password`` matches ``password_hash`` (constant-time inside argon2)."""

        def check() -> bool:
            try:
                return self._hasher.verify(password_hash, password)
            except (VerifyMismatchError, VerificationError, InvalidHashError):
                return False

        return await anyio.to_thread.run_sync(check, limiter=self._limiter)

    async def verify_dummy(self, password: str) -> None:
        """Spend the same work as a real verification, for unknown accounts (no user enumeration by timing)."""
        if self._dummy_hash is None:
            self._dummy_hash = await self.hash("mediavault-dummy-password")
        await self.verify(self._dummy_hash, password)

    def needs_rehash(self, password_hash: str) -> bool:
        """Whether ``password_hash`` was made with other parameters than the configured ones."""
        try:
            return self._hasher.check_needs_rehash(password_hash)
        except InvalidHashError:
            return True
