"""The ``mediavault`` command: ``login``, ``logout``, ``upload``, ``download``, ``ls``, ``edit``, ``replace``,
``versions``, ``trash``, ``usage``, ``keys``, ``admin`` and ``audit`` talk to a vault through :mod:`mediavault_sdk`;
the server's commands (``serve``, ``migrate``, ``worker``, ``users``...)
join them from the ``mediavault.cli`` entry-point group when the ``mediavault`` package is installed
(:mod:`mediavault_cli._app`).

This module imports nothing at load time, so Ctrl-C is handled from the first moment the command runs: it exits with
status 130 (128 + SIGINT, as shells report an interrupted program) and no traceback. Needs ``mediavault-sdk[cli]``.
"""

from __future__ import annotations

import sys

__all__ = ("main",)

INTERRUPTED = 130
"""Exit status after Ctrl-C (128 + SIGINT)."""


def main(argv: list[str] | None = None) -> None:
    """Run the ``mediavault`` command with ``argv`` (default: ``sys.argv[1:]``) and exit with its status.

    Exit status: 0 done, 1 something failed (the message says what), 2 usage error, 130 interrupted (Ctrl-C).
    """
    try:
        sys.exit(_run(argv))
    except KeyboardInterrupt:
        print("\nInterrupted.", file=sys.stderr)
        sys.exit(INTERRUPTED)


def _run(argv: list[str] | None) -> int:
    try:
        import click
    except ImportError:
        print("the mediavault command needs click and rich: pip install 'mediavault-sdk[cli]'", file=sys.stderr)
        return 1

    from mediavault_cli._app import cli

    try:
        result = cli.main(args=argv, prog_name="mediavault", standalone_mode=False)
    except click.Abort as exc:
        # click raises Abort from a KeyboardInterrupt (or, at a prompt, in its handling) and has ended the line
        interrupted = isinstance(exc.__cause__ or exc.__context__, KeyboardInterrupt)
        print("Interrupted." if interrupted else "Aborted!", file=sys.stderr)
        return INTERRUPTED if interrupted else 1
    except click.ClickException as exc:
        exc.show()
        return exc.exit_code
    return result if isinstance(result, int) else 0
