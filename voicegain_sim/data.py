"""Deterministic generator of realistic Voicegain ``VoiceCall`` JSON objects."""

from __future__ import annotations

import copy
import marshal
import random
import string
import typing as t
from datetime import datetime, timedelta, timezone

from voicegain_sim import vocab
from voicegain_sim.fullmodel import complete_calls
from voicegain_sim.gcpause import paused_gc
from voicegain_sim.randomness import (
    chance,
    pick,
    rand_int,
    rand_uuid,
    some,
)
from voicegain_sim.times import format_rfc3339, parse_rfc3339

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

DEFAULT_START = datetime(2024, 5, 12, 14, 0, 0, tzinfo=timezone.utc)
"""Start time of the first generated call when none is given."""

PROGRESS_PHASES = (
    "INPUT_READY",
    "ACCEPTED",
    "WAITING",
    "QUEUED",
    "FETCHING",
    "FETCHED",
    "PROCESSING",
    "DONE",
    "STOPPED",
    "RECOMPUTING",
    "ERROR",
)
"""The vendor's ``ProgressPhase`` values (``voicegain-speech`` 1.142.0), in order."""

_SA_SESSION_ALPHABET = string.ascii_letters + string.digits
# About 1 call in 40 never had a Speech Analytics session: no saSessionId.
_NO_SESSION_BELOW = 6  # of 256 values of the recording id's first byte


def make_calls(  # noqa: PLR0913
    n: int,
    *,
    seed: int = 0,
    first_id: int = 10_000,
    start: datetime | None = None,
    processing_at: Sequence[int] = (),
    phases: Mapping[int, str] | None = None,
    full_model: bool = False,
) -> list[dict[str, t.Any]]:
    """Generate ``n`` calls shaped like the API's JSON export.

    Null fields are omitted. Calls are sorted by ``callId`` (numeric text)
    ascending, with random gaps of 1..5 between ids; ``startTime`` increases
    with ``callId``. About 1 call in 40 has no ``saSessionId``. ``seed`` also
    fixes ``accountId`` and ``contextId``; the output depends only on the
    arguments. ``processing_at`` lists indexes (0-based) of calls left in
    ``PROCESSING``; ``phases`` maps indexes to any of
    :data:`PROGRESS_PHASES` (applied after ``processing_at``), e.g.
    ``{3: "STOPPED", 7: "RECOMPUTING"}``; a ``RECOMPUTING`` call also gets
    ``recomputePhase: "processing"``. Neither changes any other field, so
    the rest of the data is what the same seed gives without them.
    ``full_model`` passes every call through
    :func:`voicegain_sim.fullmodel.complete_call` (every field of the
    vendor's ``VoiceCall``, values within its enums); without it the output
    is what it always was.

    Raises:
        ValueError: A phase that is not one of :data:`PROGRESS_PHASES`.
    """
    chosen = dict(phases or {})
    unknown = sorted(set(chosen.values()) - set(PROGRESS_PHASES))
    if unknown:
        msg = f"unknown phase(s) {unknown}; expected some of {PROGRESS_PHASES}"
        raise ValueError(msg)
    rng = random.Random(seed)  # noqa: S311 - test data, not crypto
    account_id = rand_uuid(rng)
    context_id = rand_uuid(rng)
    moment = start or DEFAULT_START
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    with paused_gc():
        calls = _generate(rng, n, first_id, moment, frozenset(processing_at))
        for index, phase in chosen.items():
            set_phase(calls[index], phase)
        ids = {"accountId": account_id, "contextId": context_id}
        made = [{**ids, **call} for call in calls]
        return complete_calls(made) if full_model else made


def set_phase(call: dict[str, t.Any], phase: str) -> None:
    """Put a call in ``phase``; ``RECOMPUTING`` also sets ``recomputePhase``."""
    call["progressPhase"] = phase
    if phase == "RECOMPUTING":
        call["recomputePhase"] = "processing"


