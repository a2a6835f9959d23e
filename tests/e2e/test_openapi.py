"""The OpenAPI document (``/api/v1/schema/openapi.json``) is valid and true, checked against a real server.

* ``openapi-spec-validator`` validates the document (OpenAPI 3.1).
* Schemathesis (``st run``, every check it has: status codes, content types, headers and bodies against the
  document, negative data rejected, schema-valid data accepted, ``Allow`` of 405 and ``OPTIONS``, auth ignored...)
  runs all its phases (examples, coverage, fuzzing, stateful) over every operation of a real ``mediavault serve``,
  authenticated with a Bearer token (``schemathesis_hooks.py``), and must report zero failures. The examples per
  operation are bounded and the seed fixed, so the run is the same every time and takes about a minute here.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from openapi_spec_validator import validate

from mediavault.http.openapi import OPERATIONS
from tests.e2e.conftest import PASSWORD, PREFIX, ServerFactory, VaultServer, register_and_login

HOOKS = Path(__file__).with_name("schemathesis_hooks.py")
EMAIL = "schemathesis@example.com"
MAX_EXAMPLES = 10
SEED = 20261206
RUN_TIMEOUT = 600.0  # a hang only: the run itself takes about a minute on a quiet 2-core machine


@pytest.fixture(scope="module")
def server(module_servers: ServerFactory) -> Iterator[VaultServer]:
    """A vault whose budgets do not run out during the run (429s are documented; they would only hide the rest),
    taking webhook targets on any address (the generated URLs cannot resolve on a machine without DNS)."""
    big = "1000000"
    server = module_servers.start(
        env={
            "MEDIAVAULT_RATE_LIMIT_ANONYMOUS": big,
            "MEDIAVAULT_RATE_LIMIT_AUTHENTICATED": big,
            "MEDIAVAULT_RATE_LIMIT_API_KEY": big,
            "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ADDRESS": big,
            "MEDIAVAULT_RATE_LIMIT_LOGIN_PER_ACCOUNT": big,
            "MEDIAVAULT_ALLOW_PRIVATE_WEBHOOK_TARGETS": "true",
        }
    )
    with server.client() as client:
        register_and_login(client, EMAIL)
    yield server


def test_the_document_is_valid_openapi(server: VaultServer) -> None:
    document = httpx.get(f"{server.base_url}{PREFIX}/schema/openapi.json").json()
    validate(document)
    assert document["openapi"].startswith("3.1")
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearerAuth"] == {**schemes["bearerAuth"], "type": "http", "scheme": "bearer"}
    assert schemes["apiKeyAuth"] == {**schemes["apiKeyAuth"], "type": "apiKey", "in": "header", "name": "X-API-Key"}


def test_schemathesis_finds_no_failure(server: VaultServer, tmp_path: Path) -> None:
    env = {
        **os.environ,
        "PYTHONPATH": os.pathsep.join([str(HOOKS.parent), os.environ.get("PYTHONPATH", "")]),
        "SCHEMATHESIS_HOOKS": HOOKS.stem,
        "MEDIAVAULT_TEST_API": f"{server.base_url}{PREFIX}",
        "MEDIAVAULT_TEST_EMAIL": EMAIL,
        "MEDIAVAULT_TEST_PASSWORD": PASSWORD,
    }
    command = [
        sys.executable,
        "-m",
        "schemathesis.cli",
        "--config-file",
        str(HOOKS.with_name("schemathesis.toml")),
        "run",
        f"{server.base_url}{PREFIX}/schema/openapi.json",
        "--checks",
        "all",
        "--max-examples",
        str(MAX_EXAMPLES),
        "--seed",
        str(SEED),
        "--workers",
        "1",
        # schemathesis gives up on a request after 10 s by default and reports it (ST112): a loaded CI machine once
        # took 10.003 s to create a resumable upload; a slow answer is not what this test is about
        "--request-timeout",
        "120",
        "--generation-with-security-parameters",
        "false",
        "--generation-database",
        "none",
        "--report-dir",
        str(tmp_path / "report"),
        "--no-color",
    ]
    run = subprocess.run(command, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=RUN_TIMEOUT)
    output = run.stdout + run.stderr
    (tmp_path / "schemathesis.txt").write_text(output)
    print(output[-3000:])  # the run's summary, shown with -s or on failure
    assert run.returncode == 0, output[-20000:]
    counts = re.search(r"(\d+) generated, (\d+) passed", output)
    assert f"Tested: {len(OPERATIONS)}" in output, output[-5000:]  # every operation of the document
    assert counts and counts[1] == counts[2] and int(counts[1]) > 1000, output[-5000:]
