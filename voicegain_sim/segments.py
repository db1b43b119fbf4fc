"""Call segments (``inclSegments=true``): one per bot, agent or system portion.

Opt-in (``VoicegainSimulator(segments=True)``, ``--segments``). Then
``inclSegments=true`` on ``GET /sa/call`` and on ``GET /sa/call/{callId}``
(the vendor's getter takes it too) adds ``segments`` to each call of a JSON
answer; without it (or ``false``) there is no ``segments`` key, and a value
other than ``true``/``false`` is 400 naming ``inclSegments``. CSV answers
never carry segments (the guide's column list has none); the parameter is
checked and otherwise ignored there. With the option off, ``inclSegments``
is ignored as it always was.

A call's segments are derived from the call alone (seeded with its callId
and saSessionId), so they are the same on every request and follow
:meth:`~voicegain_sim.VoicegainSimulator.update_call`. A call that holds its
own ``segments`` list is served with that list instead. How many: the
call's ``numSegments`` (no ``numSegments``: no segments, ``[]``, as for calls
older than segments). Which:

* a voicebot call (``aivrAppId``) starts with a ``bot`` segment (its
  ``voicebotDuration``, ``aivrVars``, ``voicebotVars``, ``businessOpenState``);
* then, sometimes, a ``system`` segment (queue, hold music);
* then ``agent`` segments: the call's agent first, each later one a transfer
  to another agent or a supervisor (``transferDest`` an extension,
  ``transferDestType`` ``internal``; bot to agent is ``agency`` or
  ``internal``); the last may be transferred out (``external``);
* a call with one segment has the agent's (else the bot's, else a system
  one); a call that never reached an agent ends in ``system`` segments.

Every segment has ``segmentSeq`` 1..n, ``type``, ``startMs``/``endMs``
contiguous from 0 to the call's duration, ``startTime``/``endTime`` (the
call's start plus those offsets, with milliseconds), ``duration`` (seconds,
a float), ``auditStatus`` (always, as the model says), ``progressPhase`` (the
call's), ``answeringEndpoint`` (the call's ``internalEndpoint``, then the
previous segment's ``transferDest``). Bot and agent segments add
``saSessionId`` with ``saSessionSegmentSeq`` 1..k, sentiments, keywords,
topics, tags and word-cloud items taken from the call's, the call's markers
that fall inside them, notes, incidents; agent segments add agent, queue,
team, often ``score``/``unauditedScore`` with ``crAnswersId``,
``reviewStatus``, audit fields (``auditStartedBy``, ``auditCompletedBy``,
``auditCompletedDate``), ``agentFeedback``, ``callCenterCallSegmentId``,
now and then ``modifiableNote``. A call with voicemail fields puts them on
its last segment.
"""

from __future__ import annotations

import random
import typing as t
from datetime import timedelta

from voicegain_sim import vocab
from voicegain_sim.query import flag_param
from voicegain_sim.randomness import chance, pick, rand_int, rand_uuid
from voicegain_sim.times import parse_rfc3339

if t.TYPE_CHECKING:
    from collections.abc import Mapping
    from datetime import datetime

_VOICEMAIL_FIELDS = ("voicemailDuration", "voicemailTranscript", "voicemailUuid")
_ANALYSED = frozenset({"bot", "agent"})
_WEIGHTS = {"system": (0.02, 0.1), "agent": (0.5, 1.5)}


def wants_segments(params: Mapping[str, list[str]]) -> bool:
    """Whether a request asks for segments (``inclSegments=true``).

    Raises:
        QueryError: ``inclSegments`` is neither ``true`` nor ``false``.
    """
    return bool(flag_param(params, "inclSegments"))


def with_segments(call: dict[str, t.Any]) -> dict[str, t.Any]:
    """A copy of the call with ``segments`` (its own value if it has one).

    Any value a test gave the call is served as it is, a bad shape included.
    """
    if call.get("segments") is not None:
        return call
    return {**call, "segments": make_segments(call)}


