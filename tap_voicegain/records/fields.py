"""The one table of the ``calls`` columns: name, JSON key, CSV column, kind.

The record schema (``schema.py``), the typed structures (``typed.py``) and both
readers (``reader.py``) are built from :data:`CALL_FIELDS`; nothing else lists
the columns. Order is the record's
key order. Column names follow the vendor's export guide; the API's JSON model
names three of them differently (``callResolved``, ``agent.agentId``,
``queue.queueId``), and has fields the CSV export does not (``csv=None``).
"""

from __future__ import annotations

import dataclasses
import typing as t

Kind = t.Literal[
    "string",
    "integer",
    "number",
    "boolean",
    "datetime",
    "strings",  # list of strings; CSV: a|b|c
    "markers",  # [{time, type, note}]; CSV: time,type,note|...
    "words",  # [{phrase, freq}]; CSV layout undocumented (README)
    "dtmf",  # [{dtmf, timestamp, channel}]; CSV layout undocumented (README)
    "sentiments",  # [{speaker, average, final, trend}]; JSON only
    "object",  # an open JSON object, kept as it is
    "objects",  # a list of open JSON objects, kept as they are
    "nested",  # agent / queue: an object of string sub-fields
    "rows",  # a list of objects of another field table (segments)
]

EXTRA_FIELD = "_extra"  # fields the API sent that this table does not know
PROJECT_FIELD = "project"  # the configured project a call was read from
# callId is a signed 64-bit integer in every warehouse: a larger one would move
# the bookmark past every later call.
CALL_ID_MAX = 2**63 - 1


@dataclasses.dataclass(frozen=True)
class SubField:
    """A string sub-field of ``agent`` or ``queue``."""

    name: str
    json: str
    csv: str
    description: str | None = None


@dataclasses.dataclass(frozen=True)
class Field:
    """One column of a ``calls`` record and where each format carries it."""

    name: str
    kind: Kind
    json: str | None = ""  # "" = same as name; None = not in JSON
    csv: str | None = ""  # "" = same as name; None = not in CSV
    description: str | None = None
    sub: tuple[t.Any, ...] = ()  # SubFields of nested, Fields of rows
    # An integer the JSON model sends as numeric text ("10042"); both are read.
    json_text: bool = False

    @property
    def json_key(self) -> str | None:
        """The field's key in the API's JSON objects."""
        return self.name if self.json == "" else self.json

    @property
    def csv_column(self) -> str | None:
        """The field's column in the API's CSV header (nested: None)."""
        if self.kind == "nested":
            return None
        return self.name if self.csv == "" else self.csv


def _f(name: str, kind: Kind, description: str | None = None, **kw: t.Any) -> Field:  # noqa: ANN401
    return Field(name, kind, description=description, **kw)


def _json_only(name: str, kind: Kind, description: str | None = None) -> Field:
    return Field(name, kind, csv=None, description=description)


AGENT = (
    SubField("id", "agentId", "agent.id", "External agent id (JSON agent.agentId)."),
    SubField("email", "email", "agent.email"),
    SubField("name", "name", "agent.name"),
    SubField("userId", "userId", "agent.userId", "Agent's user id in the SA app."),
    SubField("channel", "channel", "agent.channel", "Audio channel of the agent."),
)
QUEUE = (
    SubField("id", "queueId", "queue.id", "Queue id (JSON queue.queueId)."),
    SubField("name", "name", "queue.name"),
)

# The guide's columns (in both formats) first, then the JSON model's extras.
CALL_FIELDS: tuple[Field, ...] = (
    _f("accountId", "string"),
    _f("contextId", "string", "Voicegain project (context) id."),
    _f("callId", "integer", "Replication key.", json_text=True),
    _f("startTime", "datetime", "RFC 3339, UTC."),
    _f("endTime", "datetime", "RFC 3339, UTC."),
    _f("duration", "integer", "Seconds."),
    _f("direction", "string"),
    _f("externalEndpoint", "string", "ANI for inbound calls."),
    _f("internalEndpoint", "string", "DNIS for inbound calls."),
    _f("recording", "string", "Recording id."),
    _f("saSessionId", "string"),
    _f("sentiment", "number"),
    _f("crAnswersId", "string", "Id of the QA form answers."),
    _f("score", "number", "Agent score from the QA form."),
    _f("reviewStatus", "string"),
    _f("reviewNotes", "string"),
    _f("notes", "string", "LLM call summary; may hold new lines."),
    _f("tags", "strings"),
    _f("keywords", "strings"),
    _f("topics", "strings"),
    _f("incidents", "integer"),
    _f("wordCloud", "words"),
    _f("numAudioChannels", "integer"),
    _f("numSpkChannels", "integer"),
    _f("version", "integer"),
    _f("aivrAppId", "string"),
    _f("aivrSessionId", "string"),
    _f("originatingCallId", "integer", json_text=True),
    _f("progressPhase", "string"),
    _f("aivrTransferDestType", "string"),
    _f("callCenterCallId", "string"),
    _f("language", "string"),
    _f("dtmfEvents", "dtmf"),
    _f("dailyRepeatCalls", "integer"),
    _f("markers", "markers"),
    _f("agent", "nested", sub=AGENT),
    _f("queue", "nested", sub=QUEUE),
    _f("isCallResolved", "boolean", "JSON field callResolved.", json="callResolved"),
    _json_only("team", "string"),
    _json_only("abandoned", "boolean"),
    _json_only("whoHungUp", "string"),
    _json_only("businessOpenState", "string"),
    _json_only("aivrPlatform", "string"),
    _json_only("aivrVars", "object"),
    _json_only("voicebotVars", "object"),
    _json_only("voicebotDuration", "number"),
    _json_only("voicemailDuration", "number"),
    _json_only("voicemailTranscript", "string"),
    _json_only("voicemailUuid", "string"),
    _json_only("modifiableNote", "string"),
    _json_only("expiryTime", "datetime"),
    _json_only("csat", "number"),
    _json_only("nps", "number"),
    _json_only("sentiments", "sentiments"),
    _json_only("ciAnswersId", "string"),
    _json_only("auditStatus", "string"),
    _json_only("copilotSent", "number"),
    _json_only("copilotUnAck", "number"),
    _json_only("inboundRtpQuality", "object"),
    _json_only("outboundRtpQuality", "object"),
    _json_only("lastRecomputeTime", "datetime"),
    _json_only("mergedAudioId", "string"),
    _json_only("numSegments", "integer"),
    _json_only("queueWaitMs", "integer"),
    _json_only("recomputePhase", "string"),
    _json_only("spawnedCalls", "strings"),
    _json_only("segments", "objects"),
    Field(
        EXTRA_FIELD,
        "object",
        json=None,
        csv=None,
        description="Fields the API sent that this schema does not know yet, "
        "and values kept raw that did not fit their column (README).",
    ),
    Field(
        PROJECT_FIELD,
        "string",
        json=None,
        csv=None,
        description="Name of the Voicegain project the call was read from.",
    ),
)

RECORD_FIELDS = tuple(field.name for field in CALL_FIELDS)
