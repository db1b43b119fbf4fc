"""The one table of the ``calls`` columns: name, JSON key, CSV column, kind.

The schema, the typed structures and both readers are built from
:data:`CALL_FIELDS`; nothing else lists the columns (docs/design.md).
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


def _f(name: str, kind: Kind, description: str, **kw: t.Any) -> Field:  # noqa: ANN401
    return Field(name, kind, description=description, **kw)


def _json(name: str, kind: Kind, description: str, **kw: t.Any) -> Field:  # noqa: ANN401
    """A field of the JSON model that the CSV export does not carry."""
    return Field(name, kind, csv=None, description=description, **kw)


AGENT = (
    SubField("id", "agentId", "agent.id", "External agent id (JSON agent.agentId)."),
    SubField("email", "email", "agent.email", "Agent's email."),
    SubField("name", "name", "agent.name", "Agent's name."),
    SubField("userId", "userId", "agent.userId", "Agent's user id in the SA app."),
    SubField("channel", "channel", "agent.channel", "Audio channel of the agent."),
)
QUEUE = (
    SubField("id", "queueId", "queue.id", "Queue id (JSON queue.queueId)."),
    SubField("name", "name", "queue.name", "Queue name."),
)

# One segment of a call (the model's CallSegment): a bot, agent or system part.
# Read from the calls pages with inclSegments=true; the call_segments stream
# emits one record per segment (streams/calls.py).
SEGMENT_FIELDS: tuple[Field, ...] = (
    _json("segmentSeq", "integer", "Segment number within the call, from 1."),
    _json("type", "string", "bot, agent or system."),
    _json("startTime", "datetime", "Segment start, RFC 3339 UTC."),
    _json("endTime", "datetime", "Segment end, RFC 3339 UTC."),
    _json("startMs", "integer", "Milliseconds from the start of the call."),
    _json("endMs", "integer", "Milliseconds from the start of the call."),
    _json("duration", "number", "Seconds."),
    _json("agent", "nested", "The agent of this segment.", sub=AGENT),
    _json("queue", "nested", "The queue of this segment.", sub=QUEUE),
    _json("team", "string", "The agent's team (user group id)."),
    _json("transferDest", "string", "Where the segment was transferred to."),
    _json("transferDestType", "string", "internal, external or agency."),
    _json("answeringEndpoint", "string", "DNIS or extension that answered."),
    _json("sentiments", "sentiments", "Sentiment per speaker."),
    _json("score", "number", "Final (audited) QA score of the segment."),
    _json("unauditedScore", "number", "QA score before any human audit."),
    _json("keywords", "strings", "Keywords detected."),
    _json("topics", "strings", "Topics detected."),
    _json("tags", "strings", "Tags of the segment."),
    _json("markers", "markers", "Markers within the segment."),
    _json("notes", "string", "Notes of the segment (LLM summary)."),
    _json("reviewNotes", "string", "QA review notes."),
    _json("reviewStatus", "string", "QA review status."),
    _json("crAnswersId", "string", "Id of the QA form answers of the segment."),
    _json("ciAnswersId", "string", "Id of the call insights answers."),
    _json("auditStatus", "string", "not_started, in_progress or complete."),
    _json("auditStartedBy", "string", "userId who started the audit."),
    _json("auditCompletedBy", "string", "userId who completed the audit."),
    _json("auditCompletedDate", "datetime", "When the audit was completed."),
    _json("agentFeedback", "object", "Agent feedback: callNotes, intent."),
    _json("saSessionId", "string", "Speech Analytics session of the segment."),
    _json("saSessionSegmentSeq", "integer", "Segment number in the SA session."),
    _json("progressPhase", "string", "Processing phase of the segment."),
    _json("callCenterCallSegmentId", "string", "Segment id in the CCaaS platform."),
    _json("businessOpenState", "string", "open, off-hours or closed (bot)."),
    _json("callResolved", "boolean", "The segment resolved the issue."),
    _json("incidents", "integer", "Silence and overtalk incidents."),
    _json("wordCloud", "words", "Top words with their frequencies."),
    _json("voicemailDuration", "number", "Seconds of voicemail, if any."),
    _json("voicemailTranscript", "string", "Voicemail transcription, if any."),
    _json("voicemailUuid", "string", "Voicemail recording id, if any."),
    _json("modifiableNote", "string", "User-editable note."),
    _json("voicebotVars", "object", "Voicebot variables (bot segments)."),
    _json("aivrVars", "object", "AIVR variables (bot segments)."),
)

# The guide's columns (in both formats) first, then the JSON model's others.
CALL_FIELDS: tuple[Field, ...] = (
    _f("accountId", "string", "Voicegain account id."),
    _f("contextId", "string", "Voicegain project (context) id."),
    _f("callId", "integer", "Replication key.", json_text=True),
    _f("startTime", "datetime", "RFC 3339, UTC."),
    _f("endTime", "datetime", "RFC 3339, UTC."),
    _f("duration", "integer", "Seconds."),
    _f("direction", "string", "inbound or outbound."),
    _f("externalEndpoint", "string", "ANI for inbound calls."),
    _f("internalEndpoint", "string", "DNIS for inbound calls."),
    _f("recording", "string", "Recording id."),
    _f("saSessionId", "string", "Speech Analytics session id (transcripts)."),
    _f("sentiment", "number", "Caller's average sentiment (deprecated by the API)."),
    _f("crAnswersId", "string", "Id of the QA form answers."),
    _f("score", "number", "Agent score from the QA form (final, audited)."),
    _f("reviewStatus", "string", "QA review stage."),
    _f("reviewNotes", "string", "QA review notes."),
    _f("notes", "string", "LLM call summary; may hold new lines."),
    _f("tags", "strings", "Tags of the call."),
    _f("keywords", "strings", "Keywords detected."),
    _f("topics", "strings", "Topics (intents) detected."),
    _f("incidents", "integer", "Silence and overtalk incidents."),
    _f("wordCloud", "words", "Top words with their frequencies."),
    _f("numAudioChannels", "integer", "Audio channels of the recording."),
    _f("numSpkChannels", "integer", "Speaker channels of the recording."),
    _f("version", "integer", "Call version (1: /sa, 2: /sa/offline)."),
    _f("aivrAppId", "string", "Voicebot (AIVR) app id."),
    _f("aivrSessionId", "string", "Voicebot (AIVR) session id."),
    _f("originatingCallId", "integer", "Call that launched this one.", json_text=True),
    _f("progressPhase", "string", "Processing phase (README: Phases)."),
    _f("aivrTransferDestType", "string", "internal, external or agency."),
    _f("callCenterCallId", "string", "Call id in the call center (e.g. Aircall)."),
    _f("language", "string", "Language code."),
    _f("dtmfEvents", "dtmf", "DTMF events."),
    _f("dailyRepeatCalls", "integer", "Repeat calls from the same ANI in 24 h."),
    _f("markers", "markers", "Parts of the call (time ms, type, note)."),
    _f("agent", "nested", "The agent.", sub=AGENT),
    _f("queue", "nested", "The queue.", sub=QUEUE),
    _f("isCallResolved", "boolean", "JSON field callResolved.", json="callResolved"),
    _json("team", "string", "The agent's team (user group id)."),
    _json("abandoned", "boolean", "The caller hung up in the queue."),
    _json("whoHungUp", "string", "us or other_party."),
    _json("businessOpenState", "string", "open, off-hours or closed."),
    _json("aivrPlatform", "string", "Platform of the voicebot app."),
    _json("aivrVars", "object", "Variables of the voicebot session."),
    _json("voicebotVars", "object", "Voicebot variables (intent, caller type...)."),
    _json("voicebotDuration", "number", "Seconds of the voicebot part."),
    _json("voicemailDuration", "number", "Seconds of voicemail, if any."),
    _json("voicemailTranscript", "string", "Voicemail transcription, if any."),
    _json("voicemailUuid", "string", "Voicemail recording id, if any."),
    _json("modifiableNote", "string", "User-editable note."),
    _json("expiryTime", "datetime", "When the call's data is deleted."),
    _json("csat", "number", "Customer satisfaction score."),
    _json("nps", "number", "Net Promoter Score."),
    _json("sentiments", "sentiments", "Sentiment per speaker."),
    _json("ciAnswersId", "string", "Id of the call insights answers."),
    _json("auditStatus", "string", "not_started, in_progress or complete."),
    _json("copilotSent", "number", "Messages sent to Copilot."),
    _json("copilotUnAck", "number", "Copilot messages not acknowledged."),
    _json("inboundRtpQuality", "object", "RTP quality of the inbound audio."),
    _json("outboundRtpQuality", "object", "RTP quality of the outbound audio."),
    _json("lastRecomputeTime", "datetime", "End of the last recompute."),
    _json("mergedAudioId", "string", "Merged (maybe redacted) audio id."),
    _json("numSegments", "integer", "Segments of the call (call_segments)."),
    _json("queueWaitMs", "integer", "Milliseconds waited in the queue."),
    _json("recomputePhase", "string", "Phase of a recompute."),
    _json("spawnedCalls", "strings", "callIds spawned by warm transfers."),
    # One row per segment is the call_segments stream; here only when the API
    # sends them unasked (the calls stream never sends inclSegments=true).
    _json(
        "segments", "rows", "Null: see the call_segments stream.", sub=SEGMENT_FIELDS
    ),
    _json("unauditedScore", "number", "QA score before any human audit."),
    _json("referenceNumber", "string", "Reference(s) the voicebot read out."),
    _json("billing", "object", "Billing: basis, billingClass, counts, transactions."),
    _json("copilotDisplay", "object", "Last Copilot card shown: schemaVersion, cards."),
    _json("vonageCallStats", "object", "Vonage post-call statistics."),
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
