"""Values that do not fit their column: kept raw and counted, or the run stops."""

from __future__ import annotations

import collections
import typing as t

from tap_voicegain.errors import BadValue, RecordError, UnknownLayout
from tap_voicegain.records.values import describe

if t.TYPE_CHECKING:
    import logging

WARNINGS_PER_FIELD = 5  # per-call WARNINGs per field and run; then counted


class RawValues:
    """What happens to a value that does not fit: kept raw and counted, or stop."""

    def __init__(self, logger: logging.Logger, *, strict: bool) -> None:
        """Log to ``logger``; with ``strict``, a misfit stops the run."""
        self.logger = logger
        self.strict = strict
        self.counts: collections.Counter[str] = collections.Counter()  # this pass
        self._seen: collections.Counter[str] = collections.Counter()  # this run

    def misfit(self, call_id: object, name: str, value: t.Any, bad: BadValue) -> None:  # noqa: ANN401
        """Account for ``value`` of ``name``, kept raw (RecordError if strict)."""
        layout = isinstance(bad, UnknownLayout)
        if self.strict and not layout:
            raise RecordError(call_id, name, describe(value), bad.expected)
        self.counts[name] += 1
        self._seen[name] += 1
        seen = self._seen[name]
        column = "holds the items read" if bad.partial else "is null"
        if layout:
            if seen == 1:
                self.logger.warning(
                    "Field '%s' of callId %s is in a layout this tap does not read "
                    "(expected %s; shape %s): its raw value is kept in _extra, the "
                    "column %s. Other calls like it are counted in the pass summary.",
                    name,
                    call_id,
                    bad.expected,
                    describe(value),
                    column,
                )
            return
        if seen <= WARNINGS_PER_FIELD:
            more = (
                f" Further values of '{name}' that do not fit are counted in the "
                "pass summary, not logged."
                if seen == WARNINGS_PER_FIELD
                else ""
            )
            self.logger.warning(
                "callId %s: field '%s' has %s, expected %s: kept raw in _extra, the "
                "column %s.%s",
                call_id,
                name,
                describe(value),
                bad.expected,
                column,
                more,
            )

    def take_counts(self) -> dict[str, int]:
        """Values kept raw per field since the last call (one pass)."""
        counts = dict(self.counts)
        self.counts.clear()
        return counts
