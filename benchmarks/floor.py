# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The msgspec floor: typed decode + encode of the tap's records, no SDK.

Issue 22 measures the tap against "a hand-written msgspec loop (typed decode +
encode, no SDK)". This is that loop, on the same keyset requests as the tap
(``format=…&consecutive=true&afterCallId=<last callId>&page=1&per_page=P``,
stopping on a short page), through one ``requests.Session``:

- ``json``: each page decoded by ``msgspec.json`` straight into typed structures
  (callId from numeric text to int, times to datetime, agent/queue/markers/...
  as structures), renamed to the record's column names, and written as Singer
  ``RECORD`` lines (``stream``, ``record``, ``time_extracted``) by
  ``Encoder.encode_lines``: the same columns, types and nulls as the tap's
  records.
- ``csv``: ``csv.reader`` rows; each non-empty cell converted by its column's
  kind (int, float, bool, ``MM-DD-YYYY h:mm:ss AM`` in UTC, ``a|b`` lists,
  ``time,type,note|...`` markers, ...) into the same structures, then encoded
  the same way.
- ``transcripts``: the call pages (typed: callId, saSessionId, phase, ...),
  then one ``GET /sa/{saSessionId}/transcript?format=json`` per DONE call,
  decoded into typed sections and words; the record the tap's transcripts
  stream writes by default (text lines, sections, speaker figures, no words).

What it leaves out is what makes the tap a tap: settings, schema messages,
state, retries, rate limits, value checks with a fallback, unknown fields,
logging. It is a floor, not a rival::

    python benchmarks/floor.py --url http://127.0.0.1:8765/v1 --token T \
        --format json --per-page 1000 --out /dev/null

It prints ``floor exported N calls`` on stderr, like the tap's summary line.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import sys
import typing as t

import msgspec
import requests

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator, Sequence

TIMEOUT = 60.0
UTC = dt.timezone.utc
# The tap's project name for a single-token configuration.
PROJECT = "default"

Obj = dict[str, t.Any]


class _S(msgspec.Struct, omit_defaults=False, gc=False):
    """Base of every structure: no GC tracking (no cycles), nulls written."""


class Marker(_S):
    time: int | None = None
    type: str | None = None
    note: str | None = None


class Word(_S):
    phrase: str | None = None
    freq: int | None = None


class Dtmf(_S):
    dtmf: str | None = None
    timestamp: int | None = None
    channel: str | None = None


class Sentiment(_S):
    speaker: str | None = None
    average: float | None = None
    final: float | None = None
    trend: float | None = None


class AgentIn(_S, rename={"id": "agentId"}):
    id: str | None = None
    email: str | None = None
    name: str | None = None
    userId: str | None = None  # noqa: N815 - the API's name
    channel: str | None = None


class Agent(_S):
    id: str | None = None
    email: str | None = None
    name: str | None = None
    userId: str | None = None  # noqa: N815
    channel: str | None = None


class QueueIn(_S, rename={"id": "queueId"}):
    id: str | None = None
    name: str | None = None


class Queue(_S):
    id: str | None = None
    name: str | None = None


