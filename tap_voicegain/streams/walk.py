"""The one walk over the call list that every stream makes (docs/design.md).

Per project: remembered calls, export passes, then the refresh pass. The walk
is the one place that moves the bookmark and writes the STATE.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t

from typing_extensions import override

from tap_voicegain import errors, sdk, state
from tap_voicegain.http import answers, prefetch
from tap_voicegain.records.reader import CallReader
from tap_voicegain.settings import parse_datetime
from tap_voicegain.streams.base import VoicegainStream
from tap_voicegain.streams.follow import rate_limited, what_follows
from tap_voicegain.streams.passes import (
    FINISHED_PHASES,
    LISTED_PHASES,
    ExportPass,
    Pass,
    PassPaginator,
    RefreshPass,
)
from tap_voicegain.streams.progress import Progress
from tap_voicegain.streams.remembered import Remembered, hours_since

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable, Iterator

    import requests
    from singer_sdk.helpers.types import Context

# Calls stepped over in one run of one project; the next run goes on.
MAX_STEPS_PER_RUN = 100
Records = list[dict[str, t.Any]]


class ProjectRun:
    """What one run of one project has done: the walk's working state."""

    def __init__(
        self, stream: CallListStream, context: Context | None, project: str
    ) -> None:
        """Start the run of ``project`` at its bookmark."""
        self.context = context
        self.project = project
        start = stream.settings.start_after_call_id
        self.partition = state.Partition(
            stream.get_context_state(context), project, start
        )
        self.started_at = self.partition.bookmark  # the refresh stops here
        self.late: set[int] = set()  # callIds emitted out of order in this run
        self.full = stream.settings.per_page  # a full page (the API may cap it)
        self.steps = 0
        self.walked = 0  # calls the passes went past
        self.stopped: str | None = None  # why the run stops early (budget, --test)
        self.progress = Progress(project, "export", self.started_at, self.full)