def imported_calls(  # noqa: PLR0913
    existing: Sequence[dict[str, t.Any]],
    count: int,
    *,
    age: timedelta = timedelta(days=10),
    phase: str = "QUEUED",
    now: datetime | None = None,
    seed: int | None = None,
    full_model: bool = False,
) -> list[dict[str, t.Any]]:
    """Calls imported from old recordings: new callIds, old start times.

    An import (a backlog of recordings uploaded today) gets callIds above
    every ``existing`` call, but its ``startTime`` is when the recorded call
    took place: ``age`` before ``now`` (default: the latest existing start
    time, else :data:`DEFAULT_START`), the calls a few minutes apart, oldest
    first. They start in ``phase`` (``QUEUED``; ``PROCESSING`` and the other
    :data:`PROGRESS_PHASES` work too) and become ``DONE`` when a test says so
    (``sim.set_phase(call_id, "DONE")``). ``accountId``/``contextId`` follow
    the first existing call; ``seed`` (default: derived from the last callId)
    fixes the rest; ``full_model`` as for :func:`make_calls`.

    Raises:
        ValueError: Unknown ``phase``.
    """
    if phase not in PROGRESS_PHASES:
        msg = f"unknown phase {phase!r}; expected one of {PROGRESS_PHASES}"
        raise ValueError(msg)
    last_id = max((int(call["callId"]) for call in existing), default=9_999)
    if now is None:
        now = max(
            (parse_rfc3339(str(call["startTime"])) for call in existing),
            default=DEFAULT_START,
        )
    new = make_calls(
        count,
        seed=last_id + 7 if seed is None else seed,
        first_id=last_id + 1,
        start=now - age,
    )
    for call in new:
        set_phase(call, phase)
        if existing:
            for key in ("accountId", "contextId"):
                if key in existing[0]:
                    call[key] = existing[0][key]
    return complete_calls(new) if full_model else new


def _generate(
    rng: random.Random,
    n: int,
    call_id: int,
    moment: datetime,
    processing: frozenset[int],
) -> list[dict[str, t.Any]]:
    calls: list[dict[str, t.Any]] = []
    for index in range(n):
        if index:
            call_id += rand_int(rng, 1, 5)
            moment += timedelta(seconds=rand_int(rng, 20, 900))
        call = _make_call(rng, call_id, moment, calls)
        if index in processing:
            call["progressPhase"] = "PROCESSING"
        calls.append(call)
    return calls


