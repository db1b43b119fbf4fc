"""Calls a pass could not finish: remembered, asked for again, given up in time.

``consecutive=true`` cuts the call list at the first call that is neither DONE
nor ERROR, so one call that never finishes would hold back every later call for
good. A call processing for longer than ``max_processing_hours`` is stepped
over and remembered in its project's state; so is a call whose own request
(its transcript, say) failed. Each later run asks for at most
``max_rechecks_per_run`` of them again (``GET /sa/call/{callId}``), those
remembered longest first, and emits those that have finished. One bad answer
never stops the run: it is counted against that call, and a call still not
done ``give_up_after_hours`` after it was remembered, asked for by at least
:data:`ATTEMPTS_BEFORE_GIVING_UP` runs, is given up, named, and kept in the
state's ``given_up_call_ids``.
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_voicegain import errors
from tap_voicegain.settings import parse_datetime
from tap_voicegain.streams.passes import FINISHED_PHASES

if t.TYPE_CHECKING:
    from collections.abc import Iterator

    from tap_voicegain.streams.walk import CallListStream, ProjectRun

ATTEMPTS_BEFORE_GIVING_UP = 3


class Remembered:
    """The remembered calls of one project in one stream, for one run."""

    def __init__(self, stream: CallListStream, run: ProjectRun) -> None:
        """Work on ``run``'s partition with ``stream``'s requests."""
        self.stream = stream
        self.run = run
        self.partition = run.partition

    def recheck(self) -> Iterator[dict[str, t.Any]]:
        """Records of the remembered calls that have finished; the bookmark stays."""
        remembered = self.partition.remembered()
        if not remembered:
            return
        budget = self.stream.settings.max_rechecks_per_run
        order = sorted(
            remembered, key=lambda c: (str(self.partition.details(c).get("since", "")), c)
        )
        asked = emitted = waiting = failed = given_up = 0
        stream, run = self.stream, self.run
        for call_id in order[:budget]:
            run.stopped = stream.budget_left() or stream.test_limit_reached()
            if run.stopped is not None:
                break
            asked += 1
            try:
                records = self._finished(call_id)
            except errors.CallRequestError as exc:
                failed += 1
                given_up += self._not_done(call_id, str(exc), warn=True)
                continue
            except NotDoneError as exc:
                waiting += 1
                given_up += self._not_done(call_id, str(exc), warn=False)
                continue
            for record in records:
                yield record  # forgotten only once the SDK has written it
                emitted += 1
            run.late.add(call_id)
            self.partition.forget(call_id)
        stream.save()
        stream.logger.info(
            "Project %s: %d of %d remembered calls asked for again: %d finished "
            "(%d records emitted), %d still not done, %d failed, %d given up; %d "
            "left for later runs",
            run.project,
            asked,
            len(remembered),
            asked - waiting - failed,
            emitted,
            waiting,
            failed,
            given_up,
            len(self.partition.remembered()),
            extra={"project": run.project, "rechecked": asked, "given_up": given_up},
        )

    def _finished(self, call_id: int) -> list[dict[str, t.Any]]:
        """The records of a remembered call that has finished.

        Raises:
            NotDoneError: still processing (or its transcript not ready).
            CallRequestError: a request about it failed.
        """
        call = self.stream.fetch_call(call_id)
        if call is None:
            raise errors.CallRequestError(
                "HTTP 404 (gone from the API?)", 404, f"GET /sa/call/{call_id}"
            )
        phase = call.get("progressPhase")
        if phase not in FINISHED_PHASES:
            msg = f"still {phase}"
            raise NotDoneError(msg)
        try:
            return self.stream.records_for(call, self.run)
        except errors.NotReadyError as exc:
            raise NotDoneError(str(exc)) from None

    def _not_done(self, call_id: int, why: str, *, warn: bool) -> int:
        """Count a run's attempt; give the call up once the bound is passed."""
        details = self.partition.attempt(call_id, why)
        try:
            since = parse_datetime(str(details.get("since")))
        except ValueError:
            since = dt.datetime.now(dt.timezone.utc)
        hours = (dt.datetime.now(dt.timezone.utc) - since).total_seconds() / 3600
        limit = self.stream.settings.give_up_after_hours
        if details["attempts"] >= ATTEMPTS_BEFORE_GIVING_UP and hours >= limit:
            self.partition.forget(call_id, given_up=True)
            self.stream.logger.warning(
                "Project %s: callId %d given up after %d runs over %.0f hours (last: "
                "%s); kept in the state's given_up_call_ids",
                self.run.project,
                call_id,
                details["attempts"],
                hours,
                why,
            )
            return 1
        if warn:
            self.stream.logger.warning(
                "Project %s: callId %d skipped for this run (%s); asked for again by "
                "the next run",
                self.run.project,
                call_id,
                why,
            )
        return 0

    def failed(self, call_id: int, exc: errors.CallRequestError) -> None:
        """A call met by a pass whose own request failed: remember it, go on."""
        self.partition.remember(call_id, str(exc))
        self.partition.attempt(call_id, str(exc))  # this run's attempt failed
        self.run.progress.failed.append(call_id)
        self.stream.logger.warning(
            "Project %s: callId %d skipped for this run (%s); remembered and asked "
            "for again by later runs",
            self.run.project,
            call_id,
            exc,
        )


class NotDoneError(Exception):
    """A remembered call is not done yet (still processing, not ready)."""