# The record's columns in the tap's order, with their types; the JSON names
# differ in three places (isCallResolved, agent.id, queue.id).
COLUMNS: tuple[tuple[str, t.Any], ...] = (
    ("accountId", str),
    ("contextId", str),
    ("callId", int),
    ("startTime", dt.datetime),
    ("endTime", dt.datetime),
    ("duration", int),
    ("direction", str),
    ("externalEndpoint", str),
    ("internalEndpoint", str),
    ("recording", str),
    ("saSessionId", str),
    ("sentiment", float),
    ("crAnswersId", str),
    ("score", float),
    ("reviewStatus", str),
    ("reviewNotes", str),
    ("notes", str),
    ("tags", list[str]),
    ("keywords", list[str]),
    ("topics", list[str]),
    ("incidents", int),
    ("wordCloud", list[Word]),
    ("numAudioChannels", int),
    ("numSpkChannels", int),
    ("version", int),
    ("aivrAppId", str),
    ("aivrSessionId", str),
    ("originatingCallId", int),
    ("progressPhase", str),
    ("aivrTransferDestType", str),
    ("callCenterCallId", str),
    ("language", str),
    ("dtmfEvents", list[Dtmf]),
    ("dailyRepeatCalls", int),
    ("markers", list[Marker]),
    ("agent", Agent),
    ("queue", Queue),
    ("isCallResolved", bool),
    ("team", str),
    ("abandoned", bool),
    ("whoHungUp", str),
    ("businessOpenState", str),
    ("aivrPlatform", str),
    ("aivrVars", Obj),
    ("voicebotVars", Obj),
    ("voicebotDuration", float),
    ("voicemailDuration", float),
    ("voicemailTranscript", str),
    ("voicemailUuid", str),
    ("modifiableNote", str),
    ("expiryTime", dt.datetime),
    ("csat", float),
    ("nps", float),
    ("sentiments", list[Sentiment]),
    ("ciAnswersId", str),
    ("auditStatus", str),
    ("copilotSent", float),
    ("copilotUnAck", float),
    ("inboundRtpQuality", Obj),
    ("outboundRtpQuality", Obj),
    ("lastRecomputeTime", dt.datetime),
    ("mergedAudioId", str),
    ("numSegments", int),
    ("queueWaitMs", int),
    ("recomputePhase", str),
    ("spawnedCalls", list[str]),
    ("segments", list[Obj]),
)
NAMES = [name for name, _ in COLUMNS]
AGENT_AT = NAMES.index("agent")
QUEUE_AT = NAMES.index("queue")
# The tap writes an empty list as null, as a CSV export's empty cell reads.
LISTS_AT = tuple(
    at for at, (_, kind) in enumerate(COLUMNS) if t.get_origin(kind) is list
)
_IN_TYPES = {"agent": AgentIn, "queue": QueueIn}

# Decoded from the API's JSON (its names), then copied into Call (the record's).
CallIn = msgspec.defstruct(
    "CallIn",
    [(name, _IN_TYPES.get(name, kind) | None, None) for name, kind in COLUMNS],
    bases=(_S,),
    rename={"isCallResolved": "callResolved"},
)
Call = msgspec.defstruct(
    "Call",
    [
        *((name, kind | None, None) for name, kind in COLUMNS),
        ("extra", Obj | None, None),
        ("project", str, PROJECT),
    ],
    bases=(_S,),
    rename={"extra": "_extra"},
)


class Envelope(_S, tag_field="type", tag="RECORD"):
    """A Singer RECORD message."""

    stream: str
    record: t.Any
    time_extracted: dt.datetime


# ----------------------------------------------------------------- transcripts
class CallRef(_S):
    """What the transcripts pass reads of a call."""

    callId: int  # noqa: N815
    contextId: str | None = None  # noqa: N815
    saSessionId: str | None = None  # noqa: N815
    startTime: dt.datetime | None = None  # noqa: N815
    progressPhase: str | None = None  # noqa: N815


class WordIn(_S):
    utterance: str | None = None
    start: int | None = None
    duration: float | None = None
    confidence: float | None = None
    spk: int | None = None
    dtmf: bool | None = None
    alternatives: list[Obj] | None = None


class SectionIn(_S):
    start: int | None = None
    duration: float | None = None
    spk: int | None = None
    words: list[WordIn] | None = None


class Section(_S):
    start: int | None
    duration: float | None
    spk: int | None
    text: str


class Speaker(_S):
    spk: int | None
    sections: int
    words: int
    talkMs: float  # noqa: N815


class Transcript(_S, rename={"extra": "_extra"}):
    callId: int  # noqa: N815
    contextId: str | None  # noqa: N815
    project: str
    saSessionId: str | None  # noqa: N815
    startTime: dt.datetime | None  # noqa: N815
    text: str
    sections: list[Section]
    words: None
    sectionCount: int  # noqa: N815
    wordCount: int  # noqa: N815
    speakers: list[Speaker]
    extra: Obj | None = None


def page_params(fmt: str, after: int, per_page: int) -> dict[str, t.Any]:
    """Query of one page, in the tap's parameter order (same cached response)."""
    return {
        "format": fmt,
        "consecutive": "true",
        "afterCallId": after,
        "page": 1,
        "per_page": per_page,
    }


