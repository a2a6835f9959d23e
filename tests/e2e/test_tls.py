"""``mediavault serve --ssl-certfile/--ssl-keyfile``: https with a certificate made here (self-signed, for
127.0.0.1), one process and ``--workers 2``; HSTS on what is served over https, none over plain http."""

from __future__ import annotations

import datetime as dt
import ipaddress
import ssl
from pathlib import Path

import httpx
import pytest
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.x509.oid import NameOID

from tests.backends import BACKENDS
from tests.e2e.conftest import PREFIX, ServerFactory, register_and_login


@pytest.fixture(scope="module")
def certificate(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """A self-signed certificate for ``127.0.0.1`` and its key (PEM files)."""
    folder = tmp_path_factory.mktemp("tls")
    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "127.0.0.1")])
    now = dt.datetime.now(dt.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=1))
        .add_extension(x509.SubjectAlternativeName([x509.IPAddress(ipaddress.ip_address("127.0.0.1"))]), False)
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    return cert_path, key_path


@pytest.mark.parametrize("workers", [1, 2])
def test_serve_https_with_hsts(
    vault_servers: ServerFactory, tmp_path: Path, certificate: tuple[Path, Path], workers: int
) -> None:
    cert, key = certificate
    data_dir = tmp_path / f"tls-{workers}"
    env = BACKENDS.redis_env(data_dir) if workers > 1 else {}  # several workers need Redis (serve refuses otherwise)
    args = ("--ssl-certfile", str(cert), "--ssl-keyfile", str(key))
    trust = ssl.create_default_context(cafile=str(cert))
    server = vault_servers.start(data_dir, env=env, workers=workers, args=args, verify=trust)
    assert server.base_url.startswith("https://")
    with server.client() as client:
        health = client.get("/health")
        assert health.status_code == 200
        assert health.headers["strict-transport-security"] == "max-age=31536000"
        auth = register_and_login(client, "tls@example.com")
        uploaded = client.post("/media/upload", headers=auth, files={"file": ("a.txt", b"over tls")})
        assert uploaded.status_code == 201, uploaded.text
        assert uploaded.headers["strict-transport-security"] == "max-age=31536000"
        content = client.get(f"/media/{uploaded.json()['data']['id']}/content", headers=auth)
        assert content.content == b"over tls"
    with pytest.raises(httpx.ConnectError):  # the certificate is checked: an unknown CA is refused
        httpx.get(f"{server.base_url}{PREFIX}/health", timeout=10)
    with pytest.raises(httpx.RemoteProtocolError):  # no plain http on the https port
        httpx.get(f"http://127.0.0.1:{server.port}{PREFIX}/health", timeout=10)


def test_plain_http_sends_no_hsts(vault_servers: ServerFactory, tmp_path: Path) -> None:
    server = vault_servers.start(tmp_path / "plain")
    with server.client() as client:
        health = client.get("/health")
    assert health.status_code == 200
    assert "strict-transport-security" not in health.headers
