"""The tap's HTTP session: every request paced, bounded in time, kept on https."""

from __future__ import annotations

import time
import typing as t
from urllib.parse import urljoin, urlsplit

import requests
import urllib3.exceptions
from requests.utils import resolve_proxies
from typing_extensions import override

from tap_voicegain import errors, settings
from tap_voicegain.http.answers import quote_text
from tap_voicegain.settings import without_userinfo

if t.TYPE_CHECKING:
    from tap_voicegain.http.ratelimit import RateLimits

READ_CHUNK = 1 << 18  # bytes asked of the socket at a time while reading a body


class VoicegainSession(requests.Session):
    """A ``requests`` session with rate-limit pacing, a deadline and safe redirects.

    Every request of the tap goes through it (docs/design.md).
    """

    def __init__(
        self,
        limits: RateLimits,
        *,
        deadline: float,
        allow_http: bool = False,
        ca_bundle: str | None = None,
    ) -> None:
        """A session for one stream; ``limits`` is shared by the whole run."""
        super().__init__()
        self.limits = limits
        self.deadline = deadline
        self.allow_http = allow_http
        self.max_redirects = 5  # a redirect loop ends quickly, named
        self._proxies: dict[str, dict[str, str]] = {}
        if ca_bundle:
            self.verify = ca_bundle

    @override
    def send(
        self, request: requests.PreparedRequest, **kwargs: t.Any
    ) -> requests.Response:
        limiter = self.limits.for_authorization(request.headers.get("Authorization"))
        limiter.acquire()
        stream = bool(kwargs.pop("stream", False))
        if "proxies" not in kwargs:
            key = "/".join(str(request.url).split("/", 3)[:3])  # scheme and host
            if key not in self._proxies:
                proxies = dict(self.proxies)
                self._proxies[key] = resolve_proxies(request, proxies, self.trust_env)
            kwargs["proxies"] = self._proxies[key]
        started = time.monotonic()
        # The body is read here, by chunks, so the deadline can be checked.
        response = super().send(request, stream=True, **kwargs)
        limiter.observe(response)
        if not stream:
            read_body(response, started + self.deadline, self.deadline)
        return response

    @override
    def get_redirect_target(self, resp: requests.Response) -> str | None:
        target = super().get_redirect_target(resp)
        if target is None:
            return None
        url = urljoin(resp.url, target)
        parts = urlsplit(url)
        if parts.scheme == "https" or (
            parts.scheme == "http"
            and (self.allow_http or settings.is_loopback(parts.hostname or ""))
        ):
            return target
        resp.close()
        msg = (
            f"The API at {without_userinfo(resp.url)} redirected (HTTP "
            f"{resp.status_code}) to {quote_text(without_userinfo(url), 200)}, "
            "which is not https; refused so the token and the call data never "
            "travel unencrypted. Set api_url to the address the API is served "
            "from, or allow_http: true for an Edge install on a private network."
        )
        raise errors.InsecureRedirectError(msg)


def read_body(response: requests.Response, deadline: float, allowed: float) -> None:
    """Read the whole body before ``deadline`` (monotonic), as ``content`` does.

    Raises:
        RequestDeadlineError: still arriving at the deadline (retried as a Timeout).
    """
    chunks: list[bytes] = []
    raw = response.raw
    try:
        while True:
            if time.monotonic() > deadline:
                response.close()
                msg = (
                    f"the answer was still arriving after {allowed:g} s "
                    f"({settings.DEADLINE_PER_TIMEOUT} x request_timeout); "
                    f"{sum(map(len, chunks))} bytes received"
                )
                raise errors.RequestDeadlineError(msg, request=response.request)
            # read1: whatever has arrived, so a slow trickle still comes back here.
            chunk = raw.read1(READ_CHUNK, decode_content=True)
            if not chunk:
                break
            chunks.append(chunk)
    except urllib3.exceptions.ProtocolError as exc:
        raise requests.exceptions.ChunkedEncodingError(exc) from exc
    except urllib3.exceptions.DecodeError as exc:
        raise requests.exceptions.ContentDecodingError(exc) from exc
    except urllib3.exceptions.ReadTimeoutError as exc:
        raise requests.exceptions.ReadTimeout(exc) from exc
    except urllib3.exceptions.SSLError as exc:
        raise requests.exceptions.SSLError(exc) from exc
    response._content = b"".join(chunks)  # noqa: SLF001 - what ``content`` caches
    response._content_consumed = True  # type: ignore[attr-defined]  # noqa: SLF001
