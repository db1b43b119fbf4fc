"""Values that do not fit their column: stop the run, or keep them raw and go on.

One bad value must not block a pipeline run after run. By default the call is
emitted with that column null, the raw value is kept in ``_extra`` under the
column's name (JSON: the key), a WARNING names the call and the field, and the
pass summary counts them. ``strict_values`` stops the run instead, naming the
call and the field. Values of an undocumented layout (``UnknownLayout``) are
kept raw in both modes, with one WARNING per column per run (README "Values
that do not fit").
"""

from __future__ import annotations

import collections
import typing as t

from tap_voicegain.normalize import RecordError, UnknownLayout, describe

if t.TYPE_CHECKING:
    import logging

    from tap_voicegain.normalize import BadValue

# Per-call WARNINGs per field and run; further ones are counted, not logged.
WARNINGS_PER_FIELD = 5


class RawValues:
    """Decides what happens to a value that does not fit; counts the kept ones."""

    def __init__(self, logger: logging.Logger, *, strict: bool) -> None:
        """Log to ``logger``; with ``strict``, a misfit stops the run."""
        self.logger = logger
        self.strict = strict
        self.counts: collections.Counter[str] = collections.Counter()  # this pass
        self._seen: collections.Counter[str] = collections.Counter()  # this run

    def misfit(
        self,
        call_id: int,
        name: str,
        value: t.Any,  # noqa: ANN401 - any JSON value or CSV text
        bad: BadValue,
    ) -> None:
        """Account for ``value`` of field ``name``, which the caller keeps raw.

        Raises:
            RecordError: ``strict_values`` is on and the value is not of an
                undocumented layout.
        """
        layout = isinstance(bad, UnknownLayout)
        if self.strict and not layout:
            raise RecordError(call_id, name, value, bad.expected)
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
