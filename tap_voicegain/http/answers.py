"""What the API answered, in words a user can act on: never a token, never data.

Server text is escaped, capped and redacted; answers about one call are
described by status and shape only (their bodies may hold what callers said).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import json
import math
import typing as t
from urllib.parse import parse_qsl, urlsplit

from singer_sdk.exceptions import RetriableAPIError

from tap_voicegain.errors import NotTheExportError
from tap_voicegain.http.redact import redact

if t.TYPE_CHECKING:
    import requests

TEXT_SHOWN_MAX = 300  # characters of a response body quoted in a message


def quote_text(text: str, limit: int = TEXT_SHOWN_MAX) -> str:
    r"""Text sent by a server, safe in one log line: redacted, capped, escaped.

    Non-printable characters show as escapes (``\n``): no forged log lines.
    """
    text = redact(text)
    if len(text) > limit:
        text = text[:limit] + "..."
    return "".join(ch if ch.isprintable() else repr(ch)[1:-1] for ch in text)


def api_message(response: requests.Response) -> str:
    """The API's own message from an error body (JSON ``message``) or its text."""
    text = response.content[:10_000].decode("utf-8", "replace").strip()
    try:
        body = json.loads(text)
    except (ValueError, RecursionError):
        body = None
    if isinstance(body, dict):
        for key in ("message", "error", "detail"):
            if isinstance(body.get(key), str):
                return quote_text(str(body[key]))
    return quote_text(text) or "(empty body)"


def request_summary(url: str | None) -> str:
    """``GET /path with params``; the token never travels in the URL."""
    parts = urlsplit(url or "")
    params = ", ".join(f"{k}={v}" for k, v in parse_qsl(parts.query))
    return f"GET {parts.path} with {params or 'no parameters'}"


def request_id(response: requests.Response) -> str:
    """`` (request id X)`` when the API sent one."""
    for header in ("X-Request-Id", "X-Amzn-Requestid", "X-Correlation-Id"):
        if value := response.headers.get(header):
            return f" (request id {quote_text(value, 100)})"
    return ""


def content_type(response: requests.Response) -> str:
    """The answer's Content-Type, for messages."""
    return quote_text(response.headers.get("Content-Type") or "no Content-Type", 80)


def describe_response(response: requests.Response, *, quote_body: bool = True) -> str:
    """One line for an error answer: status, reason, the API's message, request."""
    said = f": {api_message(response)}" if quote_body else ""
    request = getattr(response, "request", None)
    return (
        f"HTTP {response.status_code} {quote_text(str(response.reason), 100)}{said}"
        f"{request_id(response)}; request: "
        f"{request_summary(getattr(request, 'url', None))}"
    )


def describe_failure(exc: BaseException) -> str:
    """One line for a failed attempt: the error answer, or the network error."""
    if isinstance(exc, (NotTheExportError, RetriableAPIError)):
        return str(exc)  # composed already, with the body or without it
    response = getattr(exc, "response", None)
    if response is not None and getattr(response, "status_code", None):
        return describe_response(response)
    return f"{type(exc).__name__}: {quote_text(str(exc))}"


def not_the_export(response: requests.Response, fmt: str) -> str | None:
    """Why a 200 is not a page of the export (a maintenance page...), or None."""
    head = response.content[:64].lstrip(b"\xef\xbb\xbf \t\r\n")
    kind = (response.headers.get("Content-Type") or "").lower()
    if "html" in kind or head[:1] == b"<":
        what = "an HTML page"
    elif head[:1] == b"{":
        what = f"a JSON object ({api_message(response)})"
    else:
        return None
    return (
        f"HTTP {response.status_code} with {what}, Content-Type "
        f"{content_type(response)}, instead of {fmt.upper()}"
    )


def retry_after_seconds(response: requests.Response | None) -> float | None:
    """Seconds asked for by a ``Retry-After`` header (delta-seconds or HTTP date)."""
    if response is None:
        return None
    value = (response.headers.get("Retry-After") or "").strip()
    if not value:
        return None
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.timezone.utc)
    return max(0.0, (when - dt.datetime.now(dt.timezone.utc)).total_seconds())