def pages(
    session: requests.Session, url: str, fmt: str, per_page: int
) -> Iterator[requests.Response]:
    """Every call page after callId 0; the caller reads each and says the last id."""
    after = 0
    while True:
        response = session.get(
            f"{url}/sa/call", params=page_params(fmt, after, per_page), timeout=TIMEOUT
        )
        response.raise_for_status()
        last = yield response
        if last is None:
            return
        after = last


# ------------------------------------------------------------------------ json
def json_calls(body: bytes, decoder: msgspec.json.Decoder[t.Any]) -> list[t.Any]:
    """Records of one JSON page: typed decode, then the record's names."""
    astuple = msgspec.structs.astuple
    calls = []
    for raw in decoder.decode(body):
        values = list(astuple(raw))
        for at in LISTS_AT:
            if not values[at]:
                values[at] = None
        agent, queue = values[AGENT_AT], values[QUEUE_AT]
        if agent is not None:
            values[AGENT_AT] = Agent(*astuple(agent))
        if queue is not None:
            values[QUEUE_AT] = Queue(*astuple(queue))
        calls.append(Call(*values))
    return calls


# ------------------------------------------------------------------------- csv
def _csv_time(cell: str) -> dt.datetime:
    """``05-12-2024 6:15:45 PM`` (UTC) as a datetime."""
    day, clock, half = cell.split(" ")
    month, mday, year = day.split("-")
    hour, minute, second = clock.split(":")
    hours = int(hour) % 12 + (12 if half == "PM" else 0)
    return dt.datetime(
        int(year), int(month), int(mday), hours, int(minute), int(second), tzinfo=UTC
    )


def _bool(cell: str) -> bool:
    return cell == "true"


def _strings(cell: str) -> list[str]:
    return cell.split("|")


def _markers(cell: str) -> list[Marker]:
    found = []
    for part in cell.split("|"):
        time, kind, note = part.split(",", 2)
        found.append(Marker(int(time), kind, None if note == "null" else note))
    return found


def _words(cell: str) -> list[Word]:
    found = []
    for part in cell.split("|"):
        phrase, freq = part.rsplit(",", 1)
        found.append(Word(phrase, int(freq)))
    return found


def _dtmf(cell: str) -> list[Dtmf]:
    found = []
    for part in cell.split("|"):
        key, stamp, channel = part.split(",", 2)
        found.append(Dtmf(key, int(stamp), channel))
    return found


CSV_READERS: dict[t.Any, Callable[[str], t.Any]] = {
    str: str,
    int: int,
    float: float,
    bool: _bool,
    dt.datetime: _csv_time,
    list[str]: _strings,
    list[Marker]: _markers,
    list[Word]: _words,
    list[Dtmf]: _dtmf,
}
SUB_AT = {"agent": (AGENT_AT, Agent), "queue": (QUEUE_AT, Queue)}


def csv_plan(header: list[str]) -> list[tuple[int, int, Callable[[str], t.Any]]]:
    """For each CSV column: record position, sub-field position (-1), reader."""
    kinds = dict(COLUMNS)
    plan = []
    for column in header:
        if "." in column:
            parent, sub = column.split(".", 1)
            at, struct = SUB_AT[parent]
            plan.append((at, struct.__struct_fields__.index(sub), str))
        else:
            plan.append((NAMES.index(column), -1, CSV_READERS[kinds[column]]))
    return plan


def csv_calls(text: str) -> list[t.Any]:
    """Records of one CSV page: each non-empty cell read by its column's kind."""
    rows = csv.reader(io.StringIO(text))
    header = next(rows, None)
    if header is None:
        return []
    plan = csv_plan(header)
    width = len(NAMES)
    calls = []
    for row in rows:
        values: list[t.Any] = [None] * width
        agent: list[str | None] = [None] * 5
        queue: list[str | None] = [None] * 2
        for (at, sub, read), cell in zip(plan, row, strict=True):
            if not cell:
                continue
            if sub < 0:
                values[at] = read(cell)
            elif at == AGENT_AT:
                agent[sub] = cell
            else:
                queue[sub] = cell
        if any(agent):
            values[AGENT_AT] = Agent(*agent)
        if any(queue):
            values[QUEUE_AT] = Queue(*queue)
        calls.append(Call(*values))
    return calls


