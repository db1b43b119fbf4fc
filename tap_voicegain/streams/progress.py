"""What a pass reports: progress lines and one summary line per pass.

Counts and times only: never a value of a call, never a word of a transcript.
"""

from __future__ import annotations

import logging
import math
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Callable

LOG_EVERY_SECONDS = 15.0  # per-call passes: a line at most this often
STEPPED_SHOWN = 10  # callIds named in a summary; the rest are counted


def duration_words(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``: a time a person reads at a glance."""
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class Progress:
    """What one pass of one project has done so far."""

    def __init__(  # noqa: PLR0913
        self,
        project: str,
        label: str,
        start: int,
        per_page: int,
        *,
        waited: Callable[[], float] = lambda: 0.0,
        unit: str = "calls",
    ) -> None:
        """Count a ``label`` pass after ``start``; ``waited``: rate-limit seconds."""
        self.project = project
        self.label = label
        self.unit = unit
        self.start = start
        self.bookmark = start
        self.per_page = per_page
        self.pages = 0
        self.calls = 0  # calls read from the list
        self.records = 0  # records written
        self.requests = 0  # requests about one call (transcripts, rechecks)
        self.missing = 0  # 404: no transcript
        self.skipped = 0  # calls without anything to ask (ERROR, no session)
        self.failed: list[int] = []  # calls whose own request failed
        self.stepped_over: list[tuple[int, str]] = []  # (callId, phase since)
        self.total: int | None = None  # X-Total-Count: calls from this page on
        self.kept_raw: dict[str, int] = {}  # values kept raw in _extra, per field
        self.retries = 0
        self.rate_limit_waits = 0
        self.ended_because = "an error"
        self.started = time.monotonic()
        self._waited = waited
        self._waited_at_start = waited()
        self._logged = self.started

    @property
    def waited(self) -> float:
        """Seconds waited for the rate limit during this pass."""
        return self._waited() - self._waited_at_start

    def page_done(self, size: int, remaining: int | None) -> None:
        """Count a page; ``remaining`` is its X-Total-Count (calls from it on)."""
        if not size:
            return  # the empty answer that ends a pass is not a page of calls
        self.pages += 1
        if remaining is not None:
            # The list can grow while we read, so the total is re-estimated.
            self.total = self.calls + remaining
        self.calls += size

    def _fields(self) -> dict[str, t.Any]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate, total = self.calls / elapsed, self.total
        left = max((total or 0) - self.calls, 0)
        return {
            "project": self.project,
            "page": self.pages,
            "calls": self.calls,
            "records": self.records,
            "requests": self.requests,
            "calls_per_second": round(rate, 2),
            "last_call_id": self.bookmark,
            "total_calls": total,
            "total_pages": max(self.pages, math.ceil(total / self.per_page))
            if total
            else None,
            "percent": round(100 * self.calls / total, 1) if total else None,
            "eta_seconds": round(left / rate, 1) if total and rate else None,
            "rate_limit_wait_seconds": round(self.waited, 1),
            "elapsed_seconds": round(elapsed, 2),
        }

    def log_page(self, logger: logging.Logger, up_to: int) -> None:
        """One INFO line per page: page, calls, percent, rate, ETA, highest callId."""
        self.bookmark = up_to
        fields = self._fields()
        text = f"page {self.pages}"
        if self.total:
            text += f" of {fields['total_pages']}"
            text += f", {self.calls} of {self.total} calls ({fields['percent']}%)"
        else:
            text += f", {self.calls} calls"
        text += f", {fields['calls_per_second']:.0f} calls/s"
        if fields["eta_seconds"] is not None:
            text += f", ETA {fields['eta_seconds']:.0f} s"
        text += f", up to callId {up_to}"
        logger.info("Project %s: %s", self.project, text, extra=fields)

    def maybe_log(self, logger: logging.Logger) -> None:
        """For per-call passes: a progress line, at most every LOG_EVERY_SECONDS."""
        now = time.monotonic()
        if now - self._logged < LOG_EVERY_SECONDS:
            return
        self._logged = now
        fields = self._fields()
        text = f"{self.records} {self.unit}"
        if self.total:
            percent = 100 * self.calls / self.total
            text += f", {self.calls} of {self.total} calls known ({percent:.1f}%)"
        else:
            text += f", {self.calls} calls"
        text += f", {fields['calls_per_second']:.2f} calls/s"
        if fields["eta_seconds"] is not None:
            text += f", ETA {duration_words(fields['eta_seconds'])} at this pace"
        text += (
            f", {duration_words(self.waited)} waiting for the rate limit"
            f", up to callId {self.bookmark}"
        )
        logger.info("Project %s: %s: %s", self.project, self.unit, text, extra=fields)

    def log_summary(self, logger: logging.Logger) -> None:
        """One line at the end of the pass, with why it ended."""
        fields = self._fields()
        del fields["page"]
        fields.update(
            {
                "pass": self.label,
                "pages": self.pages,
                "retries": self.retries,
                "rate_limit_waits": self.rate_limit_waits,
                "bookmark_before": self.start,
                "bookmark_after": self.bookmark,
                "ended_because": self.ended_because,
                "values_kept_raw": sum(self.kept_raw.values()),
                "missing": self.missing,
                "skipped": self.skipped,
                "failed": len(self.failed),
                "stepped_over": len(self.stepped_over),
            }
        )
        waits = (
            f" and {self.rate_limit_waits} rate-limit waits"
            if self.rate_limit_waits
            else ""
        )
        elapsed = fields["elapsed_seconds"]
        of_calls = "" if self.unit == "calls" else f" of {self.calls} calls"
        if self.unit == "transcripts":
            head = (
                f"{self.records} transcripts from {self.requests} requests in "
                f"{elapsed:.1f} s ({duration_words(self.waited)} waiting for the rate "
                f"limit); {self.missing} calls without a transcript (HTTP 404), "
                f"{self.skipped} skipped (ERROR or no saSessionId)"
            )
        elif self.label == "export":
            head = (
                f"exported {self.records} {self.unit}{of_calls} in {self.pages} pages "
                f"with {self.retries} retries{waits} in {elapsed:.1f} s"
            )
        else:
            head = (
                f"{self.label} re-read {self.calls} calls in {self.pages} pages with "
                f"{self.retries} retries{waits} in {elapsed:.1f} s"
            )
        tail = ""
        if self.kept_raw:
            total = sum(self.kept_raw.values())
            counts = ", ".join(f"{k} {n}" for k, n in sorted(self.kept_raw.items()))
            tail += f", {total} value{'s' * (total != 1)} kept raw in _extra ({counts})"
        if self.failed:
            tail += (
                f", {len(self.failed)} skipped for this run as their request failed "
                "(remembered)"
            )
        tail += self._stepped_text()
        bookmark = (
            f"; bookmark {self.start} -> {self.bookmark}"
            if self.label != "refresh"
            else ""
        )
        # Calls stepped over are named here only: the line is a WARNING then.
        # (A call whose request failed had its own WARNING.)
        level = logging.WARNING if self.stepped_over else logging.INFO
        logger.log(
            level,
            "Project %s: %s%s%s; ended because %s",
            self.project,
            head,
            tail,
            bookmark,
            self.ended_because,
            extra=fields,
        )

    def _stepped_text(self) -> str:
        if not self.stepped_over:
            return ""
        shown = ", ".join(
            f"callId {call_id} ({why})"
            for call_id, why in self.stepped_over[:STEPPED_SHOWN]
        )
        count = len(self.stepped_over)
        more = f" and {count - STEPPED_SHOWN} more" if count > STEPPED_SHOWN else ""
        return (
            f", {count} stepped over as still unfinished after max_processing_hours "
            f"(remembered, asked for again by later runs): {shown}{more}"
        )
