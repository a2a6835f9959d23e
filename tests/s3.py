"""A real S3 API for tests and benchmarks: moto's standalone server on a free loopback port.

:func:`moto_server` starts ``python -m moto.server`` in its own process (so its request handling does not compete
with the code under test for one GIL), waits until it accepts connections and stops it on exit. The
:class:`MotoS3` it yields carries the endpoint and fake credentials, builds fsspec ``storage_options`` and
``AWS_*`` environment variables from them, and creates fresh buckets.

Buckets are created through boto3 without a ``CreateBucketConfiguration``: s3fs's ``mkdir`` sends a
``LocationConstraint`` with the region, which S3 (and moto) reject for ``us-east-1``.

The session-scoped pytest fixture ``moto_s3`` (``tests/conftest.py``) wraps :func:`moto_server`.
"""

from __future__ import annotations

import contextlib
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from typing import IO, Any

__all__ = ("MotoS3", "free_port", "moto_server")


def free_port(host: str = "127.0.0.1") -> int:
    """Return a TCP port on ``host`` that was free a moment ago (bind to port 0, read it, release it)."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((host, 0))
        return int(sock.getsockname()[1])


@dataclass(frozen=True)
class MotoS3:
    """A running S3-compatible endpoint and the fake credentials it accepts (moto accepts any)."""

    endpoint_url: str
    """``http://127.0.0.1:<port>``."""
    region: str = "us-east-1"
    key: str = "testing"
    secret: str = "testing"

    @property
    def storage_options(self) -> dict[str, Any]:
        """fsspec/s3fs options for this endpoint (the value of ``MediaVaultConfig.storage_options``)."""
        return {
            "endpoint_url": self.endpoint_url,
            "key": self.key,
            "secret": self.secret,
            "client_kwargs": {"region_name": self.region},
        }

    @property
    def storage_options_json(self) -> str:
        """:attr:`storage_options` as JSON (for ``MEDIAVAULT_STORAGE_OPTIONS``)."""
        return json.dumps(self.storage_options)

    def env(self) -> dict[str, str]:
        """The ``AWS_*`` environment variables that point botocore (and so s3fs) at this endpoint."""
        return {
            "AWS_ACCESS_KEY_ID": self.key,
            "AWS_SECRET_ACCESS_KEY": self.secret,
            "AWS_DEFAULT_REGION": self.region,
            "AWS_ENDPOINT_URL": self.endpoint_url,
        }

    def client(self) -> Any:
        """A boto3 S3 client for this endpoint (for set-up and for checking what is stored)."""
        import boto3

        return boto3.client(
            "s3",
            endpoint_url=self.endpoint_url,
            region_name=self.region,
            aws_access_key_id=self.key,
            aws_secret_access_key=self.secret,
        )

    def create_bucket(self, name: str | None = None) -> str:
        """Create a bucket (a fresh random name by default) and return its name."""
        name = name or f"vault-{uuid.uuid4().hex[:16]}"
        self.client().create_bucket(Bucket=name)
        return name

    def storage_url(self, prefix: str = "media") -> str:
        """Create a fresh bucket and return ``s3://<bucket>/<prefix>`` for ``MediaVaultConfig.storage_url``."""
        bucket = self.create_bucket()
        return f"s3://{bucket}/{prefix}" if prefix else f"s3://{bucket}"

    def keys(self, bucket: str) -> list[str]:
        """Every object key in ``bucket``."""
        pages = self.client().get_paginator("list_objects_v2").paginate(Bucket=bucket)
        return [obj["Key"] for page in pages for obj in page.get("Contents", [])]

    def multipart_uploads(self, bucket: str) -> list[dict[str, Any]]:
        """Multipart uploads started in ``bucket`` and neither completed nor aborted."""
        return list(self.client().list_multipart_uploads(Bucket=bucket).get("Uploads", []))


@contextlib.contextmanager
def moto_server(host: str = "127.0.0.1", port: int | None = None, timeout: float = 30.0) -> Iterator[MotoS3]:
    """Run moto's S3 server in a child process for the ``with`` block.

    Args:
        host: Loopback address to bind.
        port: TCP port; a free one when ``None``.
        timeout: Seconds to wait for the server to accept connections.

    Yields:
        The endpoint.

    Raises:
        RuntimeError: the server exited or did not accept connections within ``timeout`` (its output is quoted).
    """
    port = port or free_port(host)
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    # The server logs every request: to a file, never a pipe nobody drains (a full pipe would block it).
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "moto.server", "-H", host, "-p", str(port)],
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env=env,
        )
        try:
            _wait_until_listening(process, log, host, port, timeout)
            yield MotoS3(endpoint_url=f"http://{host}:{port}")
        finally:
            process.terminate()
            try:
                process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _wait_until_listening(
    process: subprocess.Popen[bytes], log: IO[bytes], host: str, port: int, timeout: float
) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            log.seek(0)
            output = log.read()[-4000:].decode(errors="replace")
            raise RuntimeError(f"moto server exited with {process.returncode}:\n{output}")
        with contextlib.suppress(OSError), socket.create_connection((host, port), timeout=1):
            return
        time.sleep(0.05)
    raise RuntimeError(f"moto server did not listen on {host}:{port} within {timeout} s")
