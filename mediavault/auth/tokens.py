"""JSON Web Tokens for access and refresh (RFC 7519), verified per RFC 8725.

Access tokens carry ``sub`` (user id), ``jti``, ``iat``, ``exp``, ``iss``, ``aud``, ``type: "access"``
and ``fam`` (the token family, i.e. the login they belong to). Refresh tokens carry the same claims
with ``type: "refresh"``; their ``jti`` names a row of ``mediavault_refresh_token``. Verification pins
the one configured algorithm (RFC 8725 §3.1: never ``none``, never the token's own choice), requires
every claim, and checks issuer, audience and type (RFC 8725 §3.11 explicit typing).
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass
from typing import Literal

import jwt

from mediavault.errors import Unauthorized

__all__ = ("TokenClaims", "TokenService")

TokenType = Literal["access", "refresh"]
_REQUIRED = ["exp", "iat", "sub", "jti", "iss", "aud", "type", "fam"]


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
        self._algorithm = algorithm
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
        """Verify ``token`` and return its claims.

        Raises:
            Unauthorized: bad signature or algorithm, expired, wrong issuer/audience/type, or malformed.
        """
        try:
            claims = jwt.decode(
                token,
                self._secret,
                algorithms=[self._algorithm],
                audience=self._audience,
                issuer=self._issuer,
                options={"require": _REQUIRED},
            )
            if claims["type"] != expected:
                raise Unauthorized(f"Expected {'an' if expected == 'access' else 'a'} {expected} token")
            return TokenClaims(
                sub=uuid.UUID(claims["sub"]),
                jti=uuid.UUID(claims["jti"]),
                fam=uuid.UUID(claims["fam"]),
                iat=int(claims["iat"]),
                exp=int(claims["exp"]),
                type=expected,
            )
        except jwt.ExpiredSignatureError as exc:
            raise Unauthorized("Token has expired") from exc
        except (jwt.PyJWTError, ValueError, TypeError, KeyError) as exc:
            raise Unauthorized("Invalid token") from exc