# ----------------------------------------------------------------- transcripts
def _clock(ms: int | None) -> str:
    if ms is None or ms < 0:
        return "--:--"
    hours, rest = divmod(ms // 1000, 3600)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


def transcript(call: CallRef, body: list[SectionIn]) -> Transcript:
    """The transcripts stream's record (without words) of one decoded body."""
    sections = []
    lines = []
    speakers: dict[int | None, list[t.Any]] = {}
    count = 0
    for raw in body:
        said = [
            " ".join(word.utterance.split())
            for word in raw.words or ()
            if word.utterance
        ]
        text = " ".join(word for word in said if word)
        sections.append(Section(raw.start, raw.duration, raw.spk, text))
        who = "Speaker ?" if raw.spk is None else f"Speaker {raw.spk}"
        lines.append(f"[{_clock(raw.start)}] {who}: {text}")
        figures = speakers.setdefault(raw.spk, [0, 0, 0.0])
        figures[0] += 1
        figures[1] += len(said)
        figures[2] += raw.duration or 0.0
        count += len(said)
    return Transcript(
        callId=call.callId,
        contextId=call.contextId,
        project=PROJECT,
        saSessionId=call.saSessionId,
        startTime=call.startTime,
        text="\n".join(lines),
        sections=sections,
        words=None,
        sectionCount=len(sections),
        wordCount=count,
        speakers=[
            Speaker(spk, n, words, round(talk, 1))
            for spk, (n, words, talk) in sorted(
                speakers.items(), key=lambda item: -1 if item[0] is None else item[0]
            )
        ],
    )


# ---------------------------------------------------------------------- export
def export(
    url: str, token: str, fmt: str, per_page: int, out: t.BinaryIO
) -> tuple[int, str]:
    """Write Singer RECORD lines to ``out``; return the count and what was counted."""
    encoder = msgspec.json.Encoder()
    count = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {token}"
        walk = pages(session, url, "json" if fmt == "transcripts" else fmt, per_page)
        response = next(walk)
        if fmt == "transcripts":
            refs = msgspec.json.Decoder(list[CallRef], strict=False)
            sections = msgspec.json.Decoder(list[SectionIn])
        else:
            decoder = msgspec.json.Decoder(list[CallIn], strict=False)
        while True:
            now = dt.datetime.now(UTC)
            if fmt == "transcripts":
                calls = refs.decode(response.content)
                records = []
                for call in calls:
                    if call.progressPhase != "DONE" or not call.saSessionId:
                        continue
                    answer = session.get(
                        f"{url}/sa/{call.saSessionId}/transcript",
                        params={"format": "json"},
                        timeout=TIMEOUT,
                    )
                    if answer.status_code == 404:
                        continue
                    answer.raise_for_status()
                    body = sections.decode(answer.content)
                    records.append(transcript(call, body))
                stream = "transcripts"
                last = calls[-1].callId if calls else 0
            else:
                if fmt == "json":
                    records = json_calls(response.content, decoder)
                else:
                    records = csv_calls(response.text)
                calls = records
                stream = "calls"
                last = records[-1].callId if records else 0
            out.write(encoder.encode_lines([Envelope(stream, r, now) for r in records]))
            count += len(records)
            if len(calls) < per_page:
                return count, stream
            response = walk.send(last)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the floor export; the exit status is 0 on success."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", required=True, help="API base URL, e.g. …/v1")
    parser.add_argument("--token", required=True, help="bearer token")
    parser.add_argument("--format", choices=("json", "csv", "transcripts"))
    parser.add_argument("--per-page", type=int, default=1000)
    parser.add_argument("--out", default="/dev/null", help="where the lines go")
    args = parser.parse_args(argv)
    with open(args.out, "wb") as out:  # noqa: PTH123
        count, stream = export(args.url, args.token, args.format, args.per_page, out)
    what = "calls" if stream == "calls" else "transcripts"
    print(f"floor exported {count} {what}", file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
