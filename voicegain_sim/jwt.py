# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
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
from typing import Any, Final

_SIGNING_KEY: Final[bytes] = b"voicegain-simulator-not-a-secret"
_SEGMENTS: Final[int] = 3


def _b64url(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _b64url_decode(text: str) -> bytes:
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def make_jwt(*, account_id: str, context_id: str, exp: int | None) -> str:
    """Build an HS256-looking JWT carrying Voicegain's claims.

    Args:
        account_id: ``accountId`` claim.
        context_id: ``contextId`` claim (project id).
        exp: Expiry as Unix seconds; ``None`` leaves the claim out (no expiry).

    Returns:
        The token text ``header.payload.signature``.
    """
    header = {"alg": "HS256", "typ": "JWT"}
    payload: dict[str, Any] = {
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


def read_claims(token: str) -> dict[str, Any] | None:
    """Decode a JWT's payload without checking its signature.

    Args:
        token: Any bearer token.

    Returns:
        The payload claims, or ``None`` when the token is not a JWT.
    """
    parts = token.split(".")
    if len(parts) != _SEGMENTS:
        return None
    try:
        claims = json.loads(_b64url_decode(parts[1]))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        return None
    return claims if isinstance(claims, dict) else None


def is_expired(token: str, now: float | None = None) -> bool:
    """Tell whether a JWT's ``exp`` claim has passed.

    Args:
        token: Any bearer token; non-JWT tokens never expire.
        now: Current Unix time (default: the clock).

    Returns:
        ``True`` when the token is a JWT whose ``exp`` is not in the future.
    """
    claims = read_claims(token)
    if claims is None:
        return False
    exp = claims.get("exp")
    if not isinstance(exp, int | float) or isinstance(exp, bool):
        return False
    return exp <= (time.time() if now is None else now)
