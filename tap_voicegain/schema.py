"""JSON schema of one exported call (the ``calls`` stream's record).

Column names follow the vendor's export guide; the dotted CSV columns
(``agent.*``, ``queue.*``) become nested objects. Fields the API's JSON model
has beyond the guide's list are typed here too.
"""

from __future__ import annotations

from singer_sdk import typing as th

# Shared fragments, reused wherever the same shape appears.
STRING_LIST = th.ArrayType(th.StringType)
OPEN_OBJECT = th.ObjectType(additional_properties=True)

AGENT = th.ObjectType(
    th.Property(
        "id",
        th.StringType,
        description="External agent id (CSV agent.id, JSON agent.agentId).",
    ),
    th.Property("email", th.StringType),
    th.Property("name", th.StringType),
    th.Property(
        "userId",
        th.StringType,
        description="Agent's user id in the Speech Analytics app.",
    ),
    th.Property(
        "channel",
        th.StringType,
        description="Audio channel of the agent: left or right.",
    ),
)
QUEUE = th.ObjectType(
    th.Property(
        "id", th.StringType, description="Queue id (CSV queue.id, JSON queue.queueId)."
    ),
    th.Property("name", th.StringType),
)
MARKER = th.ObjectType(
    th.Property("time", th.IntegerType, description="Offset into the call, ms."),
    th.Property("type", th.StringType),
    th.Property("note", th.StringType),
)
WORD = th.ObjectType(
    th.Property("phrase", th.StringType),
    th.Property("freq", th.IntegerType),
)
DTMF_EVENT = th.ObjectType(
    th.Property("dtmf", th.StringType),
    th.Property("timestamp", th.IntegerType),
    th.Property("channel", th.StringType),
)
SENTIMENT = th.ObjectType(
    th.Property("speaker", th.StringType, description="caller or agent"),
    th.Property("average", th.NumberType),
    th.Property("final", th.NumberType),
    th.Property("trend", th.NumberType),
)

# The guide's column list, in its order.
GUIDE_PROPERTIES = th.PropertiesList(
    th.Property("accountId", th.StringType),
    th.Property(
        "contextId", th.StringType, description="Voicegain project (context) id."
    ),
    th.Property(
        "callId", th.IntegerType, required=True, description="Replication key."
    ),
    th.Property("startTime", th.DateTimeType, description="RFC 3339, UTC."),
    th.Property("endTime", th.DateTimeType, description="RFC 3339, UTC."),
    th.Property("duration", th.IntegerType, description="Seconds."),
    th.Property("direction", th.StringType),
    th.Property(
        "externalEndpoint", th.StringType, description="ANI for inbound calls."
    ),
    th.Property(
        "internalEndpoint", th.StringType, description="DNIS for inbound calls."
    ),
    th.Property("recording", th.StringType, description="Recording id."),
    th.Property("saSessionId", th.StringType),
    th.Property("agent", AGENT),
    th.Property("queue", QUEUE),
    th.Property("sentiment", th.NumberType),
    th.Property("crAnswersId", th.StringType, description="Id of the QA form answers."),
    th.Property("score", th.NumberType, description="Agent score from the QA form."),
    th.Property("reviewStatus", th.StringType),
    th.Property("reviewNotes", th.StringType),
    th.Property(
        "notes", th.StringType, description="LLM call summary; may hold new lines."
    ),
    th.Property("tags", STRING_LIST),
    th.Property("keywords", STRING_LIST),
    th.Property("topics", STRING_LIST),
    th.Property(
        "isCallResolved", th.BooleanType, description="JSON field callResolved."
    ),
    th.Property("incidents", th.IntegerType),
    th.Property("wordCloud", th.ArrayType(WORD)),
    th.Property("numAudioChannels", th.IntegerType),
    th.Property("numSpkChannels", th.IntegerType),
    th.Property("version", th.IntegerType),
    th.Property("aivrAppId", th.StringType),
    th.Property("aivrSessionId", th.StringType),
    th.Property("originatingCallId", th.IntegerType),
    th.Property("progressPhase", th.StringType),
    th.Property("aivrTransferDestType", th.StringType),
    th.Property("callCenterCallId", th.StringType),
    th.Property("language", th.StringType),
    th.Property("dtmfEvents", th.ArrayType(DTMF_EVENT)),
    th.Property("dailyRepeatCalls", th.IntegerType),
    th.Property("markers", th.ArrayType(MARKER)),
)

# Fields of the API's JSON model (VoiceCall) beyond the guide's list.
JSON_MODEL_PROPERTIES = th.PropertiesList(
    th.Property("team", th.StringType),
    th.Property("abandoned", th.BooleanType),
    th.Property("whoHungUp", th.StringType),
    th.Property("businessOpenState", th.StringType),
    th.Property("aivrPlatform", th.StringType),
    th.Property("aivrVars", OPEN_OBJECT),
    th.Property("voicebotVars", OPEN_OBJECT),
    th.Property("voicebotDuration", th.NumberType),
    th.Property("voicemailDuration", th.NumberType),
    th.Property("voicemailTranscript", th.StringType),
    th.Property("voicemailUuid", th.StringType),
    th.Property("modifiableNote", th.StringType),
    th.Property("expiryTime", th.DateTimeType),
    th.Property("csat", th.NumberType),
    th.Property("nps", th.NumberType),
    th.Property("sentiments", th.ArrayType(SENTIMENT)),
    th.Property("ciAnswersId", th.StringType),
    th.Property("auditStatus", th.StringType),
    th.Property("copilotSent", th.NumberType),
    th.Property("copilotUnAck", th.NumberType),
    th.Property("inboundRtpQuality", OPEN_OBJECT),
    th.Property("outboundRtpQuality", OPEN_OBJECT),
    th.Property("lastRecomputeTime", th.DateTimeType),
    th.Property("mergedAudioId", th.StringType),
    th.Property("numSegments", th.IntegerType),
    th.Property("queueWaitMs", th.IntegerType),
    th.Property("recomputePhase", th.StringType),
    th.Property("spawnedCalls", STRING_LIST),
    th.Property("segments", th.ArrayType(OPEN_OBJECT)),
)

# Columns the tap adds.
TAP_PROPERTIES = th.PropertiesList(
    th.Property(
        "project",
        th.StringType,
        description="Name of the Voicegain project the call was read from.",
    ),
    th.Property(
        "_extra",
        OPEN_OBJECT,
        description="Fields the API sent that this schema does not know yet.",
    ),
)


def calls_schema() -> dict:  # type: ignore[type-arg]
    """Return the JSON schema of the ``calls`` stream."""
    schema = GUIDE_PROPERTIES.to_dict()
    for extra in (JSON_MODEL_PROPERTIES, TAP_PROPERTIES):
        schema["properties"].update(extra.to_dict()["properties"])
    return schema
