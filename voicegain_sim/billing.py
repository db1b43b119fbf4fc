"""A call's ``billing`` (the vendor's ``CallBilling``), for ``full_model`` data.

Billing is worked out from the call and its segments (the ones
``inclSegments=true`` shows, :func:`voicegain_sim.segments.make_segments`),
so the two agree: one augmented transaction per agent segment, attributed to
it by ``segmentSeq``; automated transactions (no segment) for the intents
the voicebot completed. Classes and rules:

* the caller gave up in the queue (``abandoned``): ``ABANDONED`` / ``ABANDONED``,
  no transactions;
* the voicebot completed intents and no agent answered: ``AUTOMATED`` /
  ``AUTOMATED_ONLY``;
* it completed intents, then handed over: ``AUTOMATED_AND_AUGMENTED`` /
  ``AUTOMATED_THEN_TRANSFERRED``;
* it completed none and an agent answered: ``AUGMENTED`` /
  ``AUGMENTED_NO_AUTOMATION``;
* nothing to go on (no intents, no agent): ``UNCLASSIFIED`` /
  ``INSUFFICIENT_DATA``.
"""

from __future__ import annotations

import math
import typing as t
from datetime import timedelta

from voicegain_sim import vocab
from voicegain_sim.randomness import chance, pick, some
from voicegain_sim.segments import format_ms_time, make_segments
from voicegain_sim.times import format_rfc3339, parse_rfc3339

if t.TYPE_CHECKING:
    import random
    from collections.abc import Mapping
    from datetime import datetime

METER_VERSION = 3
SEGMENT_SECONDS = 300  # one billable augmented segment, in seconds
_CLASSES = {
    (True, False): ("AUTOMATED", "AUTOMATED_ONLY"),
    (True, True): ("AUTOMATED_AND_AUGMENTED", "AUTOMATED_THEN_TRANSFERRED"),
    (False, True): ("AUGMENTED", "AUGMENTED_NO_AUTOMATION"),
    (False, False): ("UNCLASSIFIED", "INSUFFICIENT_DATA"),
}


def make_billing(rng: random.Random, call: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The call's ``CallBilling`` object."""
    start = parse_rfc3339(str(call["startTime"]))
    segments = make_segments(call)
    agents = [s for s in segments if s["type"] == "agent"]
    intents = some(rng, vocab.TOPICS, 3) or [pick(rng, vocab.TOPICS)]
    automated = [i for i in intents if chance(rng, 0.5)] if "aivrAppId" in call else []
    abandoned = bool(call.get("abandoned"))
    handoff_ms = agents[0]["startMs"] if agents else None
    basis: dict[str, t.Any] = {
        "agentSegmentCount": len(agents),
        "agentSource": "SEGMENTS"
        if agents
        else ("CALL" if "agent" in call else "NONE"),
        "aiAnsweredAt": format_rfc3339(start),
        "automatedIntents": automated,
        "hipaaValidation": pick(rng, vocab.VERIFICATION_STATUSES),
        "intents": intents,
        "meterVersion": METER_VERSION,
        "reachedAgent": bool(agents) and not abandoned,
        "segmentSeconds": SEGMENT_SECONDS,
    }
    for key, source in (("platform", "aivrPlatform"), ("whoHungUp", "whoHungUp")):
        if source in call:
            basis[key] = call[source]
    if call.get("aivrTransferDestType"):
        basis["transferDestType"] = call["aivrTransferDestType"]
    if "queueWaitMs" in call:
        basis["queueWaitSec"] = int(call["queueWaitMs"]) // 1000
    total_sec = int(call.get("duration") or 0)
    if automated:
        span = handoff_ms / 1000 if handoff_ms is not None else float(total_sec)
        basis["automatedSpanSec"] = round(span, 3)
        if handoff_ms is not None:
            basis["handoffAt"] = format_ms_time(
                start + timedelta(milliseconds=handoff_ms)
            )
    if agents and not abandoned:
        basis["augmentedSpanSec"] = round(total_sec - (handoff_ms or 0) / 1000, 3)
    if abandoned:
        billing_class, rule = "ABANDONED", "ABANDONED"
    else:
        billing_class, rule = _CLASSES[bool(automated), bool(basis["reachedAgent"])]
    basis["rule"] = rule
    transactions = (
        []
        if billing_class in {"ABANDONED", "UNCLASSIFIED"}
        else (_automated(automated, start, basis) + _augmented(agents, start))
    )
    counts = {
        "automated": sum(1 for x in transactions if x["type"] == "AUTOMATED"),
        "augmented": sum(
            math.ceil(x["durationSec"] / SEGMENT_SECONDS)
            for x in transactions
            if x["type"] == "AUGMENTED"
        ),
    }
    counts["total"] = counts["automated"] + counts["augmented"]
    return {
        "basis": basis,
        "billingClass": billing_class,
        "counts": counts,
        "transactions": transactions,
    }


def _automated(
    intents: list[str], start: datetime, basis: Mapping[str, t.Any]
) -> list[dict[str, t.Any]]:
    span = int(float(basis.get("automatedSpanSec") or 0))
    end = format_rfc3339(start + timedelta(seconds=span))
    return [
        {
            "type": "AUTOMATED",
            "seq": seq,
            "of": len(intents),
            "durationSec": span,
            "startTime": format_rfc3339(start),
            "endTime": end,
        }
        for seq, _ in enumerate(intents, start=1)
    ]


def _augmented(
    agents: list[dict[str, t.Any]], start: datetime
) -> list[dict[str, t.Any]]:
    made = []
    for seq, segment in enumerate(agents, start=1):
        agent = segment["agent"]
        made.append(
            {
                "type": "AUGMENTED",
                "seq": seq,
                "of": len(agents),
                "durationSec": (segment["endMs"] - segment["startMs"]) // 1000,
                "startTime": format_ms_time(
                    start + timedelta(milliseconds=segment["startMs"])
                ),
                "endTime": format_ms_time(
                    start + timedelta(milliseconds=segment["endMs"])
                ),
                "segmentSeq": segment["segmentSeq"],
                "agent": {k: agent[k] for k in ("agentId", "name", "userId")},
                "queue": dict(segment["queue"]),
            }
        )
    return made
