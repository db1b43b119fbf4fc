# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Deterministic generator of realistic Voicegain ``VoiceCall`` JSON objects."""

from __future__ import annotations

import random
import string
import uuid
from datetime import datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from tap_voicegain.simulator import vocab
from tap_voicegain.simulator.times import format_rfc3339, parse_rfc3339

if TYPE_CHECKING:
    from collections.abc import Sequence

DEFAULT_START = datetime(2024, 5, 12, 14, 0, 0, tzinfo=timezone.utc)
"""Start time of the first generated call when none is given."""

_SA_SESSION_ALPHABET = string.ascii_letters + string.digits


def make_calls(
    n: int,
    *,
    seed: int = 0,
    first_id: int = 10_000,
    start: datetime | None = None,
    processing_at: Sequence[int] = (),
) -> list[dict[str, Any]]:
    """Generate ``n`` calls shaped like the API's JSON export.

    Null fields are omitted. Calls are sorted by ``callId`` (numeric text)
    ascending, with random gaps of 1..5 between ids; ``startTime`` increases
    with ``callId``. The output depends only on the arguments.

    Args:
        n: Number of calls.
        seed: Random seed; also fixes ``accountId`` and ``contextId``.
        first_id: ``callId`` of the first call.
        start: ``startTime`` of the first call (default 2024-05-12 14:00 UTC).
        processing_at: Indexes (0-based) of calls whose ``progressPhase`` is
            ``PROCESSING`` instead of ``DONE``/``ERROR``.

    Returns:
        The list of call dicts.
    """
    rng = random.Random(seed)  # noqa: S311 - test data, not crypto
    account_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    context_id = str(uuid.UUID(int=rng.getrandbits(128), version=4))
    processing = set(processing_at)
    moment = start or DEFAULT_START
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=timezone.utc)
    call_id = first_id
    calls: list[dict[str, Any]] = []
    for index in range(n):
        if index:
            call_id += rng.randint(1, 5)
            moment += timedelta(seconds=rng.randint(20, 900))
        call = _make_call(rng, call_id, moment, calls)
        call["accountId"] = account_id
        call["contextId"] = context_id
        if index in processing:
            call["progressPhase"] = "PROCESSING"
        calls.append(call)
    return calls


