"""Pacing by the API's rate limits, shared by every request of a run.

The tap waits *before* a request the API would refuse: once an answer says
``RateLimit-Remaining: 0`` until ``RateLimit-Reset``, and never more than
``max_requests_per_minute`` in any 60 s (docs/design.md).
"""

from __future__ import annotations

import collections
import dataclasses
import functools
import threading
import time
import typing as t

from tap_voicegain import settings

if t.TYPE_CHECKING:
    import logging
    from collections.abc import Callable, Mapping

    import requests

# Seconds of the window max_requests_per_minute counts in: a minute, plus a
# margin for the server's clock and the time a request takes to arrive.
MINUTE = 61.0
# A Reset beyond the window the API announced (or, without one, an hour) is not
# a number of seconds to wait: read as an epoch time if it is one, else capped.
RESET_CEILING = 3600.0
ANNOUNCE_MIN = 0.05  # seconds; shorter waits are not worth a log line


@dataclasses.dataclass(frozen=True)
class WindowState:
    """What one answer's ``RateLimit-*`` headers say."""

    remaining: int  # requests left in the binding window
    reset: float  # seconds until that window resets
    limit: int | None  # requests the binding window allows, if said
    window: float | None  # its length in seconds, if the policies name it


def _number(text: str) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    return value if value >= 0 and value != float("inf") else None


def _parse_limit(text: str) -> tuple[int | None, float | None]:
    """``75, 75;window=60, 2000;window=3600`` -> (75, 60.0); either may be None."""
    items = [item.strip() for item in text.split(",") if item.strip()]
    if not items or not items[0].isdigit():
        return None, None
    limit = int(items[0])
    for item in items[1:]:
        quota, _, params = item.partition(";")
        if quota.strip() != items[0]:
            continue
        for param in params.split(";"):
            key, _, value = param.partition("=")
            if key.strip().lower() == "window":
                return limit, _number(value)
    return limit, None


def parse_headers(headers: Mapping[str, str]) -> WindowState | None:
    """The window state an answer announces; None if absent or malformed."""
    remaining = (headers.get("RateLimit-Remaining") or "").strip()
    reset = _number(headers.get("RateLimit-Reset") or "")
    if not (remaining.isascii() and remaining.isdigit()) or reset is None:
        return None
    limit, window = _parse_limit(headers.get("RateLimit-Limit") or "")
    return WindowState(int(remaining), reset, limit, window)


