"""db.availability.database_unavailable: which database errors are the database being briefly unavailable (the HTTP
layer's 503 with Retry-After, one warning line in the background loops) rather than a bug."""

from __future__ import annotations

import asyncpg
from sqlalchemy.exc import IntegrityError, OperationalError

from mediavault.db.availability import database_unavailable


def test_a_postgresql_deadlock_or_serialization_failure_is_busy() -> None:
    """PostgreSQL aborted the transaction to let another through: the same request a moment later succeeds."""
    deadlock = asyncpg.exceptions.DeadlockDetectedError("deadlock detected")
    assert database_unavailable(deadlock) == "busy"
    wrapped = OperationalError("UPDATE ...", {}, deadlock)  # as SQLAlchemy raises it
    assert database_unavailable(wrapped) == "busy"
    assert database_unavailable(asyncpg.exceptions.SerializationError("could not serialize")) == "busy"


def test_a_constraint_violation_is_not() -> None:
    violation = asyncpg.exceptions.UniqueViolationError("duplicate key")
    assert database_unavailable(IntegrityError("INSERT ...", {}, violation)) is None
    assert database_unavailable(ValueError("a bug")) is None