def without_segments(call: dict[str, t.Any]) -> dict[str, t.Any]:
    """The call without a ``segments`` key (itself when it has none)."""
    return without_key(call, "segments")


def without_billing(call: dict[str, t.Any]) -> dict[str, t.Any]:
    """The call without ``billing`` (itself when it has none)."""
    return without_key(call, "billing")


def without_key(call: dict[str, t.Any], key: str) -> dict[str, t.Any]:
    """The call without ``key`` (the call itself when it has none)."""
    if key not in call:
        return call
    return {k: v for k, v in call.items() if k != key}


def format_ms_time(moment: datetime) -> str:
    """``2024-05-12T14:03:12.345Z``: UTC with milliseconds."""
    millis = moment.microsecond // 1000
    return f"{moment:%Y-%m-%dT%H:%M:%S}.{millis:03d}Z"


def _kinds(rng: random.Random, count: int, call: Mapping[str, t.Any]) -> list[str]:
    bot, agent = "aivrAppId" in call, "agent" in call
    if count == 1:
        return ["agent" if agent else "bot" if bot else "system"]
    kinds = ["bot"] if bot else []
    if not agent:
        return kinds + ["system"] * (count - len(kinds))
    if count - len(kinds) >= 2 and chance(rng, 0.35):  # noqa: PLR2004
        kinds.append("system")  # queue or hold before the agent picks up
    return kinds + ["agent"] * (count - len(kinds))


def _bounds(
    rng: random.Random, kinds: list[str], call: Mapping[str, t.Any]
) -> list[int]:
    """Segment boundaries in ms: ``len(kinds) + 1`` values from 0 to the end.

    A bot segment lasts the call's ``voicebotDuration`` (at most 80 % of the
    call); the others share the rest, system segments briefly.
    """
    total = max(int(call.get("duration") or 0) * 1000, len(kinds) * 1000)
    bot_share = 0.0
    if "bot" in kinds and len(kinds) > 1:
        bot_ms = float(call.get("voicebotDuration") or 0) * 1000
        bot_share = min(bot_ms / total, 0.8) if bot_ms else rng.uniform(0.1, 0.4)
    weights = [0.0 if kind == "bot" else rng.uniform(*_WEIGHTS[kind]) for kind in kinds]
    spread = sum(weights) or 1.0
    bounds, position = [0], 0.0
    for weight, kind in zip(weights, kinds, strict=True):
        share = (bot_share or 1.0) if kind == "bot" else weight / spread
        position += share * total * (1.0 if kind == "bot" else 1.0 - bot_share)
        bounds.append(min(total, int(position)))
    bounds[-1] = total
    for index in range(1, len(bounds)):  # every segment at least 1 ms long
        bounds[index] = max(bounds[index], bounds[index - 1] + 1)
    return bounds


def _share(rng: random.Random, items: list[t.Any], places: int) -> list[list[t.Any]]:
    """Spread items over ``places`` lists at random, keeping their order."""
    spread: list[list[t.Any]] = [[] for _ in range(places)]
    for item in items:
        spread[rand_int(rng, 0, places - 1)].append(item)
    return spread


def _agents(
    rng: random.Random, count: int, call: Mapping[str, t.Any]
) -> list[dict[str, str]]:
    first = call.get("agent")
    chosen = [dict(first)] if isinstance(first, dict) else []
    while len(chosen) < count:
        pool = vocab.SUPERVISORS if chosen and chance(rng, 0.3) else vocab.AGENTS
        agent_id, email, name, user_id, channel = pick(rng, pool)
        if chosen and chosen[-1].get("agentId") == agent_id:
            continue
        chosen.append(
            {
                "agentId": agent_id,
                "email": email,
                "name": name,
                "userId": user_id,
                "channel": channel,
            }
        )
    return chosen