class CallListStream(VoicegainStream):
    """A stream that walks the call list by callId, one bookmark per project."""

    path = "/sa/call"
    replication_key = "callId"
    # consecutive=true sorts by callId, so the bookmark advances call by call
    # and an interrupted run resumes where it stopped.
    is_sorted = True
    unit = "calls"  # what the records are, for the summaries
    label = "export"  # the export pass's name in the summaries
    refreshes = True  # re-read by the refresh pass (refresh_window_days)
    incl_segments = False  # ask the list for segments (inclSegments=true)
    state_every_calls: int | None = None  # STATE also every N calls, not only per page
    reports_call_fields = True  # name unknown call fields (the calls' streams)

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the reader of the call list and the prefetch."""
        super().__init__(*args, **kwargs)
        self.reader = CallReader(
            csv_timezone=self.settings.csv_timezone,
            keep_unknown=self.settings.keep_unknown_fields,
            empty_nested=bool(self.config.get("flattening_enabled")),
            strict_values=self.settings.strict_values,
            logger=self.logger,
        )
        self.run: ProjectRun | None = None
        self._pass: Pass = ExportPass(0, self.settings.per_page, self.settings.per_page)
        self._reported_fields: set[str] = set()
        self.after_ignored = False  # the API ignores afterCallId without consecutive
        # The prefetch sends as the SDK does (never takes a prefetched answer).
        self._prefetch = prefetch.Prefetch(super().send_page, self.request_decorator)
        self._prefetch_on = sdk.sdk_covered()  # it answers through the seam's _request

    def records_for(self, call: dict[str, t.Any], run: ProjectRun) -> Records:
        """The records ``call`` gives (tagged with its project).

        Raises:
            NotReadyError: not ready yet; the pass ends before this call.
            CallRequestError: the call's own request failed; it is remembered.
        """
        raise NotImplementedError

    def budget_left(self) -> str | None:
        """Why the run must stop before the next call (a budget spent), or None."""
        return None

    def tag(self, record: dict[str, t.Any], project: str) -> dict[str, t.Any]:
        """Add the project's name, and its contextId where the API sent none."""
        record["project"] = project
        if record.get("contextId") is None:
            record["contextId"] = self.context_id(project)  # the token names it
            if record["contextId"] is None and self.several_projects:
                msg = (
                    f"callId {record['callId']} of project '{project}' has no "
                    "contextId, which is part of the key with projects"
                )
                raise errors.BadPageError(msg)
        return record

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        project = (context or {}).get("project", "default")
        why = self.test_limit_reached()
        if why is not None:
            self.logger.info("Project %s: not read (%s)", project, why)
            return
        with self.project_scope(context) as project:
            self.run = run = ProjectRun(self, context, project)
            try:
                yield from Remembered(self, run).recheck()
                run.stopped = run.stopped or self.test_limit_reached()
                yield from self._export(run)  # says why, even when stopped already
                if run.stopped is None:
                    yield from self._refresh(run)
            finally:
                self.save()

    def _export(self, run: ProjectRun) -> Generator[dict[str, t.Any], None, None]:
        """Export passes until the list ends or a call blocks it; one summary."""
        progress = self._progress(run, self.label, run.partition.bookmark)
        with self._summary(progress, run):
            while run.stopped is None:
                current = ExportPass(
                    run.partition.bookmark, self.settings.per_page, run.full
                )
                if not (yield from self._read(current, run)):
                    break
                if not (yield from self._past_the_end(current, run)):
                    break
            if run.stopped is not None:
                progress.ended_because = run.stopped

    def _refresh(self, run: ProjectRun) -> Generator[dict[str, t.Any], None, None]:
        """The refresh pass, when refresh_window_days asks for one."""
        since = self._refresh_since()
        if since is None or not self.refreshes:
            return
        to_time = self.settings.to_time
        if to_time and parse_datetime(to_time) < parse_datetime(since):
            self.logger.info(
                "Project %s: no refresh pass: to_time %s is before the refresh "
                "window's start %s",
                run.project,
                to_time,
                since,
            )
            return
        skip = run.late | set(run.partition.remembered())
        current = RefreshPass(run.started_at, since, self.settings.per_page, skip)
        progress = self._progress(run, "refresh", 0)
        with self._summary(progress):
            if (yield from self._read(current, run)):
                progress.ended_because = "the refresh window was read"
            else:
                progress.ended_because = run.stopped or "stopped"

    def _progress(self, run: ProjectRun, label: str, start: int) -> Progress:
        limiter = self.limiter()
        run.progress = progress = Progress(
            run.project,
            label,
            start,
            self.settings.per_page,
            waited=lambda: limiter.waited_seconds + self.throttled_seconds,
            unit=self.unit,
        )
        progress.retries = -self.retries  # counted from here
        progress.rate_limit_waits = -self.rate_limits.waits
        return progress

    @contextlib.contextmanager
    def _summary(
        self, progress: Progress, run: ProjectRun | None = None
    ) -> Iterator[None]:
        """Log the pass's summary line when it ends; ``run``: with the bookmark."""
        try:
            yield
        except Exception as exc:
            progress.ended_because = f"an error: {type(exc).__name__}"
            raise
        finally:
            if run is not None:
                progress.bookmark = run.partition.bookmark
            progress.retries += self.retries
            progress.rate_limit_waits += self.rate_limits.waits
            progress.kept_raw = self.reader.raw.take_counts()
            progress.log_summary(self.logger)

    def _refresh_since(self) -> str | None:
        """``fromTime`` of the refresh pass: N days ago, or ``from_time`` if later."""
        days = self.settings.refresh_window_days
        if days <= 0:
            return None
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
        from_time = self.settings.from_time
        # Compared as instants: the setting may carry any UTC offset.
        if from_time and parse_datetime(from_time) > since:
            return from_time
        return since.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _read(
        self, current: Pass, run: ProjectRun
    ) -> Generator[dict[str, t.Any], None, bool]:
        """Read one pass; True when it ended because the list did."""
        self._pass = current
        with self._prefetch.closing():
            for call in super().get_records(run.context):
                run.stopped = self.budget_left()
                if run.stopped is not None:
                    return False
                try:
                    records = self.records_for(call, run)
                except errors.NotReadyError as exc:
                    if not self._step_over(call, str(exc), run):
                        run.progress.ended_because = f"{exc}; the next run asks again"
                        return False
                    continue
                except errors.CallRequestError as exc:
                    Remembered(self, run).failed(call["callId"], exc)
                    records = []
                for record in records:
                    yield record
                    run.progress.records += 1
                    why = self.test_limit_reached()
                    if why is not None:
                        run.stopped = why
                if current.moves_bookmark:
                    run.partition.advance(call["callId"])
                run.walked += 1
                if run.stopped is not None:
                    return False
                self._every_calls(run)
        return True

    def _every_calls(self, run: ProjectRun) -> None:
        every = self.state_every_calls
        if every is not None:
            run.progress.bookmark = run.partition.bookmark
            if run.walked % every == 0:
                self.save()
            run.progress.maybe_log(self.logger)

    def save(self) -> None:
        """A STATE message now, if the state changed and no batch file is pending."""
        run = self.run
        if (
            run is not None
            and run.partition.changed
            and not self.record_writer.batching
        ):
            run.partition.changed = False
            sdk.write_state(self)

    def _past_the_end(
        self, current: ExportPass, run: ProjectRun
    ) -> Generator[dict[str, t.Any], None, bool]:
        """After a short page: True to read on, False when the pass is over."""
        follow = what_follows(self, current.cursor.after, run)
        progress = run.progress
        if not follow:
            progress.ended_because = (
                "no more calls"
                if follow is not None
                else "a short page; what follows was not checked (rate limit): the "
                "window is spent, and the next run looks"
                if rate_limited(self)
                else "a short page (no more calls, or a call still processing)"
            )
            return False
        call = follow[0]
        call_id, phase = call["callId"], call.get("progressPhase")
        if phase in LISTED_PHASES:
            # The list goes on: the API caps per_page, or the call finished since.
            if current.cursor.page_size and current.cursor.page_size < run.full:
                run.full = current.cursor.page_size
                return True
            progress.ended_because = (
                f"a short page; callId {call_id} finished since (next run)"
            )
            return False
        since = call.get("startTime")
        if phase in FINISHED_PHASES:  # STOPPED: never listed, never resumes
            for record in self.records_for(call, run):
                yield record
                progress.records += 1
            run.partition.advance(call_id)
            return True
        if self._step_over(call, f"{phase} since {since}", run):
            return True
        progress.ended_because = (
            f"a call still processing at callId {call_id} ({phase})"
        )
        progress.ended_because += f" since {since}" if since else ""
        return False

    def _step_over(self, call: dict[str, t.Any], why: str, run: ProjectRun) -> bool:
        """Step over a call processing for too long: remember it, move past it."""
        hours = hours_since(call.get("startTime"))
        limit = self.settings.max_processing_hours
        if hours is None or hours <= limit or run.steps >= MAX_STEPS_PER_RUN:
            return False
        call_id = call["callId"]
        run.steps += 1
        run.partition.remember(call_id, f"stepped over: {why}")
        run.partition.advance(call_id)
        run.progress.stepped_over.append((call_id, why))
        self.save()
        return True

    @override
    def get_new_paginator(self) -> PassPaginator:
        return PassPaginator(self._pass)

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, t.Any]:
        current = self._pass
        params: dict[str, t.Any] = {
            "format": self.list_format,
            **self.settings.filter_params(),
            **current.params(),
            "per_page": current.cursor.per_page,
        }
        if self.incl_segments:
            params["inclSegments"] = "true"
        if isinstance(current, ExportPass) and next_page_token is not None:
            # The paginator's token is the cursor's afterCallId; a prefetch passes
            # the one it read from the body's tail (http/prefetch.py).
            params["afterCallId"] = next_page_token
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterator[dict[str, t.Any]]:
        """The calls of one page, checked whole before any is emitted."""
        run = t.cast("ProjectRun", self.run)
        current, progress = self._pass, run.progress
        where = (
            f"page {progress.pages + 1} of project '{run.project}' "
            f"({answers.request_summary(getattr(response.request, 'url', None))})"
        )
        if isinstance(current, ExportPass):
            self._prefetch_next(response, current, run)
        try:
            page = self.reader.page(response.content, self.list_format)
        except ValueError as exc:
            msg = f"The Voicegain API answered {where} with {exc}"
            raise errors.BadPageError(msg) from exc
        ids = [record["callId"] for record in page]
        if isinstance(current, ExportPass):
            after = current.cursor.after
            for call_id in ids:
                if call_id <= after:
                    msg = (
                        f"The Voicegain API answered {where} with callId {call_id} "
                        f"after {after}: calls are not in callId order"
                    )
                    raise errors.BadPageError(msg)
                after = call_id
        current.take(ids)
        remaining = response.headers.get("X-Total-Count", "")
        progress.page_done(len(page), int(remaining) if remaining.isdigit() else None)
        self.record_writer.extracted_at = dt.datetime.now(dt.timezone.utc)
        for record in page:
            if current.keep(record):
                yield record
        self.save()  # a STATE after every page, not only every 10,000 records
        if self.reports_call_fields:
            self.report_unknown(
                self.reader.unknown_fields, kept=self.reader.keep_unknown
            )
        if page and self.state_every_calls is None:
            progress.log_page(self.logger, ids[-1])

    def report_unknown(
        self, found: set[str], *, kept: bool, what: str = "fields this tap's schema"
    ) -> None:
        """Name the fields the API sent that this tap does not know, once per run."""
        new = found - self._reported_fields
        if new:
            self._reported_fields |= new
            self.logger.warning(
                "The API sent %s does not know (%s): %s",
                what,
                "kept in _extra" if kept else "dropped",
                ", ".join(sorted(new)),
            )

    def _prefetch_next(
        self, response: requests.Response, current: ExportPass, run: ProjectRun
    ) -> None:
        if not self._prefetch_on:
            return
        cursor = current.cursor
        after = prefetch.next_after(
            response, self.list_format, after=cursor.after, per_page=cursor.full
        )
        if after is not None:
            request = prefetch.next_request(self, run.context, after)
            self._prefetch.start(request, run.context)

    @override
    def send_page(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The prefetched answer when this is the request prefetched, else sent."""
        response = self._prefetch.take(prepared_request)
        if response is None:
            response = super().send_page(prepared_request, context)
        return response

    def stopped(self, why: str) -> None:
        """A signal stops the run: the pass under way says so in its summary."""
        if self.run is not None:
            self.run.progress.ended_because = why
