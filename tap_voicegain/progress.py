"""What a pass reports: one line per page, one summary per pass.

Only counts for people live here; what decides the next request is the pass's
cursor (``passes.py``).
"""

from __future__ import annotations

import math
import time
import typing as t

if t.TYPE_CHECKING:
    import logging


class PassProgress:
    """What one export pass of one project has read so far."""

    def __init__(self, project: str, label: str, start: int, per_page: int) -> None:
        """Start counting a pass of ``project`` that reads after callId ``start``."""
        self.project = project
        self.label = label
        self.start = start
        self.per_page = per_page
        self.pages = 0
        self.calls = 0
        self.total: int | None = None  # X-Total-Count of the first page
        self.started = time.monotonic()
        self.ended_because = "an error"
        self.kept_raw: dict[str, int] = {}  # values kept raw in _extra, per field

    def page_done(self, size: int, remaining: int | None) -> None:
        """Count a page; ``remaining`` is its X-Total-Count (calls from it on)."""
        if not size:
            return  # the empty answer that ends a pass is not a page of calls
        self.pages += 1
        if remaining is not None:
            # The list can grow while we read, so the total is re-estimated.
            self.total = self.calls + remaining
        self.calls += size

    def log_page(self, logger: logging.Logger, up_to: int) -> None:
        """One INFO line: page, calls, percent, rate, ETA, highest callId."""
        elapsed = max(time.monotonic() - self.started, 1e-9)
        rate = self.calls / elapsed
        fields: dict[str, t.Any] = {
            "project": self.project,
            "page": self.pages,
            "calls": self.calls,
            "calls_per_second": round(rate, 1),
            "last_call_id": up_to,
            "total_calls": self.total,
            "total_pages": None,
            "percent": None,
            "eta_seconds": None,
        }
        text = f"page {self.pages}"
        if self.total:
            fields["total_pages"] = max(
                self.pages, math.ceil(self.total / self.per_page)
            )
            fields["percent"] = round(100 * self.calls / self.total, 1)
            left = max(self.total - self.calls, 0)
            fields["eta_seconds"] = round(left / rate, 1) if rate else None
            text += f" of {fields['total_pages']}"
            text += f", {self.calls} of {self.total} calls ({fields['percent']}%)"
        else:
            text += f", {self.calls} calls"
        text += f", {rate:.0f} calls/s"
        if fields["eta_seconds"] is not None:
            text += f", ETA {fields['eta_seconds']:.0f} s"
        text += f", up to callId {up_to}"
        logger.info("Project %s: %s", self.project, text, extra=fields)

    def log_summary(
        self,
        logger: logging.Logger,
        retries: int,
        bookmark_after: int,
        rate_limit_waits: int = 0,
    ) -> None:
        """One line at the end of the pass, with why it ended."""
        elapsed = time.monotonic() - self.started
        # Waits for the API's rate-limit window: shown when there were some.
        waited = f" and {rate_limit_waits} rate-limit waits" if rate_limit_waits else ""
        fields = {
            "project": self.project,
            "calls": self.calls,
            "pages": self.pages,
            "retries": retries,
            "rate_limit_waits": rate_limit_waits,
            "elapsed_seconds": round(elapsed, 2),
            "bookmark_before": self.start,
            "bookmark_after": bookmark_after,
            "ended_because": self.ended_because,
            "pass": self.label,
            "values_kept_raw": sum(self.kept_raw.values()),
        }
        kept = self._kept_raw_text()
        if self.label != "export":
            logger.info(
                "Project %s: %s re-read %d calls in %d pages with %d retries%s in "
                "%.1f s%s; ended because %s",
                self.project,
                self.label,
                self.calls,
                self.pages,
                retries,
                waited,
                elapsed,
                kept,
                self.ended_because,
                extra=fields,
            )
            return
        logger.info(
            "Project %s: exported %d calls in %d pages with %d retries%s in %.1f s%s; "
            "bookmark %d -> %d; ended because %s",
            self.project,
            self.calls,
            self.pages,
            retries,
            waited,
            elapsed,
            kept,
            self.start,
            bookmark_after,
            self.ended_because,
            extra=fields,
        )

    def _kept_raw_text(self) -> str:
        """Text like ", 3 values kept raw in _extra (duration 2)"; empty if none."""
        if not self.kept_raw:
            return ""
        total = sum(self.kept_raw.values())
        fields = ", ".join(f"{name} {n}" for name, n in sorted(self.kept_raw.items()))
        return f", {total} value{'s' * (total != 1)} kept raw in _extra ({fields})"


def limit_text(limit: int) -> str:
    """Why a pass ended at the SDK's record limit (``--test`` sets it to 1)."""
    if limit == 1:
        return "stopped after the first record (--test)"
    return f"stopped after {limit} records (record limit)"
