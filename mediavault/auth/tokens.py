"""JSON Web Tokens for access and refresh (RFC 7519), verified per RFC 8725.

Access tokens carry ``sub`` (user id), ``jti``, ``iat``, ``exp``, ``iss``, ``aud``, ``type: "access"``
and ``fam`` (the token family, i.e. the login they belong to). Refresh tokens carry the same claims
with ``type: "refresh"``; their ``jti`` names a row of ``mediavault_refresh_token``. Verification pins
the one configured algorithm (RFC 8725 §3.1: never ``none``, never the token's own choice), requires
every claim, and checks issuer, audience and type (RFC 8725 §3.11 explicit typing).
"""

from __future__ import annotations

import base64
import hmac
import re
import time
import uuid
from dataclasses import dataclass
from typing import Any, Literal

import jwt
import msgspec

from mediavault.errors import Unauthorized

__all__ = ("TokenClaims", "TokenService")

TokenType = Literal["access", "refresh"]


@dataclass(frozen=True)
class TokenClaims:
    """The verified claims of a token."""

    sub: uuid.UUID
    jti: uuid.UUID
    fam: uuid.UUID
    iat: int
    exp: int
    type: TokenType


class TokenService:
    """Issue and verify access/refresh JWTs.

    Args:
        secret: HMAC key (>= 32 characters).
        algorithm: ``HS256``, ``HS384`` or ``HS512``.
        issuer: ``iss`` written and required.
        audience: ``aud`` written and required.
        access_ttl: access token lifetime, seconds.
        refresh_ttl: refresh token lifetime, seconds.
    """

    def __init__(
        self, *, secret: str, algorithm: str, issuer: str, audience: str, access_ttl: int, refresh_ttl: int
    ) -> None:
        self._secret = secret
        self._key = secret.encode()
        self._algorithm = algorithm
        self._digest = _DIGESTS[algorithm]
        self._issuer = issuer
        self._audience = audience
        self.ttl: dict[TokenType, int] = {"access": access_ttl, "refresh": refresh_ttl}

    def issue(self, token_type: TokenType, *, user_id: uuid.UUID, family_id: uuid.UUID, jti: uuid.UUID) -> str:
        """Sign a new token of ``token_type``; it expires ``ttl[token_type]`` seconds from now."""
        now = int(time.time())
        claims = {
            "sub": str(user_id),
            "jti": str(jti),
            "fam": str(family_id),
            "iat": now,
            "exp": now + self.ttl[token_type],
            "iss": self._issuer,
            "aud": self._audience,
            "type": token_type,
        }
        return jwt.encode(claims, self._secret, algorithm=self._algorithm, headers={"typ": "JWT"})

    def verify(self, token: str, expected: TokenType) -> TokenClaims:
        """Verify ``token`` (a JWS compact serialisation, RFC 7515 §7.1) and return its claims.

        Checked, in order: three base64url segments of the URL-safe alphabet only (RFC 7515 §2, no padding, no
        other character: a lenient decoder that skips them makes tokens malleable); a JSON header whose ``alg`` is
        the configured one (RFC 8725 §3.1: never ``none``, never the token's own choice) and with no ``crit``; the
        HMAC over ``header.payload``, compared in constant time; claims that are a JSON object holding every
        required claim with its type (``sub``/``jti``/``fam`` UUIDs, ``iat``/``exp`` integers); ``exp`` in the
        future, ``iat`` not (RFC 7519 §4.1.4, §4.1.6); ``iss``, ``aud`` and ``type`` equal to the expected ones
        (RFC 8725 §3.11 explicit typing).

        Tokens are issued with PyJWT (:meth:`issue`); verifying is done here because it runs on every request and
        PyJWT's ``decode`` measured ~340,000 CPU instructions per token (most in a per-character alphabet check
        written as a Python generator), this ~40,000 (``benchmarks/instructions.py``).

        Raises:
            Unauthorized: bad signature or algorithm, expired, wrong issuer/audience/type, or malformed.
        """
        try:
            header_b64, payload_b64, signature_b64 = token.split(".")
            if not (_B64URL.match(header_b64) and _B64URL.match(payload_b64) and _B64URL.match(signature_b64)):
                raise ValueError("not base64url")
            header = _HEADER.decode(_b64decode(header_b64))
            if header.alg != self._algorithm or header.crit is not None:
                raise ValueError("algorithm")
            signed = token[: len(header_b64) + 1 + len(payload_b64)].encode("ascii")
            expected_mac = hmac.digest(self._key, signed, self._digest)  # one-shot, in C
            if not hmac.compare_digest(expected_mac, _b64decode(signature_b64)):
                raise ValueError("signature")
            claims = _CLAIMS.decode(_b64decode(payload_b64))
        except (ValueError, UnicodeError, msgspec.DecodeError):  # msgspec.ValidationError is a DecodeError
            raise Unauthorized("Invalid token") from None
        now = time.time()
        if claims.exp <= now:
            raise Unauthorized("Token has expired")
        if claims.iat > now or claims.iss != self._issuer or claims.aud != self._audience:
            raise Unauthorized("Invalid token")
        if claims.type != expected:
            raise Unauthorized(f"Expected {'an' if expected == 'access' else 'a'} {expected} token")
        return TokenClaims(
            sub=claims.sub, jti=claims.jti, fam=claims.fam, iat=claims.iat, exp=claims.exp, type=expected
        )


_B64URL = re.compile(r"[A-Za-z0-9_-]*\Z")
"""A base64url segment: the URL-safe alphabet only, no padding (RFC 7515 §2)."""
_DIGESTS = {"HS256": "sha256", "HS384": "sha384", "HS512": "sha512"}


def _b64decode(segment: str) -> bytes:
    if len(segment) % 4 == 1:
        raise ValueError("base64url length")
    return base64.urlsafe_b64decode(segment + "=" * (-len(segment) % 4))


class _Header(msgspec.Struct):
    alg: str
    crit: Any = None


class _Claims(msgspec.Struct):
    sub: uuid.UUID
    jti: uuid.UUID
    fam: uuid.UUID
    iat: int
    exp: int
    iss: str
    aud: str
    type: str


_HEADER = msgspec.json.Decoder(_Header)
_CLAIMS = msgspec.json.Decoder(_Claims)
