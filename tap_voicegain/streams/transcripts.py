"""The ``transcripts`` stream: each finished call's conversation, by callId.

Opt-in (a request per call); how each answer is handled is in docs/design.md.
Transcripts are personal data: no log line or error holds their words.
"""

from __future__ import annotations

import typing as t
from http import HTTPStatus
from urllib.parse import quote

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_voicegain import errors
from tap_voicegain.http import answers
from tap_voicegain.records.transcripts import TranscriptReader, transcripts_schema
from tap_voicegain.streams.walk import CallListStream

if t.TYPE_CHECKING:
    from tap_voicegain.streams.walk import ProjectRun, Records

TRANSCRIPT_ENDPOINT = "/sa/{saSessionId}/transcript"  # API: format=json|text
READY_PHASE = "DONE"  # a transcript exists for DONE calls only
ANSWERS_READ = frozenset({HTTPStatus.OK, HTTPStatus.BAD_REQUEST, HTTPStatus.NOT_FOUND})


class TranscriptsStream(CallListStream):
    """Transcripts of the finished calls of each configured project."""

    name = "transcripts"
    selected_by_default = False  # one request per call: the user opts in
    schema = transcripts_schema()
    # Records leave TranscriptReader typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    unit = "transcripts"
    label = "transcripts"
    refreshes = False
    state_every_calls = 10  # a kill repeats at most these transcripts
    reports_call_fields = False  # the calls stream names them

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the transcript reader and the run's request budget."""
        super().__init__(*args, **kwargs)
        self.reader.keep_unknown = False  # the call list: only what the key needs
        self.transcripts = TranscriptReader(
            with_words=self.settings.transcript_words,
            keep_unknown=self.settings.keep_unknown_fields,
        )
        self.requests_sent = 0  # requests about one call, for transcripts_per_run

    @override
    def budget_left(self) -> str | None:
        budget = self.settings.transcripts_per_run
        if budget is not None and self.requests_sent >= budget:
            return (
                f"transcripts_per_run ({budget}) was reached: {self.requests_sent} "
                "requests sent; the next run goes on"
            )
        return None

    @override
    def on_request_sent(self) -> None:
        self.requests_sent += 1
        if self.run is not None:
            self.run.progress.requests += 1

    @override
    def records_for(self, call: dict[str, t.Any], run: ProjectRun) -> Records:
        session = call.get("saSessionId")
        if call.get("progressPhase") != READY_PHASE or not session:
            run.progress.skipped += 1
            return []
        call_id = call["callId"]
        path = f"GET {TRANSCRIPT_ENDPOINT}"
        response = self.send_one(
            f"{self.url_base}/sa/{quote(str(session), safe='')}/transcript",
            {"format": "json"},
            TRANSCRIPT_ENDPOINT,
            lambda r: r.status_code in ANSWERS_READ,
        )
        status = response.status_code
        if status == HTTPStatus.BAD_REQUEST:
            msg = f"the transcript of callId {call_id} is not ready (HTTP 400)"
            raise errors.NotReadyError(msg)
        if status == HTTPStatus.NOT_FOUND:
            run.progress.missing += 1
            self.logger.info(
                "Project %s: callId %d has no transcript (HTTP 404); passed",
                run.project,
                call_id,
            )
            return []
        why = answers.not_the_export(response, "json")
        try:
            if why is not None:
                raise ValueError(why.split(":")[0])  # noqa: TRY301 - one way out
            columns, misfits = self.transcripts.read(response.content)
        except ValueError as exc:
            why = f"not a transcript: {exc}"
            raise errors.CallRequestError(why, 200, path) from None
        if misfits:
            shown = ", ".join(misfits[:5]) + (", ..." if len(misfits) > 5 else "")  # noqa: PLR2004
            self.logger.warning(
                "Transcript of callId %s of project '%s': %d values did not fit their "
                "column, kept raw in _extra: %s",
                call_id,
                run.project,
                len(misfits),
                shown,
            )
        words = self.transcripts
        what = "transcript fields this tap"
        self.report_unknown(words.unknown_keys, kept=words.keep_unknown, what=what)

        record = {
            "callId": call_id,
            "contextId": call.get("contextId"),
            "project": run.project,
            "saSessionId": session,
            "startTime": call.get("startTime"),
            **columns,
        }
        return [self.tag(record, run.project)]
