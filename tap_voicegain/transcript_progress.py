"""What a transcripts pass reports: progress lines and one summary per project.

Counts and times only: never a word of a transcript.
"""

from __future__ import annotations

import time
import typing as t

if t.TYPE_CHECKING:
    import logging

LOG_EVERY_SECONDS = 15.0  # at 2,000 requests/hour, a line every ~8 transcripts


def duration_words(seconds: float) -> str:
    """``45 s``, ``12 min``, ``3 h 05 min``: an ETA a person reads at a glance."""
    if seconds < 60:  # noqa: PLR2004
        return f"{seconds:.0f} s"
    minutes = round(seconds / 60)
    if minutes < 60:  # noqa: PLR2004
        return f"{minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"{hours} h {minutes:02d} min"


class TranscriptProgress:
    """Counts of one project's transcripts pass.

    ``calls`` counts the calls walked (with or without a transcript); ``known``
    is the calls known from the call list's ``X-Total-Count`` (the calls after
    the bookmark, re-estimated on each page), so the ETA is at the pace of
    calls walked, rate-limit waits included.
    """

    def __init__(self, project: str, start: int) -> None:
        """Start counting the pass of ``project`` after callId ``start``."""
        self.project = project
        self.start = start
        self.bookmark = start
        self.transcripts = 0  # records written
        self.missing = 0  # 404: no transcript
        self.skipped = 0  # ERROR calls and calls without saSessionId: no request
        self.requests = 0  # transcript requests sent, retries included
        self.calls = 0  # calls walked
        self.known: int | None = None
        self.rate_limit_wait = 0.0  # seconds waited for the rate limit
        self.ended_because = "an error"
        self.started = time.monotonic()
        self._logged = self.started

    def page_done(self, size: int, remaining: int | None) -> None:
        """A page of the call list: ``remaining`` is its X-Total-Count."""
        if size and remaining is not None:
            # X-Total-Count of a page counts the calls from it on.
            self.known = self.calls + remaining

    def _fields(self) -> dict[str, t.Any]:
        elapsed = max(time.monotonic() - self.started, 1e-9)
        pace = self.calls / elapsed
        fields: dict[str, t.Any] = {
            "project": self.project,
            "transcripts": self.transcripts,
            "calls": self.calls,
            "calls_known": self.known,
            "requests": self.requests,
            "calls_per_second": round(pace, 2),
            "rate_limit_wait_seconds": round(self.rate_limit_wait, 1),
            "elapsed_seconds": round(elapsed, 2),
            "eta_seconds": None,
            "last_call_id": self.bookmark,
        }
        if self.known is not None and pace > 0:
            fields["eta_seconds"] = round(max(self.known - self.calls, 0) / pace, 1)
        return fields

    def maybe_log(self, logger: logging.Logger) -> None:
        """A progress line, at most every ``LOG_EVERY_SECONDS``."""
        now = time.monotonic()
        if now - self._logged < LOG_EVERY_SECONDS:
            return
        self._logged = now
        fields = self._fields()
        text = f"{self.transcripts} transcripts"
        if self.known:
            percent = 100 * self.calls / self.known
            text += f", {self.calls} of {self.known} calls known ({percent:.1f}%)"
        else:
            text += f", {self.calls} calls"
        text += f", {fields['calls_per_second']:.2f} calls/s"
        if fields["eta_seconds"] is not None:
            text += f", ETA {duration_words(fields['eta_seconds'])} at this pace"
        text += (
            f", {duration_words(self.rate_limit_wait)} waiting for the rate limit"
            f", up to callId {self.bookmark}"
        )
        logger.info("Project %s: transcripts: %s", self.project, text, extra=fields)

    def log_summary(self, logger: logging.Logger) -> None:
        """One line at the end of the pass, with why it ended."""
        fields = self._fields()
        fields.update(
            {
                "missing": self.missing,
                "skipped": self.skipped,
                "bookmark_before": self.start,
                "bookmark_after": self.bookmark,
                "ended_because": self.ended_because,
                "pass": "transcripts",
            }
        )
        logger.info(
            "Project %s: %d transcripts from %d requests in %.1f s (%s waiting for "
            "the rate limit); %d calls without a transcript (HTTP 404), %d skipped "
            "(ERROR or no saSessionId); bookmark %d -> %d; ended because %s",
            self.project,
            self.transcripts,
            self.requests,
            fields["elapsed_seconds"],
            duration_words(self.rate_limit_wait),
            self.missing,
            self.skipped,
            self.start,
            self.bookmark,
            self.ended_because,
            extra=fields,
        )