def continue_calls(
    existing: Sequence[dict[str, Any]], count: int
) -> list[dict[str, Any]]:
    """Generate ``count`` DONE calls that follow ``existing`` ones.

    The new calls have higher callIds and later start times than every
    existing call, and the same ``accountId``/``contextId`` as the first one.

    Args:
        existing: The project's current calls (may be empty).
        count: Number of calls to generate.

    Returns:
        The new calls (not yet added anywhere).
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
    return new


def _chance(rng: random.Random, probability: float) -> bool:
    return rng.random() < probability


def _uuid(rng: random.Random) -> str:
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))


def _make_call(
    rng: random.Random,
    call_id: int,
    start: datetime,
    earlier: list[dict[str, Any]],
) -> dict[str, Any]:
    duration = rng.randint(20, 1800)
    end = start + timedelta(seconds=duration)
    inbound = _chance(rng, 0.75)
    call: dict[str, Any] = {
        "callId": str(call_id),
        "startTime": format_rfc3339(start),
        "endTime": format_rfc3339(end),
        "duration": duration,
        "direction": "inbound" if inbound else "outbound",
        "externalEndpoint": _phone(rng),
        "internalEndpoint": rng.choice(vocab.INTERNAL_ENDPOINTS),
        "recording": _uuid(rng),
        "saSessionId": "".join(rng.choices(_SA_SESSION_ALPHABET, k=20)),
        "version": 2,
        "language": "es" if _chance(rng, 0.2) else "en",
        "incidents": rng.choice((0, 0, 0, 1, 2, 5)),
        "dailyRepeatCalls": rng.choice((0, 0, 0, 1, 2)),
    }
    channels = 2 if _chance(rng, 0.9) else 1
    call["numAudioChannels"] = channels
    call["numSpkChannels"] = channels
    call["progressPhase"] = "ERROR" if _chance(rng, 0.03) else "DONE"
    _add_routing(rng, call)
    _add_analytics(rng, call, duration)
    _add_review(rng, call)
    _add_voicebot(rng, call, earlier)
    _add_extras(rng, call, start, duration)
    return call


def _phone(rng: random.Random) -> str:
    if _chance(rng, 0.15):
        return "0044" + "".join(rng.choices(string.digits, k=10))
    area = rng.choice(("469", "214", "972", "415", "212"))
    return f"+1{area}{rng.randint(0, 9_999_999):07d}"


def _add_routing(rng: random.Random, call: dict[str, Any]) -> None:
    if not _chance(rng, 0.1):
        agent_id, email, name, user_id, channel = rng.choice(vocab.AGENTS)
        call["agent"] = {
            "agentId": agent_id,
            "email": email,
            "name": name,
            "userId": user_id,
            "channel": channel,
        }
    if not _chance(rng, 0.1):
        queue_id, queue_name = rng.choice(vocab.QUEUES)
        call["queue"] = {"queueId": queue_id, "name": queue_name}
    if _chance(rng, 0.8):
        call["callCenterCallId"] = str(rng.randint(2_000_000_000, 2_999_999_999))
    if _chance(rng, 0.5):
        call["team"] = rng.choice(vocab.TEAMS)


def _note(rng: random.Random) -> str:
    caller = rng.choice(vocab.CALLER_NAMES)
    reason = rng.choice(vocab.NOTE_REASONS)
    quote = rng.choice(vocab.NOTE_QUOTES)
    outcome = rng.choice(vocab.NOTE_OUTCOMES)
    return (
        f"Summary: {caller} called about {reason}.\n"
        f'The caller said: "{quote}"\n'
        f"Outcome: {outcome}"
    )


def _add_analytics(rng: random.Random, call: dict[str, Any], duration: int) -> None:
    call["sentiment"] = round(rng.uniform(-1.0, 1.0), 2)
    if _chance(rng, 0.85):
        call["notes"] = _note(rng)
    call["tags"] = rng.sample(vocab.TAGS, rng.randint(0, 4))
    call["keywords"] = rng.sample(vocab.KEYWORDS, rng.randint(0, 4))
    call["topics"] = rng.sample(vocab.TOPICS, rng.randint(0, 2))
    if _chance(rng, 0.6):
        call["callResolved"] = _chance(rng, 0.7)
    words = rng.sample(vocab.WORDS, rng.randint(3, 10))
    freqs = sorted((rng.randint(1, 40) for _ in words), reverse=True)
    call["wordCloud"] = [
        {"phrase": word, "freq": freq} for word, freq in zip(words, freqs, strict=True)
    ]
    markers: list[dict[str, Any]] = []
    for _ in range(rng.randint(1, 4)):
        marker: dict[str, Any] = {
            "time": rng.randint(0, duration * 1000),
            "type": rng.choice(vocab.MARKER_TYPES),
        }
        if _chance(rng, 0.3):
            marker["note"] = rng.choice(vocab.MARKER_NOTES)
        markers.append(marker)
    call["markers"] = markers
    if _chance(rng, 0.2):
        call["dtmfEvents"] = [
            {
                "dtmf": rng.choice(vocab.DTMF_KEYS),
                "timestamp": rng.randint(0, duration * 1000),
                "channel": "left",
            }
            for _ in range(rng.randint(1, 5))
        ]


def _add_review(rng: random.Random, call: dict[str, Any]) -> None:
    if not _chance(rng, 0.4):
        return
    call["score"] = round(rng.uniform(0.0, 100.0), 1)
    call["crAnswersId"] = _uuid(rng)
    call["reviewStatus"] = rng.choice(vocab.REVIEW_STATUSES)
    if _chance(rng, 0.7):
        call["reviewNotes"] = rng.choice(vocab.REVIEW_NOTES)


def _add_voicebot(
    rng: random.Random, call: dict[str, Any], earlier: list[dict[str, Any]]
) -> None:
    if not _chance(rng, 0.3):
        return
    call["aivrAppId"] = _uuid(rng)
    call["aivrSessionId"] = "0-" + "".join(rng.choices(_SA_SESSION_ALPHABET, k=24))
    call["aivrPlatform"] = "AIVR"
    call["aivrTransferDestType"] = rng.choice(vocab.TRANSFER_DEST_TYPES)
    call["aivrVars"] = {
        "intent": rng.choice(vocab.TOPICS),
        "memberId": f"{rng.randint(0, 99_999_999):08d}",
        "authenticated": _chance(rng, 0.5),
    }
    call["voicebotDuration"] = round(rng.uniform(5.0, 120.0), 1)
    if earlier and _chance(rng, 0.5):
        call["originatingCallId"] = rng.choice(earlier[-20:])["callId"]


def _add_extras(
    rng: random.Random, call: dict[str, Any], start: datetime, duration: int
) -> None:
    """Add some of the JSON-only fields that the CSV export does not carry."""
    if _chance(rng, 0.5):
        call["abandoned"] = _chance(rng, 0.1)
        call["whoHungUp"] = rng.choice(vocab.WHO_HUNG_UP)
    if _chance(rng, 0.4):
        call["sentiments"] = [
            {
                "speaker": speaker,
                "average": round(rng.uniform(-1.0, 1.0), 2),
                "final": round(rng.uniform(-1.0, 1.0), 2),
                "trend": round(rng.uniform(-1.0, 1.0), 2),
            }
            for speaker in ("caller", "agent")
        ]
    if _chance(rng, 0.2):
        call["csat"] = rng.randint(1, 5)
        call["nps"] = rng.randint(0, 10)
    if _chance(rng, 0.7):
        call["queueWaitMs"] = rng.randint(0, 600_000)
        call["numSegments"] = rng.randint(1, 4)
        call["expiryTime"] = format_rfc3339(start + timedelta(days=365))
    if _chance(rng, 0.3):
        call["auditStatus"] = rng.choice(vocab.AUDIT_STATUSES)
        call["businessOpenState"] = rng.choice(("open", "closed"))
    if _chance(rng, 0.3):
        call["inboundRtpQuality"] = {
            "jitter": round(rng.uniform(0.0, 30.0), 2),
            "mos": round(rng.uniform(3.0, 4.5), 2),
            "packetsLost": rng.randint(0, 200),
            "packetsReceived": duration * 50,
        }
    if _chance(rng, 0.1):
        call["lastRecomputeTime"] = format_rfc3339(
            start + timedelta(seconds=duration + rng.randint(3600, 86_400))
        )
    if _chance(rng, 0.05):
        base = int(call["callId"])
        call["spawnedCalls"] = [str(base + 1000 + k) for k in range(rng.randint(1, 2))]