def clone_calls(calls: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Deep-copy calls quickly (marshal handles every JSON type)."""
    with paused_gc():
        try:
            cloned: list[dict[str, t.Any]] = marshal.loads(marshal.dumps(calls))  # noqa: S302 - our own bytes
        except ValueError:  # a non-JSON type such as datetime
            cloned = copy.deepcopy(calls)
    return cloned


def continue_calls(
    existing: Sequence[dict[str, t.Any]], count: int, *, full_model: bool = False
) -> list[dict[str, t.Any]]:
    """Generate ``count`` DONE calls that follow ``existing`` ones.

    The new calls have higher callIds and later start times than every
    existing call, and the same ``accountId``/``contextId`` as the first one;
    ``full_model`` as for :func:`make_calls`.
    """
    last_id = max((int(call["callId"]) for call in existing), default=9_999)
    last_start = max(
        (parse_rfc3339(str(call["startTime"])) for call in existing),
        default=DEFAULT_START,
    )
    new = make_calls(
        count,
        seed=last_id,
        first_id=last_id + 1 + last_id % 3,
        start=last_start + timedelta(seconds=60),
    )
    for call in new:
        call["progressPhase"] = "DONE"
        if existing:
            for key in ("accountId", "contextId"):
                if key in existing[0]:
                    call[key] = existing[0][key]
    return complete_calls(new) if full_model else new


def _make_call(
    rng: random.Random,
    call_id: int,
    start: datetime,
    earlier: list[dict[str, t.Any]],
) -> dict[str, t.Any]:
    duration = rand_int(rng, 20, 1800)
    end = start + timedelta(seconds=duration)
    inbound = chance(rng, 0.75)
    call: dict[str, t.Any] = {
        "callId": str(call_id),
        "startTime": format_rfc3339(start),
        "endTime": format_rfc3339(end),
        "duration": duration,
        "direction": "inbound" if inbound else "outbound",
        "externalEndpoint": _phone(rng),
        "internalEndpoint": pick(rng, vocab.INTERNAL_ENDPOINTS),
        "recording": rand_uuid(rng),
        "saSessionId": "".join(rng.choices(_SA_SESSION_ALPHABET, k=20)),
        "version": 2,
        "language": "es" if chance(rng, 0.2) else "en",
        "incidents": pick(rng, (0, 0, 0, 1, 2, 5)),
        "dailyRepeatCalls": pick(rng, (0, 0, 0, 1, 2)),
    }
    if int(call["recording"][:2], 16) < _NO_SESSION_BELOW:
        del call["saSessionId"]  # drawn all the same, so other fields stay put
    channels = 2 if chance(rng, 0.9) else 1
    call["numAudioChannels"] = channels
    call["numSpkChannels"] = channels
    call["progressPhase"] = "ERROR" if chance(rng, 0.03) else "DONE"
    _add_routing(rng, call)
    _add_analytics(rng, call, duration)
    _add_review(rng, call)
    _add_voicebot(rng, call, earlier)
    _add_extras(rng, call, start, duration)
    return call


def _phone(rng: random.Random) -> str:
    if chance(rng, 0.15):
        return "0044" + "".join(rng.choices(string.digits, k=10))
    area = pick(rng, ("469", "214", "972", "415", "212"))
    return f"+1{area}{rand_int(rng, 0, 9_999_999):07d}"


def _add_routing(rng: random.Random, call: dict[str, t.Any]) -> None:
    if not chance(rng, 0.1):
        agent_id, email, name, user_id, channel = pick(rng, vocab.AGENTS)
        call["agent"] = {
            "agentId": agent_id,
            "email": email,
            "name": name,
            "userId": user_id,
            "channel": channel,
        }
    if not chance(rng, 0.1):
        queue_id, queue_name = pick(rng, vocab.QUEUES)
        call["queue"] = {"queueId": queue_id, "name": queue_name}
    if chance(rng, 0.8):
        call["callCenterCallId"] = str(rand_int(rng, 2_000_000_000, 2_999_999_999))
    if chance(rng, 0.5):
        call["team"] = pick(rng, vocab.TEAMS)


def _note(rng: random.Random) -> str:
    caller = pick(rng, vocab.CALLER_NAMES)
    reason = pick(rng, vocab.NOTE_REASONS)
    quote = pick(rng, vocab.NOTE_QUOTES)
    outcome = pick(rng, vocab.NOTE_OUTCOMES)
    return (
        f"Summary: {caller} called about {reason}.\n"
        f'The caller said: "{quote}"\n'
        f"Outcome: {outcome}"
    )


def _add_analytics(rng: random.Random, call: dict[str, t.Any], duration: int) -> None:
    call["sentiment"] = round(rng.uniform(-1.0, 1.0), 2)
    if chance(rng, 0.85):
        call["notes"] = _note(rng)
    call["tags"] = some(rng, vocab.TAGS, 4)
    call["keywords"] = some(rng, vocab.KEYWORDS, 4)
    call["topics"] = some(rng, vocab.TOPICS, 2)
    if chance(rng, 0.6):
        call["callResolved"] = chance(rng, 0.7)
    words = some(rng, vocab.WORDS, 12) or ["call"]
    freqs = sorted((rand_int(rng, 1, 40) for _ in words), reverse=True)
    call["wordCloud"] = [
        {"phrase": word, "freq": freq} for word, freq in zip(words, freqs, strict=True)
    ]
    markers: list[dict[str, t.Any]] = []
    for _ in range(rand_int(rng, 1, 4)):
        marker: dict[str, t.Any] = {
            "time": rand_int(rng, 0, duration * 1000),
            "type": pick(rng, vocab.MARKER_TYPES),
        }
        if chance(rng, 0.3):
            marker["note"] = pick(rng, vocab.MARKER_NOTES)
        markers.append(marker)
    call["markers"] = markers
    if chance(rng, 0.2):
        call["dtmfEvents"] = [
            {
                "dtmf": pick(rng, vocab.DTMF_KEYS),
                "timestamp": rand_int(rng, 0, duration * 1000),
                "channel": "left",
            }
            for _ in range(rand_int(rng, 1, 5))
        ]


def _add_review(rng: random.Random, call: dict[str, t.Any]) -> None:
    if not chance(rng, 0.4):
        return
    call["score"] = round(rng.uniform(0.0, 100.0), 1)
    call["crAnswersId"] = rand_uuid(rng)
    call["reviewStatus"] = pick(rng, vocab.REVIEW_STATUSES)
    if chance(rng, 0.7):
        call["reviewNotes"] = pick(rng, vocab.REVIEW_NOTES)


def _add_voicebot(
    rng: random.Random, call: dict[str, t.Any], earlier: list[dict[str, t.Any]]
) -> None:
    if not chance(rng, 0.3):
        return
    call["aivrAppId"] = rand_uuid(rng)
    call["aivrSessionId"] = "0-" + "".join(rng.choices(_SA_SESSION_ALPHABET, k=24))
    call["aivrPlatform"] = "AIVR"
    call["aivrTransferDestType"] = pick(rng, vocab.TRANSFER_DEST_TYPES)
    call["aivrVars"] = {
        "intent": pick(rng, vocab.TOPICS),
        "memberId": f"{rand_int(rng, 0, 99_999_999):08d}",
        "authenticated": chance(rng, 0.5),
    }
    call["voicebotDuration"] = round(rng.uniform(5.0, 120.0), 1)
    if earlier and chance(rng, 0.5):
        call["originatingCallId"] = pick(rng, earlier[-20:])["callId"]


def _add_extras(
    rng: random.Random, call: dict[str, t.Any], start: datetime, duration: int
) -> None:
    """Add some of the JSON-only fields that the CSV export does not carry."""
    if chance(rng, 0.5):
        call["abandoned"] = chance(rng, 0.1)
        call["whoHungUp"] = pick(rng, vocab.WHO_HUNG_UP)
    if chance(rng, 0.4):
        call["sentiments"] = [
            {
                "speaker": speaker,
                "average": round(rng.uniform(-1.0, 1.0), 2),
                "final": round(rng.uniform(-1.0, 1.0), 2),
                "trend": round(rng.uniform(-1.0, 1.0), 2),
            }
            for speaker in ("caller", "agent")
        ]
    if chance(rng, 0.2):
        call["csat"] = rand_int(rng, 1, 5)
        call["nps"] = rand_int(rng, 0, 10)
    if chance(rng, 0.7):
        call["queueWaitMs"] = rand_int(rng, 0, 600_000)
        call["numSegments"] = rand_int(rng, 1, 4)
        call["expiryTime"] = format_rfc3339(start + timedelta(days=365))
    if chance(rng, 0.3):
        call["auditStatus"] = pick(rng, vocab.AUDIT_STATUSES)
        call["businessOpenState"] = pick(rng, ("open", "closed"))
    if chance(rng, 0.3):
        call["inboundRtpQuality"] = {
            "jitter": round(rng.uniform(0.0, 30.0), 2),
            "mos": round(rng.uniform(3.0, 4.5), 2),
            "packetsLost": rand_int(rng, 0, 200),
            "packetsReceived": duration * 50,
        }
    if chance(rng, 0.1):
        call["lastRecomputeTime"] = format_rfc3339(
            start + timedelta(seconds=duration + rand_int(rng, 3600, 86_400))
        )
    if chance(rng, 0.05):
        base = int(call["callId"])
        call["spawnedCalls"] = [
            str(base + 1000 + k) for k in range(rand_int(rng, 1, 2))
        ]
