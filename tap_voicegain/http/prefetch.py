"""Prefetch: the next page's request in flight while this page is worked on.

The next ``afterCallId`` is read from the body's tail before the page is
decoded; the prefetched answer is used only for the byte-identical request,
through the stream's own request path (docs/design.md).
"""

from __future__ import annotations

import contextlib
import csv
import re
import signal
import threading
import typing as t

from singer_sdk.streams.rest import PageContext

from tap_voicegain.errors import PrefetchCancelledError

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator

    import requests
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams import RESTStream

    Send = Callable[[requests.PreparedRequest, Context | None], requests.Response]

# An answer that took at least this long (until the headers came) makes the next
# one worth fetching ahead; no gain below it (README "Performance").
PAYS_AFTER_S = 0.025
_JSON_CALL_ID = b'"callId"'
_JSON_VALUE = re.compile(rb'\s*:\s*"?\s*(\d{1,19})\s*[",}\s]')
_BOM = b"\xef\xbb\xbf"


def page_tail(body: bytes, fmt: str) -> tuple[int, int] | None:
    """``(calls, last callId)`` a page seems to hold, from its raw body; or None.

    Only a guess: the request built from it is used only if the stream makes it.
    """
    if fmt == "csv":
        return _csv_tail(body)
    at = body.rfind(_JSON_CALL_ID)
    if at < 0:
        return None
    found = _JSON_VALUE.match(body, at + len(_JSON_CALL_ID))
    if found is None:
        return None
    return body.count(_JSON_CALL_ID), int(found.group(1))


def next_after(
    response: requests.Response, fmt: str, *, after: int, per_page: int
) -> int | None:
    """``afterCallId`` of the next page (of ``per_page`` calls) if prefetching pays."""
    if response.elapsed.total_seconds() < PAYS_AFTER_S:
        return None
    tail = page_tail(response.content, fmt)
    if tail is None:
        return None
    count, last = tail
    return None if count < per_page or last <= after else last


def next_request(
    stream: RESTStream[t.Any], context: Context | None, after: int
) -> requests.PreparedRequest:
    """The request the SDK's ``request_records`` builds for page token ``after``."""
    http = stream.get_http_request(
        page=PageContext(stream_context=context, next_page_token=after)
    )
    return stream.build_prepared_request(
        method=http.method,
        url=http.url,
        params=http.encode_params(),
        headers=http.headers,
        data=http.data,
    )


def _csv_tail(body: bytes) -> tuple[int, int] | None:
    # Cells may hold line breaks (notes), so rows are found by how they start:
    # the cells before callId (accountId, contextId) are those of the first
    # row in every row of a project's page.
    start = len(_BOM) if body.startswith(_BOM) else 0
    header_end = body.find(b"\n", start)
    if header_end < 0:
        return None
    try:
        header = next(csv.reader([body[start:header_end].decode().rstrip("\r")]))
        column = header.index("callId")
    except (UnicodeDecodeError, ValueError, StopIteration, csv.Error):
        return None
    cut = header_end + 1
    for _ in range(column):
        cut = body.find(b",", cut) + 1
        if not cut:
            return None
    row_start = b"\n" + body[header_end + 1 : cut]
    last = body.rfind(row_start)
    if last < header_end:
        return None
    value_start = last + len(row_start)
    value_end = len(body)
    for stop in (b",", b"\n"):
        found = body.find(stop, value_start)
        if 0 <= found < value_end:
            value_end = found
    value = body[value_start:value_end].strip(b'"\r ')
    if not (value.isascii() and value.isdigit()):
        return None
    return body.count(row_start, header_end), int(value)


class Prefetch:
    """At most one request in flight ahead of the stream, in a daemon thread."""

    def __init__(self, send_once: Send, retrying: Callable[[Send], Send]) -> None:
        """Prefetch with one attempt (``send_once``) wrapped in the stream's retries."""
        self._send_once = send_once
        self._retrying = retrying
        self._lock = threading.Lock()  # held while an attempt is on the wire
        self._pending: _Pending | None = None
        self.used = 0  # prefetched answers the stream took
        self.dropped = 0  # prefetched answers it did not ask for

    def start(self, request: requests.PreparedRequest, context: Context | None) -> None:
        """Send ``request`` in the background (after dropping any pending one)."""
        self.close()
        pending = _Pending(request)
        self._pending = pending
        thread = threading.Thread(
            target=self._run,
            args=(pending, context),
            name="tap-voicegain-prefetch",
            daemon=True,  # a run that ends (or is stopped) never waits for it
        )
        thread.start()

    def _run(self, pending: _Pending, context: Context | None) -> None:
        if hasattr(signal, "pthread_sigmask"):  # not on Windows
            # Every signal goes to the main thread, whose waits it interrupts.
            signal.pthread_sigmask(signal.SIG_BLOCK, signal.valid_signals())

        def attempt(
            request: requests.PreparedRequest, context: Context | None
        ) -> requests.Response:
            # The lock lets close() wait for an attempt on the wire (never for
            # a backoff sleep) before the stream moves on, e.g. to another
            # project's credentials; a dropped prefetch sends nothing more.
            with self._lock:
                if pending.cancelled:
                    raise PrefetchCancelledError
                return self._send_once(request, context)

        try:
            pending.response = self._retrying(attempt)(pending.request, context)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            pending.error = exc
        finally:
            pending.done.set()

    def take(self, request: requests.PreparedRequest) -> requests.Response | None:
        """The prefetched answer to ``request`` (or its error); None if not sent."""
        pending = self._pending
        if pending is None:
            return None
        if not pending.same(request):
            self.close()
            return None
        self._pending = None
        pending.done.wait()
        self.used += 1
        if pending.error is not None:
            raise pending.error
        return pending.response

    def close(self, *, wait: bool = True) -> None:
        """Drop the pending prefetch; with ``wait``, let an attempt on the wire end."""
        pending, self._pending = self._pending, None
        if pending is None:
            return
        self.dropped += 1
        if wait:
            with self._lock:
                pending.cancelled = True
        else:
            pending.cancelled = True

    @contextlib.contextmanager
    def closing(self) -> Iterator[None]:
        """Drop any pending prefetch when the block ends (without waiting, on exit)."""
        try:
            yield
        except (SystemExit, KeyboardInterrupt):
            self.close(wait=False)
            raise
        finally:
            self.close()


class _Pending:
    """One prefetched request and, once done, its answer or error."""

    def __init__(self, request: requests.PreparedRequest) -> None:
        self.request = request
        self.response: requests.Response | None = None
        self.error: BaseException | None = None
        self.done = threading.Event()
        self.cancelled = False

    def same(self, request: requests.PreparedRequest) -> bool:
        """Whether ``request`` is the one prefetched (method, URL, body)."""
        mine = self.request
        return (mine.method, mine.url, mine.body) == (
            request.method,
            request.url,
            request.body,
        )
