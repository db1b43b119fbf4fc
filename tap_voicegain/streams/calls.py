"""The ``calls`` stream: every call of each project, exported by callId."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from typing_extensions import override

from tap_voicegain.records.schema import calls_schema
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