def make_segments(call: Mapping[str, t.Any]) -> list[dict[str, t.Any]]:
    """The call's segments, as ``inclSegments=true`` shows them."""
    count = call.get("numSegments")
    if not isinstance(count, int) or isinstance(count, bool) or count < 1:
        return []
    rng = random.Random(f"segments:{call.get('callId')}:{call.get('saSessionId')}")  # noqa: S311
    kinds = _kinds(rng, count, call)
    bounds = _bounds(rng, kinds, call)
    analysed = [k in _ANALYSED for k in kinds]
    places = max(1, sum(analysed))
    shares = {
        key: _share(rng, list(call.get(key) or []), places)
        for key in ("keywords", "topics", "tags", "wordCloud")
    }
    agents = iter(_agents(rng, kinds.count("agent"), call))
    start = parse_rfc3339(str(call["startTime"])) if call.get("startTime") else None
    segments: list[dict[str, t.Any]] = []
    endpoint = call.get("internalEndpoint")
    session_seq = 0
    for seq, kind in enumerate(kinds, start=1):
        segment = _frame(seq, kind, (bounds[seq - 1], bounds[seq]), start)
        if endpoint:
            segment["answeringEndpoint"] = endpoint
        segment["progressPhase"] = call.get("progressPhase", "DONE")
        segment["auditStatus"] = "not_started"
        if kind in _ANALYSED:
            if call.get("saSessionId"):
                session_seq += 1
                segment["saSessionId"] = call["saSessionId"]
                segment["saSessionSegmentSeq"] = session_seq
            place = max(0, sum(analysed[:seq]) - 1)
            _add_analytics(rng, segment, call, {k: v[place] for k, v in shares.items()})
        if kind == "bot":
            _add_bot(rng, segment, call, last=seq == count)
        elif kind == "agent":
            _add_agent(rng, segment, call, next(agents), seq)
        else:
            segment["notes"] = pick(rng, vocab.SYSTEM_SEGMENT_NOTES)
        if seq < count:
            _add_transfer(rng, segment, kind, kinds[seq])
        elif chance(rng, 0.08):
            segment["transferDest"] = pick(rng, vocab.EXTERNAL_TRANSFER_NUMBERS)
            segment["transferDestType"] = "external"
        endpoint = segment.get("transferDest")
        segments.append(segment)
    _place_voicemail(segments[-1], call)
    return segments


def _frame(
    seq: int, kind: str, span: tuple[int, int], start: datetime | None
) -> dict[str, t.Any]:
    """A segment's number, type and place in the call."""
    low, high = span
    segment: dict[str, t.Any] = {"segmentSeq": seq, "type": kind}
    segment.update(startMs=low, endMs=high, duration=round((high - low) / 1000, 3))
    if start is not None:
        segment["startTime"] = format_ms_time(start + timedelta(milliseconds=low))
        segment["endTime"] = format_ms_time(start + timedelta(milliseconds=high))
    return segment


def _add_transfer(
    rng: random.Random, segment: dict[str, t.Any], kind: str, following: str
) -> None:
    segment["transferDest"] = pick(rng, vocab.TRANSFER_EXTENSIONS)
    if kind == "bot" and following != "bot":
        segment["transferDestType"] = pick(rng, ("agency", "internal"))
    else:
        segment["transferDestType"] = "internal"


def _add_analytics(
    rng: random.Random,
    segment: dict[str, t.Any],
    call: Mapping[str, t.Any],
    shares: Mapping[str, list[t.Any]],
) -> None:
    speakers = ("caller",) if segment["type"] == "bot" else ("caller", "agent")
    segment["sentiments"] = [
        {
            "speaker": speaker,
            "average": round(rng.uniform(-1.0, 1.0), 2),
            "final": round(rng.uniform(-1.0, 1.0), 2),
            "trend": round(rng.uniform(-1.0, 1.0), 2),
        }
        for speaker in speakers
    ]
    for key in ("keywords", "topics", "tags", "wordCloud"):
        segment[key] = shares[key]
    low, high = segment["startMs"], segment["endMs"]
    segment["markers"] = [
        dict(m)
        for m in call.get("markers") or []
        if isinstance(m, dict) and low <= int(m.get("time") or 0) < high
    ]
    segment["incidents"] = rand_int(rng, 0, int(call.get("incidents") or 0))


