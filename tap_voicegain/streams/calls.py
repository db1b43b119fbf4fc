"""The ``calls`` stream: every call of each project, exported by callId."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_voicegain.records.fields import EXTRA_FIELD, SEGMENT_FIELDS
from tap_voicegain.records.schema import calls_schema, segments_schema
from tap_voicegain.streams.walk import CallListStream

if t.TYPE_CHECKING:
    from tap_voicegain.streams.walk import ProjectRun, Records


class CallsStream(CallListStream):
    """Calls of each configured project, in callId order."""

    name = "calls"
    schema = calls_schema()
    # Records leave the reader typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @property
    @override
    def list_format(self) -> str:  # type: ignore[override]
        return self.settings.format

    @override
    def records_for(self, call: dict[str, t.Any], run: ProjectRun) -> Records:
        return [self.tag(call, run.project)]


class CallSegmentsStream(CallListStream):
    """One record per segment (bot, agent, system part) of each call; opt-in.

    Read from the call list with ``inclSegments=true``, never a request per
    call; in JSON whatever ``format`` says (CSV has no segment columns).
    """

    name = "call_segments"
    selected_by_default = False
    schema = segments_schema()
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE
    unit = "segments"
    incl_segments = True
    reports_call_fields = False  # the calls stream names them

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Key every segment by its project, call and number."""
        super().__init__(*args, **kwargs)
        self.primary_keys = ("contextId", "callId", "segmentSeq")
        self._without_segments = 0  # calls with numSegments > 0 and none sent

    @override
    def records_for(self, call: dict[str, t.Any], run: ProjectRun) -> Records:
        segments = call.get("segments") or []
        kept = (call.get(EXTRA_FIELD) or {}).get("segments")
        if not segments and kept is not None:  # not a list: one row keeps it
            row = dict.fromkeys(f.name for f in SEGMENT_FIELDS)
            segments = [{**row, EXTRA_FIELD: {"segments": kept}}]
        if not segments and (call.get("numSegments") or 0) > 0:
            self._without_segments += 1
            if self._without_segments == 1:
                self.logger.warning(
                    "Project %s: callId %d has numSegments %d but the API sent no "
                    "segments (inclSegments=true ignored?); further such calls are "
                    "not named",
                    run.project,
                    call["callId"],
                    call["numSegments"],
                )
        call = self.tag(call, run.project)
        ids = {"contextId": call["contextId"], "callId": call["callId"]}
        numbers = [segment.get("segmentSeq") for segment in segments]
        if None in numbers or len(set(numbers)) < len(numbers):
            # A key must be unique: the segments' places (they come ordered by
            # start time) number them all, the API's numbers kept in _extra.
            self.logger.warning(
                "Project %s: callId %d sent segment numbers %s (missing, not whole "
                "numbers or repeated): its %d segments are numbered 1..%d by their "
                "order, the numbers sent kept in _extra.segmentSeq",
                run.project,
                call["callId"],
                numbers,
                len(segments),
                len(segments),
            )
            for number, segment in enumerate(segments, start=1):
                extra = segment[EXTRA_FIELD] or {}
                if segment["segmentSeq"] is not None:
                    extra = {**extra, "segmentSeq": segment["segmentSeq"]}
                segment.update({"segmentSeq": number, EXTRA_FIELD: extra or None})
        return [{**ids, **segment, "project": run.project} for segment in segments]
