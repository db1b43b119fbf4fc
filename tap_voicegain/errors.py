"""Errors a user can act on: what failed, the API's own words, never the token."""

from __future__ import annotations

import datetime as dt
import email.utils
import json
from urllib.parse import parse_qsl, urlsplit

import requests
from singer_sdk.exceptions import FatalAPIError

from tap_voicegain.redact import redact

TEXT_SHOWN_MAX = 300  # characters of a response body quoted in a message


class TokenRejectedError(FatalAPIError):
    """The API refused the token (401/403): retrying cannot help."""


class RetriesExhaustedError(FatalAPIError):
    """A transient failure outlasted every retry."""


class BadPageError(FatalAPIError):
    """A 200 answer whose body is not the export that was asked for."""


class ProjectsFailedError(Exception):
    """Some projects could not be exported; the others were, state included."""


class InsecureRedirectError(FatalAPIError):
    """The API redirected to a URL the token must not travel to (plain http)."""


class CertificateError(FatalAPIError):
    """The API's TLS certificate is not trusted: retrying cannot help."""


class RequestDeadlineError(requests.exceptions.ReadTimeout):
    """An answer still arriving when its request's total time ran out."""


def quote_text(text: str, limit: int = TEXT_SHOWN_MAX) -> str:
    r"""Text sent by a server, safe in one log line: escaped, capped, redacted.

    New lines would forge log lines and escape sequences reach the terminal,
    so every non-printable character is shown as its Python escape (``\n``,
    ``\x1b``). Secrets are masked before the text is cut, so a cut never
    leaves part of one.
    """
    text = redact(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def api_message(response: requests.Response) -> str:
    """The API's own message from an error body (JSON ``message``) or its text."""
    text = response.text.strip()
    try:
        body = json.loads(text)
    except ValueError:
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return quote_text(str(body[key]))
    return quote_text(text) or "(empty body)"


def request_summary(url: str | None) -> str:
    """``/path?params`` of a request; the token never travels in the URL."""
    parts = urlsplit(url or "")
    params = ", ".join(f"{k}={v}" for k, v in parse_qsl(parts.query))
    return f"GET {parts.path} with {params or 'no parameters'}"


def request_id(response: requests.Response) -> str:
    """`` (request id X)`` when the API sent one."""
    for header in ("X-Request-Id", "X-Amzn-Requestid", "X-Correlation-Id"):
        if value := response.headers.get(header):
            return f" (request id {quote_text(value, 100)})"
    return ""


def describe_response(response: requests.Response) -> str:
    """One line for an error answer: status, reason, the API's message."""
    return (
        f"HTTP {response.status_code} {quote_text(str(response.reason), 100)}: "
        f"{api_message(response)}"
        f"{request_id(response)}"
    )


def describe_failure(exc: BaseException) -> str:
    """One line for a failed attempt: the error answer, or the network error."""
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return describe_response(response)
    return f"{type(exc).__name__}: {redact(str(exc))}"


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if response is None:
        return None
    value = response.headers.get("Retry-After")
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
