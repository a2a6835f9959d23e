"""Developer sessions: ``nox -s tests lint typecheck docs serve``."""

from __future__ import annotations

import nox

nox.options.sessions = ["lint", "typecheck", "tests"]
nox.options.default_venv_backend = "venv"

PYTHONS = ["3.11", "3.12", "3.13"]


@nox.session(python=PYTHONS[0])
def tests(session: nox.Session) -> None:
    """The whole test suite on the embedded default (the README's test command)."""
    session.install(".[test]")
    session.run("python", "-m", "pytest", *session.posargs)


@nox.session(python=PYTHONS[0])
def tests_full(session: nox.Session) -> None:
    """The whole test suite on PostgreSQL + Redis + S3 (moto): CI's second leg (docs/testing.md)."""
    session.install(".[test]")
    session.run("python", "-m", "pytest", *session.posargs, env={"MEDIAVAULT_TEST_BACKEND": "full"})


@nox.session
def lint(session: nox.Session) -> None:
    """ruff lint and format check."""
    session.install("ruff>=0.8")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", ".")


@nox.session
def typecheck(session: nox.Session) -> None:
    """mypy over the server package and the SDK."""
    session.install(".", "mypy>=1.13")
    session.run("mypy", "mediavault", "sdks/python/mediavault_sdk", "sdks/python/mediavault_cli")


@nox.session
def docs(session: nox.Session) -> None:
    """Build the documentation site into ./site, failing on any warning (broken link, anchor or snippet)."""
    session.install(".[docs]")
    session.run("mkdocs", "build", "--strict", *session.posargs)


@nox.session
def serve(session: nox.Session) -> None:
    """Run the reference server on http://127.0.0.1:8080 (data in ./mediavault-data)."""
    session.install(".")
    session.run("python", "-m", "mediavault", "serve", *session.posargs)
