"""The ``calls`` stream: every call of each project, exported by callId."""

from __future__ import annotations

import datetime as dt
import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_voicegain import errors, pages, prefetch, settings, state, stuck
from tap_voicegain.client import VoicegainStream
from tap_voicegain.fastpath import sdk_covered
from tap_voicegain.normalize import parse_datetime
from tap_voicegain.passes import ExportPass, Pass, PassPaginator, RefreshPass
from tap_voicegain.progress import PassProgress
from tap_voicegain.records import CallNormalizer
from tap_voicegain.schema import calls_schema

if t.TYPE_CHECKING:
    from collections.abc import Generator, Iterable

    import requests
    from singer_sdk.helpers.types import Context


class CallsStream(VoicegainStream):
    """Calls of each configured project, in callId order."""

    name = "calls"
    path = "/sa/call"
    replication_key = "callId"
    # consecutive=true sorts by callId, so the bookmark can advance record by
    # record and an interrupted run resumes where it stopped.
    is_sorted = True
    schema = calls_schema()
    # Records leave CallNormalizer already typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the record normaliser."""
        super().__init__(*args, **kwargs)
        self.normalizer = CallNormalizer(
            csv_timezone=self.config.get("csv_timezone", "UTC"),
            keep_unknown=self.config.get("keep_unknown_fields", True),
            empty_nested=bool(self.config.get("flattening_enabled")),
            strict_values=bool(self.config.get("strict_values", False)),
            logger=self.logger,
        )
        per_page = int(self.config.get("per_page", settings.PER_PAGE_DEFAULT))
        self._pass: Pass = ExportPass(0, per_page)
        self._progress = PassProgress(settings.DEFAULT_PROJECT, "export", 0, per_page)
        self._reported_fields: set[str] = set()
        # Replaced by each project's (_project_records); none remembered here.
        self._stuck = stuck.StuckCalls(self, "", {}, self.write_state_now)
        self._pass_first = 0  # records_out when the current pass began
        self._prefetch = prefetch.Prefetch(super()._request, self.request_decorator)
        self._prefetch_context: Context | None = None
        # It answers through the SDK's private _request: only on SDK versions
        # the tests cover (README, "Private SDK hooks").
        self._prefetch_on = sdk_covered()

    # --- passes ---

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        project = (context or {}).get("project", settings.DEFAULT_PROJECT)
        why = self.test_limit_reached()
        if why is not None:
            self.logger.info("Project %s: not read (%s)", project, why)
            return
        records = iter(self._project_records(context))
        try:
            for record in records:
                yield record
                why = self.test_limit_reached()
                if why is not None:
                    # The summary counts what was written, not the page read.
                    self._progress.calls = self.records_out - self._pass_first
                    if self.bookmark_moves():
                        self._pass.cursor.emitted = record["callId"]
                    self._progress.ended_because = why
                    break
        finally:
            close = getattr(records, "close", None)
            if close is not None:
                close()  # the pass logs its summary now

    def _project_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        with self.project_failures(context) as project:
            per_page = int(self.config.get("per_page", settings.PER_PAGE_DEFAULT))
            partition = self.get_context_state(context)
            self._stuck = stuck_calls = stuck.StuckCalls(
                self, project, partition, self.write_state_now
            )
            yield from stuck_calls.late_records(self._late_record)
            export = ExportPass(self.starting_call_id(context), per_page)
            while True:
                step_over = yield from self._read_pass(export, project, context)
                if step_over is None or not stuck_calls.step_over(step_over):
                    break
                export = ExportPass(step_over, per_page)
            since = self._refresh_since()
            if since is not None:
                refresh = RefreshPass(
                    export.cursor.emitted,
                    since,
                    per_page,
                    skip=frozenset(state.stuck_ids(partition)),
                )
                yield from self._read_pass(refresh, project, context)

    def _late_record(self, call: dict[str, t.Any]) -> tuple[dict[str, t.Any], bool]:
        """A stuck call that has finished: its record, and forget it."""
        return self._tag(self.normalizer.from_json(call), self._stuck.project), True

    def stopped(self, why: str) -> None:
        """A signal stops the run: the pass under way says so in its summary."""
        self._progress.ended_because = why

    def _refresh_since(self) -> str | None:
        """``fromTime`` of the refresh pass: N days ago, or ``from_time`` if later."""
        days = int(self.config.get("refresh_window_days") or 0)
        if days <= 0:
            return None
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
        from_time = self.config.get("from_time")
        # Compared as instants: the setting may carry any UTC offset.
        if from_time and parse_datetime(str(from_time)) > since:
            return str(from_time)
        return since.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _read_pass(
        self, current: Pass, project: str, context: Context | None
    ) -> Generator[dict[str, t.Any], None, int | None]:
        """Read one pass; return a stuck call to step over (export passes only)."""
        self._pass = current
        self._progress = progress = PassProgress(
            project, current.label, current.start, current.cursor.per_page
        )
        retries_before, waits_before = self.retries, self.rate_limits.waits
        self._pass_first = self.records_out
        step_over = None
        self._prefetch_context = context
        try:
            with self._prefetch.closing():
                yield from super().get_records(context)
            if current.moves_bookmark:
                why, step_over = self._stuck.why_ended(current.cursor.emitted)
            else:
                why = "the refresh window was read"
            progress.ended_because = why
        except Exception as exc:
            progress.ended_because = f"an error: {type(exc).__name__}"
            raise
        finally:
            progress.kept_raw = self.normalizer.raw.take_counts()
            progress.log_summary(
                self.logger,
                self.retries - retries_before,
                current.cursor.emitted,
                self.rate_limits.waits - waits_before,
            )
        return step_over

    # --- requests ---

    @override
    def get_new_paginator(self) -> PassPaginator:
        return PassPaginator(self._pass)

    @override
    def get_url_params(
        self,
        context: Context | None,
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        params: dict[str, t.Any] = {
            "format": self.config.get("format", "json"),
            **self.filter_params(),
            **self._pass.params(),
            "per_page": self._pass.cursor.per_page,
        }
        if next_page_token is not None:
            # The paginator's token is the cursor's afterCallId; a prefetch
            # passes the one it read from the body's tail (prefetch.py).
            params["afterCallId"] = next_page_token
        return params

    # --- answers ---

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        current, progress = self._pass, self._progress
        cursor = current.cursor
        where = (
            f"page {progress.pages + 1} of project '{progress.project}' "
            f"({errors.request_summary(getattr(response.request, 'url', None))})"
        )
        self._prefetch_next(response, current)
        page = pages.read_page(  # whole page first: a bad page emits nothing
            response,
            wanted=self.config.get("format", "json"),
            normalizer=self.normalizer,
            after=cursor.after,
            where=where,
        )
        current.take(page)
        remaining = response.headers.get("X-Total-Count", "")
        progress.page_done(len(page), int(remaining) if remaining.isdigit() else None)
        context_id = self.context_id(progress.project)
        for record in page:
            if not current.keep(record):
                continue
            yield self._tag(record, progress.project, context_id)
            # The SDK has now written this record (and moved the bookmark to it).
            if current.moves_bookmark:
                cursor.emitted = record["callId"]
        if page and current.moves_bookmark and not self.batching:
            # A STATE message after every page, not only every 10,000 records.
            # (With batch_config the SDK writes one after each BATCH message: a
            # STATE here would cover records not yet in any batch file.)
            self._write_state_message()
        self._report_unknown_fields()
        if page:
            progress.log_page(self.logger, cursor.after)

    # --- prefetch (prefetch.py): the next request while this page is worked on ---

    def _prefetch_next(self, response: requests.Response, current: Pass) -> None:
        """Send the next page's request ahead when this page looks full."""
        if not self._prefetch_on:
            return
        cursor = current.cursor
        after = prefetch.next_after(
            response,
            self.config.get("format", "json"),
            after=cursor.after,
            per_page=cursor.per_page,
            # The refresh pass ends past the bookmark.
            up_to=current.bookmark if isinstance(current, RefreshPass) else None,
        )
        if after is not None:
            context = self._prefetch_context
            self._prefetch.start(prefetch.next_request(self, context, after), context)

    @override
    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The prefetched answer when this is the request prefetched, else sent."""
        response = self._prefetch.take(prepared_request)
        if response is None:
            response = super()._request(prepared_request, context)
        return response

    def _tag(
        self, record: dict[str, t.Any], project: str, context_id: str | None = None
    ) -> dict[str, t.Any]:
        """Add the project's name, and its contextId where the API sent none."""
        record["project"] = project
        if record["contextId"] is None:
            context_id = context_id or self.context_id(project)
            record["contextId"] = context_id  # the token names its project
            if context_id is None and "contextId" in self.primary_keys:
                msg = (
                    f"callId {record['callId']} of project '{project}' "
                    "has no contextId, which is part of the key with projects"
                )
                raise errors.BadPageError(msg)
        return record

    def _report_unknown_fields(self) -> None:
        """Name the fields the schema does not know, once per run."""
        new = self.normalizer.unknown_fields - self._reported_fields
        if new:
            self._reported_fields |= new
            where = "kept in _extra" if self.normalizer.keep_unknown else "dropped"
            self.logger.warning(
                "The API sent fields this tap's schema does not know (%s): %s",
                where,
                ", ".join(sorted(new)),
            )

    @override
    def bookmark_moves(self) -> bool:
        # The refresh pass and stuck calls emitted late re-emit older callIds:
        # the bookmark stays.
        return self._pass.moves_bookmark and not self._stuck.reading
