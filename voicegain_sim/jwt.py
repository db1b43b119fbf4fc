"""Voicegain-style JWT helper: build tokens and read their claims.

Real Voicegain JWTs carry ``accountId`` and ``contextId`` (the project). The
simulator signs with a fixed, public key: these tokens prove nothing and are
only for tests.
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import json
import time
import typing as t

_SIGNING_KEY = b"voicegain-simulator-not-a-secret"
_SEGMENTS = 3  # header.payload.signature


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(*, account_id: str, context_id: str, exp: int | None) -> str:
    """Build an HS256-looking JWT with Voicegain's claims; ``exp=None``: no expiry."""
    header = {"alg": "HS256", "typ": "JWT"}
    payload: dict[str, t.Any] = {
        "accountId": account_id,
        "contextId": context_id,
        "iat": int(time.time()),
    }
    if exp is not None:
        payload["exp"] = exp
    signing_input = ".".join(
        _b64url(json.dumps(part, separators=(",", ":")).encode("utf-8"))
        for part in (header, payload)
    )
    signature = hmac.new(
        _SIGNING_KEY, signing_input.encode("ascii"), hashlib.sha256
    ).digest()
    return f"{signing_input}.{_b64url(signature)}"


def read_claims(token: str) -> dict[str, t.Any] | None:
    """A JWT's payload, signature unchecked; ``None`` when it is not a JWT."""
    parts = token.split(".")
    if len(parts) != _SEGMENTS:
        return None
    try:
        claims = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def is_expired(token: str, now: float | None = None) -> bool:
    """Whether a JWT's ``exp`` has passed; non-JWT tokens never expire."""
    claims = read_claims(token)
    if claims is None:
        return False
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return False
    return exp <= (time.time() if now is None else now)
