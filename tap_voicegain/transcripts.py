"""The ``transcripts`` stream: each finished call's conversation, by callId.

Not selected by default: it costs one request per call. It walks the calls
exactly as the export pass does (keyset, ``consecutive=true``), with a bookmark
of its own per project, and asks ``GET /sa/{saSessionId}/transcript`` for each
``DONE`` call:

- 200: one record; 404: no transcript, logged (status only) and passed;
- 400 (transcription still in progress): the pass ends just before that call,
  so the next run asks again;
- ``ERROR`` calls and calls without a ``saSessionId`` get no request.

Transcripts are personal data: no log line or error message holds their words.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from http import HTTPStatus
from urllib.parse import quote

import msgspec
from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_voicegain import errors, pages, settings, stuck
from tap_voicegain.client import VoicegainStream
from tap_voicegain.passes import ExportPass, PassPaginator
from tap_voicegain.records import CallNormalizer
from tap_voicegain.transcript_progress import TranscriptProgress
from tap_voicegain.transcript_records import TranscriptReader, transcripts_schema

if t.TYPE_CHECKING:
    from collections.abc import Callable, Generator, Iterable

    import requests
    from backoff.types import Details
    from singer_sdk.helpers.types import Context

TRANSCRIPT_ENDPOINT = "/sa/{saSessionId}/transcript"  # API: format=json|text
STATE_EVERY = 10  # calls between STATE messages: a kill repeats at most these
READY_PHASE = "DONE"  # consecutive=true lists DONE and ERROR calls only


class TranscriptsStream(VoicegainStream):
    """Transcripts of the finished calls of each configured project."""

    name = "transcripts"
    path = "/sa/call"  # the call list it walks; each transcript has its own URL
    replication_key = "callId"
    is_sorted = True
    selected_by_default = False  # one request per call: the user opts in
    schema = transcripts_schema()
    # Records leave TranscriptReader typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the readers, the key and the run's transcript budget."""
        super().__init__(*args, **kwargs)
        self.normalizer = CallNormalizer(keep_unknown=False)
        self.reader = TranscriptReader(
            with_words=bool(self.config.get("transcript_words", False)),
            keep_unknown=bool(self.config.get("keep_unknown_fields", True)),
        )
        per_page = int(self.config.get("per_page", settings.PER_PAGE_DEFAULT))
        self._pass = ExportPass(0, per_page)
        self._progress = TranscriptProgress(settings.DEFAULT_PROJECT, 0)
        budget = self.config.get("transcripts_per_run")
        self._budget: int | None = None if budget is None else int(budget)
        self._send: Callable[..., requests.Response] | None = None
        self._reported_keys: set[str] = set()
        # Replaced by each project's (get_records); none remembered here.
        self._stuck = stuck.StuckCalls(self, "", {}, self.write_state_now)

    # --- the pass ---

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        with self.project_failures(context) as project:
            start = self.starting_call_id(context)
            self._progress = progress = TranscriptProgress(project, start)
            why = self.test_limit_reached()
            if why is not None:
                self.logger.info("Project %s: not read (%s)", project, why)
                return
            if self._budget == 0:
                progress.ended_because = "transcripts_per_run was reached before it"
                progress.log_summary(self.logger)
                return
            self._stuck = stuck_calls = stuck.StuckCalls(
                self,
                project,
                self.get_context_state(context),
                self.write_state_now,
            )
            waited_before = self.rate_limit_waited()
            try:
                yield from self._read_project(progress, stuck_calls, context)
            except Exception as exc:
                progress.ended_because = f"an error: {type(exc).__name__}"
                raise
            finally:
                progress.rate_limit_wait += self.rate_limit_waited() - waited_before
                progress.log_summary(self.logger)

    def _read_project(
        self,
        progress: TranscriptProgress,
        stuck_calls: stuck.StuckCalls,
        context: Context | None,
    ) -> Iterable[dict[str, t.Any]]:
        """Late transcripts of stuck calls, then passes, one after each step over."""
        yield from stuck_calls.late_records(self._late_record)
        why = self.test_limit_reached()  # --test: a late record may be it
        if why is not None:
            progress.ended_because = why
            return
        per_page = int(self.config.get("per_page", settings.PER_PAGE_DEFAULT))
        while True:
            self._pass = ExportPass(progress.bookmark, per_page)
            if not (yield from self._walk(progress, context)):
                return
            why, step_over = stuck_calls.why_ended(progress.bookmark)
            progress.ended_because = why
            if step_over is None or not stuck_calls.step_over(step_over):
                return
            progress.bookmark = step_over

    def _walk(
        self, progress: TranscriptProgress, context: Context | None
    ) -> Generator[dict[str, t.Any], None, bool]:
        """One export pass over the call list; True if it ended on a short page."""
        since_state = 0
        for call in super().get_records(context):
            call_id = call["callId"]
            if call.get("progressPhase") != READY_PHASE or not call.get("saSessionId"):
                progress.skipped += 1
            else:
                if self._budget is not None and self._budget <= 0:
                    progress.ended_because = (
                        f"transcripts_per_run ({self.config['transcripts_per_run']}) "
                        f"was reached; the next run starts after callId "
                        f"{progress.bookmark}"
                    )
                    return False
                record, not_ready = self._transcript(call, context)
                if not_ready is not None and not self._step_over_pending(call):
                    progress.ended_because = f"{not_ready}; the next run asks again"
                    return False
                if record is not None:
                    yield record
                    # The SDK has written the record and moved the bookmark to it.
                    why = self.test_limit_reached()
                    if why is not None:
                        progress.ended_because = why
                        progress.calls += 1
                        progress.bookmark = call_id
                        self._move_bookmark(context, call_id)
                        return False
            progress.calls += 1
            progress.bookmark = call_id
            self._move_bookmark(context, call_id)
            since_state += 1
            if since_state >= STATE_EVERY:
                since_state = 0
                self.write_state_now()
            progress.maybe_log(self.logger)
        return True

    def _step_over_pending(self, call: dict[str, t.Any]) -> bool:
        """A transcript not ready for longer than max_processing_hours: step over.

        The call is remembered in the state, as a stuck call is, and its
        transcript asked for again by each later run until it answers; the
        walk goes on after it. False: the pass ends before the call.
        """
        stuck_calls = self._stuck
        hours = stuck.processing_hours(call, dt.datetime.now(dt.timezone.utc))
        if hours is None or hours <= stuck_calls.limit_hours:
            return False
        self.logger.warning(
            "Project %s: the transcript of callId %d (started %s) is still not "
            "ready after more than max_processing_hours (%g); stepped over and "
            "remembered in the state: a later run reads it once it is ready",
            self._progress.project,
            call["callId"],
            call.get("startTime"),
            stuck_calls.limit_hours,
        )
        return stuck_calls.step_over(call["callId"])

    def _transcript(
        self, call: dict[str, t.Any], context: Context | None
    ) -> tuple[dict[str, t.Any] | None, str | None]:
        """Ask for a DONE call's transcript.

        Returns:
            ``(record, None)``; ``(None, None)`` when it has none (404, logged);
            ``(None, why)`` when it is not ready yet (400).
        """
        progress = self._progress
        call_id = call["callId"]
        response = self._fetch(str(call["saSessionId"]), context)
        if response.status_code == HTTPStatus.BAD_REQUEST:
            return None, (
                f"the transcript of callId {call_id} is not ready (HTTP 400: "
                f"{errors.api_message(response)})"
            )
        if response.status_code == HTTPStatus.NOT_FOUND:
            progress.missing += 1
            self.logger.info(
                "Project %s: callId %d has no transcript (HTTP 404); passed",
                progress.project,
                call_id,
            )
            return None, None
        record = self._record(call, response, progress.project)
        progress.transcripts += 1
        if self._budget is not None:
            self._budget -= 1
        return record, None

    def _late_record(
        self, raw: dict[str, t.Any]
    ) -> tuple[dict[str, t.Any] | None, bool]:
        """A stuck call that has finished: its transcript if any; forget it?"""
        call = self.normalizer.from_json(raw)
        if call.get("progressPhase") != READY_PHASE or not call.get("saSessionId"):
            self._progress.skipped += 1
            return None, True
        if self._budget is not None and self._budget <= 0:
            return None, False  # asked for by the next run
        record, not_ready = self._transcript(call, {"project": self._progress.project})
        if not_ready is not None:
            self.logger.info(
                "Project %s: stuck call: %s; the next run asks again",
                self._progress.project,
                not_ready,
            )
            return None, False
        return record, True

    @override
    def bookmark_moves(self) -> bool:
        # Transcripts of stuck calls come late, below the bookmark: it stays.
        return not self._stuck.reading

    def _move_bookmark(self, context: Context | None, call_id: int) -> None:
        """Past a call: written, or with no transcript to write.

        Calls without a transcript move the bookmark too, so the next run does
        not ask for them again.
        """
        state = self.get_context_state(context)
        if state.get("replication_key_value") != call_id:
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = call_id
            self.state_manager.is_flushed = False

    def _record(
        self, call: dict[str, t.Any], response: requests.Response, project: str
    ) -> dict[str, t.Any]:
        where = f"callId {call['callId']} of project '{project}'"
        content_type = response.headers.get("Content-Type", "").lower()
        try:
            if "html" in content_type or response.content[:64].lstrip()[:1] == b"<":
                msg = f"an HTML page ({content_type or 'no Content-Type'})"
                raise ValueError(msg)  # noqa: TRY301 - one message for every misfit
            try:
                body = msgspec.json.decode(response.content)
            except msgspec.DecodeError:
                # msgspec's message may quote the body: personal data.
                msg = f"JSON that does not parse ({len(response.content)} bytes)"
                raise ValueError(msg) from None
            columns, misfits = self.reader.record(body)
        except ValueError as exc:
            msg = f"The Voicegain API answered the transcript of {where} with {exc}"
            raise errors.BadPageError(msg) from None
        if misfits:
            shown = ", ".join(misfits[:5]) + (", ..." if len(misfits) > 5 else "")  # noqa: PLR2004
            self.logger.warning(
                "Transcript of %s: %d values did not fit their column, kept raw in "
                "_extra: %s",
                where,
                len(misfits),
                shown,
            )
        self._report_unknown_keys()
        return {
            "callId": call["callId"],
            "contextId": call.get("contextId") or self.context_id(project),
            "project": project,
            "saSessionId": call["saSessionId"],
            "startTime": call.get("startTime"),
            **columns,
        }

    def _report_unknown_keys(self) -> None:
        new = self.reader.unknown_keys - self._reported_keys
        if new:
            self._reported_keys |= new
            where = "kept in _extra" if self.reader.keep_unknown else "dropped"
            self.logger.warning(
                "The API sent transcript fields this tap does not know (%s): %s",
                where,
                ", ".join(sorted(new)),
            )

    # --- transcript requests ---

    def _fetch(self, session_id: str, context: Context | None) -> requests.Response:
        url = f"{self.url_base}/sa/{quote(session_id, safe='')}/transcript"
        request = self.build_prepared_request(
            method="GET", url=url, params={"format": "json"}, headers=self.http_headers
        )
        if self._send is None:
            # Retries (429, 5xx, network) as for pages: the same decorator.
            self._send = self.request_decorator(self._send_transcript_request)
        return self._send(request, context)

    def _send_transcript_request(
        self, request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """The SDK's ``_request``, but 400 and 404 are answers, not failures."""
        self._progress.requests += 1
        response = self.requests_session.send(
            self.authenticator(request),
            timeout=self.timeout,
            allow_redirects=self.allow_redirects,
        )
        self._write_request_duration_log(
            endpoint=TRANSCRIPT_ENDPOINT,
            response=response,
            context=context,
            extra_tags=None,
        )
        if response.status_code not in {HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND}:
            self.validate_response(response)
        return response

    def rate_limit_waited(self) -> float:
        """Seconds the HTTP layer's rate limiter has waited for this account.

        Hook for the session-level limiter (``requests_session.limits``, one
        ``RateLimiter`` per account with ``waited_seconds``); 0 without one.
        Waits for a 429's Retry-After are counted in ``backoff_handler``.
        """
        limits = getattr(self.requests_session, "limits", None)
        for_token = getattr(limits, "for_token", None)
        if not callable(for_token):
            return 0.0
        limiter = for_token(self._projects[self._project].token)
        return float(getattr(limiter, "waited_seconds", 0.0) or 0.0)

    @override
    def backoff_handler(self, details: Details) -> None:
        super().backoff_handler(details)
        response = getattr(details.get("exception"), "response", None)
        if getattr(response, "status_code", None) == HTTPStatus.TOO_MANY_REQUESTS:
            self._progress.rate_limit_wait += float(details.get("wait") or 0.0)

    # --- the call list ---

    @override
    def get_new_paginator(self) -> PassPaginator:
        return PassPaginator(self._pass)

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: int | None
    ) -> dict[str, t.Any]:
        return {
            "format": "json",
            **self.filter_params(),
            **self._pass.params(),
            "per_page": self._pass.cursor.per_page,
        }

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        """The calls of one page of the call list (not records of this stream)."""
        current, progress = self._pass, self._progress
        where = (
            f"the call list of project '{progress.project}' "
            f"({errors.request_summary(getattr(response.request, 'url', None))})"
        )
        page = pages.read_page(
            response,
            wanted="json",
            normalizer=self.normalizer,
            after=current.cursor.after,
            where=where,
        )
        current.take(page)
        remaining = response.headers.get("X-Total-Count", "")
        progress.page_done(len(page), int(remaining) if remaining.isdigit() else None)
        return page