class RateLimiter:
    """Paces the requests of one account; safe to share between threads."""

    def __init__(
        self,
        max_per_minute: int | None,
        logger: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """Pace to the API's headers and, if given, ``max_per_minute``."""
        self.max_per_minute = max_per_minute
        self.logger = logger
        self.clock = clock
        self.sleep = sleep
        self.wall = wall
        self.waits = 0  # waits announced, for the pass summaries
        self.waited_seconds = 0.0
        self._lock = threading.Lock()
        self._resume_at = 0.0  # no request before this (the window is spent)
        self._why = ""
        self._sent: collections.deque[float] = collections.deque()
        self._announced_until = 0.0

    def acquire(self) -> None:
        """Wait, if need be, until one more request may go; count it."""
        with self._lock:
            now = self.clock()
            wait, why = 0.0, ""
            if self._resume_at > now:
                wait, why = self._resume_at - now, self._why
            if self.max_per_minute is not None:
                while self._sent and self._sent[0] <= now - MINUTE:
                    self._sent.popleft()
                if len(self._sent) >= self.max_per_minute:
                    # The request may go once the oldest of the last N is 60 s old.
                    own = self._sent[-self.max_per_minute] + MINUTE - now
                    if own > wait:
                        wait = own
                        why = (
                            f"max_requests_per_minute: {self.max_per_minute} "
                            "requests sent in the last 60 s"
                        )
                self._sent.append(now + wait)
            if wait > 0:
                self._announce(now, wait, why)
        if wait > 0:
            self.sleep(wait)

    def _announce(self, now: float, wait: float, why: str) -> None:
        """One INFO line per wait; threads waiting for the same moment share it."""
        until = now + wait
        if wait < ANNOUNCE_MIN or until <= self._announced_until:
            return
        self._announced_until = until
        self.waits += 1
        self.waited_seconds += wait
        self.logger.info(
            "Rate limit: waiting %.1f s before the next request (%s)",
            wait,
            why,
            extra={"wait_seconds": round(wait, 2), "reason": why},
        )

    def observe(self, response: requests.Response) -> None:
        """Read the window state of an answer; a spent window pauses requests."""
        if response.headers.get("X-ResourceLimit-Type"):
            return  # a concurrency limit, not the windows: its Retry-After says
        state = parse_headers(response.headers)
        if state is None or state.remaining > 0:
            return
        reset = self._bounded(state)
        with self._lock:
            resume_at = self.clock() + reset
            if resume_at > self._resume_at:
                self._resume_at = resume_at
                self._why = _window_words(state)

    def _bounded(self, state: WindowState) -> float:
        """Seconds to wait for a spent window: never beyond the window's length."""
        ceiling = min(state.window or RESET_CEILING, RESET_CEILING)
        if state.reset <= ceiling:
            return state.reset
        now = self.wall()
        if now < state.reset <= now + ceiling:
            wait, read = state.reset - now, "an epoch time"
        else:
            wait, read = ceiling, f"capped at {ceiling:g} s"
        self.logger.warning(
            "RateLimit-Reset: %g is longer than the rate-limit window (%g s): read "
            "as %s, the tap waits %.0f s",
            state.reset,
            ceiling,
            read,
            wait,
        )
        return wait

    def waiting(self) -> float:
        """Seconds the next request would wait now (0 when it may go)."""
        with self._lock:
            return max(0.0, self._resume_at - self.clock())


def _window_words(state: WindowState) -> str:
    allowed = ""
    if state.limit is not None:
        allowed = f" of {state.limit} requests"
        if state.window is not None:
            allowed += f" per {state.window:g} s"
    return (
        f"the API's rate-limit window{allowed} is spent "
        f"(RateLimit-Remaining: 0, RateLimit-Reset: {state.reset:g})"
    )


class RateLimits:
    """One limiter per Voicegain account (the JWT's ``accountId``; else shared)."""

    def __init__(
        self,
        max_per_minute: int | None,
        logger: logging.Logger,
        *,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        wall: Callable[[], float] = time.time,
    ) -> None:
        """Limiters are made on first use; ``clock``, ``sleep``, ``wall`` are theirs."""
        self._new = functools.partial(
            RateLimiter, max_per_minute, logger, clock=clock, sleep=sleep, wall=wall
        )
        self._lock = threading.Lock()
        self._by_account: dict[str, RateLimiter] = {}
        self._by_token: dict[str, RateLimiter] = {}

    def for_token(self, token: str) -> RateLimiter:
        """The limiter of the account ``token`` belongs to."""
        with self._lock:
            limiter = self._by_token.get(token)
            if limiter is None:
                account = settings.jwt_claims(token).get("accountId")
                key = account if isinstance(account, str) else ""
                limiter = self._by_account.get(key) or self._new()
                self._by_token[token] = self._by_account[key] = limiter
            return limiter

    def for_authorization(self, header: str | bytes | None) -> RateLimiter:
        """The limiter of a request's ``Authorization: Bearer`` token."""
        if isinstance(header, bytes):
            header = header.decode("latin-1")
        scheme, _, token = (header or "").partition(" ")
        return self.for_token(token.strip() if scheme.lower() == "bearer" else "")

    @property
    def waits(self) -> int:
        """Waits announced so far, over every account."""
        with self._lock:
            return sum(limiter.waits for limiter in self._by_account.values())
