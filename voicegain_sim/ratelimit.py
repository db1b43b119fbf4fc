"""The API's request limits: fixed rate windows and requests in flight.

Rate limits (``rate_limits=((75, 60), (2000, 3600))``): every API request
counts in every window, whatever its answer, except those refused with 429.
Windows are fixed and start together when the first request arrives; window
``k`` of length ``s`` spans ``[origin + k*s, origin + (k+1)*s)``. Answers carry

* ``RateLimit-Limit: 75, 75;window=60, 2000;window=3600`` - the windows in
  ascending length, after the limit of the binding window;
* ``RateLimit-Remaining`` - what is left in the binding window;
* ``RateLimit-Reset`` - whole seconds until the binding window resets, rounded
  up, at least 1;

where the binding window is the one closest to exhaustion (least remaining;
on a tie, the one that resets last). A request with nothing left in some
window gets 429 with ``Retry-After`` = the longest ``RateLimit-Reset`` of the
exhausted windows. Fractional windows (``(4, 0.5)``) are accepted for fast
tests; ``window=0.5`` is then shown as is, and Reset stays whole seconds, so a
client that waits Reset waits at least until the window has reset.

Concurrency limit (``max_in_flight=N``): a request arriving while ``N``
others are being answered gets 429 with ``X-ResourceLimit-Type: concurrency``,
``X-ResourceLimit-Limit: N`` and ``Retry-After`` 1, 2, 4, ... (capped at 60)
for each refusal since the last admitted request.
"""

from __future__ import annotations

import math
import threading
import time
import typing as t
from dataclasses import dataclass

from voicegain_sim.faults import concurrency_response
from voicegain_sim.responses import Response, error_response

if t.TYPE_CHECKING:
    from collections.abc import Callable, Sequence

CONCURRENCY_RETRY_MAX = 60  # seconds; "approximate, grows when hit again"


@dataclass
class _Window:
    limit: int
    seconds: float
    number: int = 0  # which window of this length the count belongs to
    used: int = 0


@dataclass(frozen=True)
class Admission:
    """The limiters' verdict: ``refusal`` is the 429 to send, if any."""

    headers: dict[str, str]
    refusal: Response | None = None
    limit: str = ""  # "rate" or "concurrency" when refused
    counted: bool = False  # holds a place in flight; call release() after


def parse_limit(text: str) -> tuple[int, float]:
    """``"75/60"`` -> ``(75, 60.0)``: requests per window of seconds.

    Raises:
        ValueError: Not ``N/SECONDS`` with N >= 1 and SECONDS > 0.
    """
    count, _, seconds = text.partition("/")
    limit = (int(count), float(seconds))
    _check(limit)
    return limit


def _check(limit: tuple[int, float]) -> None:
    count, seconds = limit
    if count < 1 or not seconds > 0 or math.isinf(seconds):
        msg = f"a rate limit is (requests >= 1, seconds > 0), not {limit!r}"
        raise ValueError(msg)


def _number(seconds: float) -> str:
    return str(int(seconds)) if float(seconds).is_integer() else repr(float(seconds))


class Limiter:
    """Fixed-window rate limits plus an optional limit on requests in flight."""

    def __init__(
        self,
        rate_limits: Sequence[tuple[int, float]] | None,
        max_in_flight: int | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        """Set the limits; ``None`` means unlimited.

        Raises:
            ValueError: A limit is not positive.
        """
        limits = [(int(n), float(s)) for n, s in rate_limits or ()]
        for limit in limits:
            _check(limit)
        if max_in_flight is not None and max_in_flight < 1:
            msg = "max_in_flight must be >= 1"
            raise ValueError(msg)
        self._windows = [_Window(n, s) for n, s in sorted(limits, key=lambda w: w[1])]
        self.max_in_flight = max_in_flight
        self.clock = clock
        self._origin: float | None = None
        self._in_flight = 0
        self._refusals = 0  # concurrency refusals since the last admission
        self._lock = threading.Lock()

    @property
    def limited(self) -> bool:
        """Whether rate limits are configured (and headers sent)."""
        return bool(self._windows)

    @property
    def in_flight(self) -> int:
        """Requests admitted and not yet answered."""
        return self._in_flight

    def reset(self) -> None:
        """Forget every count; the next request starts the windows afresh."""
        with self._lock:
            self._origin = None
            for window in self._windows:
                window.number = window.used = 0

    def _roll(self, now: float) -> None:
        if self._origin is None:
            self._origin = now
        for window in self._windows:
            number = math.floor((now - self._origin) / window.seconds)
            if number != window.number:
                window.number, window.used = number, 0

    def _reset_in(self, window: _Window, now: float) -> int:
        origin = self._origin if self._origin is not None else now
        left = origin + (window.number + 1) * window.seconds - now
        return max(1, math.ceil(left - 1e-9))

    def _headers(self, now: float) -> dict[str, str]:
        if not self._windows:
            return {}
        binding = min(
            self._windows,
            key=lambda w: (w.limit - w.used, -self._reset_in(w, now)),
        )
        policies = ", ".join(
            f"{w.limit};window={_number(w.seconds)}" for w in self._windows
        )
        return {
            "RateLimit-Limit": f"{binding.limit}, {policies}",
            "RateLimit-Remaining": str(max(0, binding.limit - binding.used)),
            "RateLimit-Reset": str(self._reset_in(binding, now)),
        }

    def admit(self) -> Admission:
        """Count a request, or refuse it with the 429 the API would send."""
        with self._lock:
            now = self.clock()
            self._roll(now)
            full = [w for w in self._windows if w.used >= w.limit]
            if full:
                tightest = max(full, key=lambda w: self._reset_in(w, now))
                headers = self._headers(now)
                wait = max(self._reset_in(w, now) for w in full)
                message = (
                    f"Too Many Requests: limit of {tightest.limit} requests per "
                    f"{_number(tightest.seconds)} s reached"
                )
                refusal = error_response(
                    429, message, {**headers, "Retry-After": str(wait)}
                )
                return Admission(headers, refusal, "rate")
            cap = self.max_in_flight
            if cap is not None and self._in_flight >= cap:
                wait = min(2**self._refusals, CONCURRENCY_RETRY_MAX)
                self._refusals += 1
                headers = self._headers(now)
                refusal = concurrency_response(cap, wait)
                refusal.headers.update(headers)
                return Admission(headers, refusal, "concurrency")
            self._refusals = 0
            self._in_flight += 1
            for window in self._windows:
                window.used += 1
            return Admission(self._headers(now), counted=True)

    def release(self) -> None:
        """A request admitted by :meth:`admit` has been answered."""
        with self._lock:
            self._in_flight -= 1
