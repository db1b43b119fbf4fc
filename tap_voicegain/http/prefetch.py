"""Prefetch: the next page's request in flight while this page is worked on.

Against the real API a 1,000-call page takes 150-400 ms to come, and decoding,
typing and writing it takes the tap about as long again. Keyset paging makes
each request depend on the page before (``afterCallId`` = its last callId), but
that callId sits at the end of the body: read from the body's tail before the
page is decoded, it lets the next request go out at once, in a background
thread, while this page is decoded and written. When the stream then issues
its next request, the prefetched answer is used if, and only if, the request
is byte for byte the one that was prefetched (method, URL, body); otherwise the
prefetch is dropped and the request is sent as usual.

What stays exactly as without prefetch:

- The prefetch goes through the stream's own request path (the retrying
  ``request_decorator``, ``validate_response``, pacing): a failure is retried
  in the thread, and its final error is raised in the main thread at the point
  where the stream asks for that page, as the request would have raised it.
- Records, bookmarks and STATE are the main thread's alone: a prefetched page
  is only bytes until the stream asks for it, so a STATE never covers it.
- The thread blocks every signal: SIGTERM/SIGINT (whose handler writes a
  STATE) and the handler's SIGALRM deadline are delivered to the main thread,
  waking it even while it waits for a prefetched page.

Prefetch only runs when the API is slow enough for it to pay (the previous
answer took at least :data:`PAYS_AFTER_S`): against a fast API the thread
costs more than it saves (it reads the body in 10 KiB chunks, each one a GIL
hand-off with the main thread).
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

# An answer that took at least this long (response.elapsed: until the headers
# came) makes the next one worth fetching ahead. Measured with `make benchmark
# BENCHMARK_ARGS="--latency-ms ..."` (README "Performance"): no gain below it.
PAYS_AFTER_S = 0.025
_JSON_CALL_ID = b'"callId"'
_JSON_VALUE = re.compile(rb'\s*:\s*"?\s*(\d{1,19})\s*[",}\s]')
_BOM = b"\xef\xbb\xbf"


def page_tail(body: bytes, fmt: str) -> tuple[int, int] | None:
    """How many calls a page seems to hold, and the last one's callId.

    A cheap look at the raw body before it is decoded: counts ``"callId"``
    keys (JSON) or lines (CSV), and reads the last callId. Only a guess (a
    quoted newline in a CSV cell counts as a row): the request built from it
    is used only if it equals the one the stream then makes.

    Args:
        body: The page's body as received.
        fmt: ``json`` or ``csv``.

    Returns:
        ``(count, last_call_id)``, or None when the tail does not show them.
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
    response: requests.Response,
    fmt: str,
    *,
    after: int,
    per_page: int,
    up_to: int | None = None,
) -> int | None:
    """``afterCallId`` of the next page, when prefetching it pays; else None.

    Args:
        response: This page's answer, not decoded yet.
        fmt: ``json`` or ``csv``.
        after: This page's ``afterCallId``.
        per_page: Calls per full page (a short page ends the pass).
        up_to: Where the pass ends: no next page after a call beyond it.
    """
    if response.elapsed.total_seconds() < PAYS_AFTER_S:
        return None
    tail = page_tail(response.content, fmt)
    if tail is None:
        return None
    count, last = tail
    if count < per_page or last <= after or (up_to is not None and last > up_to):
        return None
    return last


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
        """Prefetch through the stream's own request path.

        Args:
            send_once: One attempt of a request (the stream's ``_request``):
                returns the validated response or raises.
            retrying: The stream's ``request_decorator``: wraps one attempt
                into the retrying request the stream itself makes.
        """
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
        """The prefetched answer to ``request``, or None if it was not prefetched.

        Waits for the prefetch to finish. Raises what the prefetched request
        raised (after its retries), as sending ``request`` would have.
        """
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
        """Drop any pending prefetch when the block ends.

        When the process is being stopped (SIGTERM/SIGINT, ``sys.exit``) an
        attempt on the wire is not waited for.
        """
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
