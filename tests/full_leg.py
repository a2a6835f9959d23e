"""Run a command (an SDK's test run) with the full leg's engines ready for the ``mediavault serve`` it starts.

``python -m tests.full_leg COMMAND...`` (from the repository root, in the dev environment) gives one vault root the
full leg's state through :class:`tests.backends.TestBackends`: its own PostgreSQL schema and login role in a fresh
session database (``mvt_<pid>_<hex>``, never the pytest legs' own), its own Redis key prefix and its own prefix in a
bucket on a moto server started here. It runs ``COMMAND`` with ``MEDIAVAULT_SDK_TEST_SERVER_ENV`` set to those
``MEDIAVAULT_*`` settings as a JSON object (the SDK test harness passes them to every server it starts), then checks
that the run stored objects on that S3 prefix (else the servers never used it), prints what it found and removes
everything (database, roles, Redis keys, moto). The exit status is the command's, or 1 when nothing reached S3.

Used by ``sdks/js/ci.sh`` for its tus test on PostgreSQL + Redis + S3 (``docs/testing.md``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

from tests.backends import TestBackends


def main(argv: list[str]) -> int:
    """Run ``argv`` on the full leg's engines; return its exit status (1 when it stored nothing on S3)."""
    if not argv:
        print("usage: python -m tests.full_leg COMMAND...", file=sys.stderr)
        return 2
    backends = TestBackends({"MEDIAVAULT_TEST_BACKEND": "full"})
    try:
        with tempfile.TemporaryDirectory(prefix="mediavault-full-leg-") as folder:
            root = Path(folder)
            settings = backends.env(root)
            env = {**os.environ, "MEDIAVAULT_SDK_TEST_SERVER_ENV": json.dumps(settings)}
            print(f"full leg ({backends.leg}): database {backends.run}, storage {settings['MEDIAVAULT_STORAGE_URL']}")
            status = subprocess.run(argv, env=env, check=False).returncode
            bucket, prefix = settings["MEDIAVAULT_STORAGE_URL"].removeprefix("s3://").split("/", 1)
            stored = [key for key in backends.s3.keys(bucket) if key.startswith(f"{prefix}/")]
            print(f"full leg: {len(stored)} object(s) stored on S3 under {prefix}/")
            if status == 0 and not stored:
                print("FAILED: nothing reached S3: the servers did not run on the full leg's engines", file=sys.stderr)
                return 1
            return status
    finally:
        backends.close()


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
