"""What a record must look like, written from the API notes, not from the tap.

Kept separate from the tap's own conversion code on purpose: the tests compare
the tap's records with these expectations, field by field.
"""

from __future__ import annotations

import datetime as dt
import typing as t

STRINGS = [
    "accountId",
    "contextId",
    "direction",
    "externalEndpoint",
    "internalEndpoint",
    "recording",
    "saSessionId",
    "crAnswersId",
    "reviewStatus",
    "reviewNotes",
    "notes",
    "aivrAppId",
    "aivrSessionId",
    "progressPhase",
    "aivrTransferDestType",
    "callCenterCallId",
    "language",
]
INTEGERS = [
    "duration",
    "incidents",
    "numAudioChannels",
    "numSpkChannels",
    "version",
    "dailyRepeatCalls",
]
NUMBERS = ("sentiment", "score")
LISTS = ("tags", "keywords", "topics")

# The guide's columns as record fields (CSV isCallResolved / agent.* / queue.*).
GUIDE_FIELDS = (
    *STRINGS,
    *INTEGERS,
    *NUMBERS,
    *LISTS,
    "callId",
    "originatingCallId",
    "startTime",
    "endTime",
    "agent",
    "queue",
    "isCallResolved",
    "markers",
    "wordCloud",
    "dtmfEvents",
)


def utc(text: str | None) -> str | None:
    if text is None:
        return None
    moment = dt.datetime.strptime(text, "%Y-%m-%dT%H:%M:%SZ").replace(
        tzinfo=dt.timezone.utc
    )
    return moment.isoformat()


def expected_guide_fields(src: dict[str, t.Any]) -> dict[str, t.Any]:
    """The guide-column part of the record for one source call (JSON model)."""
    exp: dict[str, t.Any] = {}
    for name in STRINGS:
        exp[name] = src.get(name) or None
    for name in INTEGERS:
        exp[name] = src.get(name)
    for name in NUMBERS:
        exp[name] = None if src.get(name) is None else float(src[name])
    for name in LISTS:
        exp[name] = list(src[name]) if src.get(name) else None
    exp["callId"] = int(src["callId"])
    exp["originatingCallId"] = (
        int(src["originatingCallId"]) if src.get("originatingCallId") else None
    )
    exp["startTime"] = utc(src.get("startTime"))
    exp["endTime"] = utc(src.get("endTime"))
    agent = src.get("agent")
    exp["agent"] = (
        None
        if not agent
        else {
            "id": agent.get("agentId"),
            "email": agent.get("email"),
            "name": agent.get("name"),
            "userId": agent.get("userId"),
            "channel": agent.get("channel"),
        }
    )
    queue = src.get("queue")
    exp["queue"] = (
        None
        if not queue
        else {
            "id": queue.get("queueId"),
            "name": queue.get("name"),
        }
    )
    exp["isCallResolved"] = src.get("callResolved")
    exp["markers"] = (
        [
            {"time": m["time"], "type": m["type"], "note": m.get("note")}
            for m in src["markers"]
        ]
        if src.get("markers")
        else None
    )
    exp["wordCloud"] = (
        [{"phrase": w["phrase"], "freq": w["freq"]} for w in src["wordCloud"]]
        if src.get("wordCloud")
        else None
    )
    exp["dtmfEvents"] = (
        [
            {"dtmf": e["dtmf"], "timestamp": e["timestamp"], "channel": e["channel"]}
            for e in src["dtmfEvents"]
        ]
        if src.get("dtmfEvents")
        else None
    )
    return exp


def exported(calls: list[dict[str, t.Any]], after: int = 0) -> list[dict[str, t.Any]]:
    """Calls a consecutive export returns after ``after``: cut at the first unfinished
    call."""
    out = []
    for call in sorted(calls, key=lambda c: int(c["callId"])):
        if int(call["callId"]) <= after:
            continue
        if call.get("progressPhase") not in {"DONE", "ERROR"}:
            break
        out.append(call)
    return out
