"""Retries: which failures are worth another attempt, and how long to wait.

Every wait is capped by ``retry_wait_max``, a ``Retry-After`` included.
"""

from __future__ import annotations

import random
import typing as t

import requests
from singer_sdk.exceptions import RetriableAPIError

from tap_voicegain import errors
from tap_voicegain.http.answers import describe_failure, retry_after_seconds

if t.TYPE_CHECKING:
    from collections.abc import Generator

# Failures worth another attempt: 408, 429 and 5xx answers (validate_response
# raises RetriableAPIError), answers that are not the export, the network's.
TRANSIENT = (
    ConnectionResetError,
    RetriableAPIError,
    errors.NotTheExportError,
    requests.exceptions.Timeout,
    requests.exceptions.ConnectionError,
    requests.exceptions.ChunkedEncodingError,
    requests.exceptions.ContentDecodingError,
)


def certificate_failure(exc: BaseException) -> bool:
    """A certificate that is not trusted: no retry can change that."""
    return isinstance(exc, requests.exceptions.SSLError) and (
        "CERTIFICATE_VERIFY_FAILED" in str(exc) or "certificate verify" in str(exc)
    )


def waits(base: float, cap: float) -> Generator[float, t.Any, None]:
    """Wait what ``Retry-After`` asks, else base, 2 x base, ...; both capped."""
    exc = yield 0.0
    attempt = 0
    while True:
        asked = retry_after_seconds(getattr(exc, "response", None))
        if asked is None:
            # "Equal jitter": half fixed, half random, so clients spread out.
            wait = base * 2 ** min(attempt, 30) * (0.5 + random.random() / 2)  # noqa: S311
        else:
            wait = asked
        attempt += 1
        exc = yield min(wait, cap)


def gave_up(attempts: int, exc: BaseException) -> errors.RetriesExhaustedError:
    """The error of a request whose every attempt failed, naming the request."""
    tries = "1 attempt, no retry" if attempts == 1 else f"{attempts} attempts"
    if attempts > 1:
        tries += f" (1 + {attempts - 1} retries)"
    msg = f"Gave up after {tries}; last failure: {describe_failure(exc)}"
    return errors.RetriesExhaustedError(msg)
