"""Calls a pass could not finish: remembered, asked for again, given up in time.

A call processing for longer than ``max_processing_hours`` is stepped over and
remembered, so is a call whose own request failed; later runs ask for them
again (docs/design.md, ``streams/remembered.py``).
"""

from __future__ import annotations

import datetime as dt
import typing as t

from tap_voicegain import errors
from tap_voicegain.http import answers
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
            remembered,
            key=lambda c: (str(self.partition.details(c).get("since", "")), c),
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
            except errors.NotReadyError as exc:
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
        """The records of a remembered call once finished (else NotReadyError)."""
        stream = self.stream
        params = {"inclSegments": "true"} if stream.incl_segments else {}
        path = f"GET /sa/call/{call_id}"
        response = stream.send_one(
            f"{stream.url_base}/sa/call/{call_id}",
            params,
            "/sa/call/{callId}",
            lambda r: r.status_code == 404,  # noqa: PLR2004
            shown=path[4:],
        )
        if response.status_code == 404:  # noqa: PLR2004
            why = "HTTP 404 (gone from the API?)"
            raise errors.CallRequestError(why, 404, path)
        body = response.content.strip()
        if body[:1] == b"[" and body.count(b'"callId"') == 1:
            body = body[1:-1].strip()  # an API that answers with a list of one
        try:
            call = stream.reader.json_call(body)
        except ValueError:
            why = f"not a call ({answers.content_type(response)})"
            raise errors.CallRequestError(why, 200, path) from None
        if call["callId"] != call_id:
            why = f"an answer about callId {call['callId']}"
            raise errors.CallRequestError(why, 200, path)
        if call.get("progressPhase") not in FINISHED_PHASES:
            msg = f"still {call.get('progressPhase')}"
            raise errors.NotReadyError(msg)
        return stream.records_for(call, self.run)

    def _not_done(self, call_id: int, why: str, *, warn: bool) -> int:
        """Count a run's attempt; give the call up once the bound is passed."""
        details = self.partition.attempt(call_id, why)
        hours = hours_since(str(details.get("since"))) or 0.0
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


def hours_since(value: object) -> float | None:
    """Hours since an RFC 3339 time; None when ``value`` is not one."""
    if not isinstance(value, str):
        return None
    try:
        moment = parse_datetime(value)
    except ValueError:
        return None
    return (dt.datetime.now(dt.timezone.utc) - moment).total_seconds() / 3600