def _add_bot(
    rng: random.Random,
    segment: dict[str, t.Any],
    call: Mapping[str, t.Any],
    *,
    last: bool,
) -> None:
    intent = pick(rng, vocab.TOPICS)
    caller_type = pick(rng, vocab.CALLER_TYPES)
    verified = pick(rng, vocab.VERIFICATION_STATUSES)
    segment["notes"] = (
        f"Voicebot: {caller_type.lower()} calling about {intent}; "
        f"verification {verified.replace('_', ' ')}."
    )
    if isinstance(call.get("aivrVars"), dict):
        segment["aivrVars"] = dict(call["aivrVars"])
    segment["voicebotVars"] = {
        "callerIntent": intent,
        "callerType": caller_type,
        "currentStep": pick(rng, ("Intent", "Goodbye")) if last else "Transfer",
        "verificationStatus": verified,
        "obh": chance(rng, 0.1),
        "voicemail": False,
    }
    segment["businessOpenState"] = call.get("businessOpenState", "open")


def _add_agent(
    rng: random.Random,
    segment: dict[str, t.Any],
    call: Mapping[str, t.Any],
    agent: dict[str, str],
    seq: int,
) -> None:
    segment["agent"] = agent
    queue = call.get("queue")
    if isinstance(queue, dict) and chance(rng, 0.7):
        segment["queue"] = dict(queue)
    else:
        queue_id, name = pick(rng, vocab.QUEUES)
        segment["queue"] = {"queueId": queue_id, "name": name}
    segment["team"] = call.get("team") or pick(rng, vocab.TEAMS)
    first = (agent.get("name") or "The agent").split()[0]
    segment["notes"] = (
        f"{first} handled {pick(rng, vocab.NOTE_REASONS)}. "
        f"{pick(rng, vocab.NOTE_OUTCOMES)}"
    )
    if call.get("callCenterCallId"):
        segment["callCenterCallSegmentId"] = f"{call['callCenterCallId']}-{seq}"
    if "callResolved" in call:
        segment["callResolved"] = bool(call["callResolved"])
    if chance(rng, 0.05):
        segment["modifiableNote"] = "Supervisor: follow up with the member Monday."
    if chance(rng, 0.3):
        segment["agentFeedback"] = {
            "callNotes": pick(rng, vocab.FEEDBACK),
            "intent": pick(rng, vocab.FEEDBACK),
        }
    if chance(rng, 0.6):
        _add_review(rng, segment, call)


def _add_review(
    rng: random.Random, segment: dict[str, t.Any], call: Mapping[str, t.Any]
) -> None:
    unaudited = round(rng.uniform(40.0, 100.0), 1)
    segment["unauditedScore"] = unaudited
    segment["score"] = unaudited
    segment["crAnswersId"] = rand_uuid(rng)
    if chance(rng, 0.5):
        segment["ciAnswersId"] = rand_uuid(rng)
    segment["reviewStatus"] = pick(rng, vocab.SEGMENT_REVIEW_STATUSES)
    if chance(rng, 0.5):
        segment["reviewNotes"] = pick(rng, vocab.REVIEW_NOTES)
    audit = pick(rng, ("not_started", "not_started", "in_progress", "complete"))
    segment["auditStatus"] = audit
    if audit == "not_started":
        return
    segment["auditStartedBy"] = pick(rng, vocab.REVIEWERS)
    if audit == "complete":
        segment["score"] = round(min(100.0, unaudited + rng.uniform(-15.0, 15.0)), 1)
        segment["auditCompletedBy"] = pick(rng, vocab.REVIEWERS)
        ended = parse_rfc3339(str(call.get("endTime") or call["startTime"]))
        done = ended + timedelta(hours=rand_int(rng, 2, 240), seconds=rng.random())
        segment["auditCompletedDate"] = format_ms_time(done)


def _place_voicemail(segment: dict[str, t.Any], call: Mapping[str, t.Any]) -> None:
    for key in _VOICEMAIL_FIELDS:
        if key in call:
            segment[key] = call[key]
