"""A call's ``vonageCallStats`` (the vendor's ``VonageCallStats``), for ``full_model``.

Only calls whose ``aivrPlatform`` is ``vonageVcca`` get them (as the model
says), built from the call and its segments so the figures agree: the
caller's leg spans the call, the voicebot (``virtualAssistant``) its bot
segment, each agent segment is an agent channel (rung, connected, sometimes
held, then wrap-up), the queue wait is the call's ``queueWaitMs``. About 1 in
10 is a partial ``Ongoing`` snapshot (``outcome`` absent). For a
``Completed`` one the call's ``abandoned`` (and, when abandoned,
``queueWaitMs``) are set from ``derived``, which the model says supersede
them.
"""

from __future__ import annotations

import typing as t

from voicegain_sim import vocab
from voicegain_sim.randomness import chance, pick, rand_int, rand_uuid
from voicegain_sim.segments import make_segments

if t.TYPE_CHECKING:
    import random
    from collections.abc import Mapping

_PLAN = {
    "name": "IP-Member-Services",
    "addressName": "Member Services Main Line",
    "mappingName": "MS-Main",
    "reportingGroup": "Member Services",
}


def make_vonage_stats(rng: random.Random, call: dict[str, t.Any]) -> dict[str, t.Any]:
    """The call's ``VonageCallStats``; may set its ``abandoned``/``queueWaitMs``."""
    total = int(call.get("duration") or 0) * 1000
    segments = make_segments(call)
    bot = next((s for s in segments if s["type"] == "bot"), None)
    bot_ms = bot["endMs"] if bot else min(total, 30_000)
    agent_segments = [s for s in segments if s["type"] == "agent"]
    abandoned = bool(call.get("abandoned")) and not agent_segments
    queues = []
    if isinstance(call.get("queue"), dict) and (agent_segments or abandoned):
        wait = int(call.get("queueWaitMs") or rand_int(rng, 5_000, 240_000))
        queues.append(
            {
                "name": call["queue"]["name"],
                "offsetMs": bot_ms,
                "durationMs": wait,
                "planName": _PLAN["name"],
                "result": "HangUp" if abandoned else "Delivered",
                "skills": [pick(rng, ("English", "Spanish", "Claims", "Pharmacy"))],
            }
        )
    agents = [_agent(rng, s) for s in agent_segments]
    ongoing = chance(rng, 0.1)
    outcome = _outcome(call, agents, abandoned=abandoned)
    interaction: dict[str, t.Any] = {
        "id": rand_uuid(rng),
        "conversationId": rand_uuid(rng),
        "direction": "Inbound" if call.get("direction") != "outbound" else "Outbound",
        "connectFrom": call.get("externalEndpoint"),
        "connectTo": call.get("internalEndpoint"),
        "start": call["startTime"],
        "durationMs": total,
        "medium": "Phone",
        "serviceName": "Member Services",
        "plan": dict(_PLAN),
        "status": "Ongoing" if ongoing else "Completed",
        "handleTimeMs": sum(a["handleTimeMs"] for a in agents),
    }
    if not ongoing:
        interaction["outcome"] = outcome
    talk = sum(a["connected"]["durationMs"] for a in agents)
    if agents:
        interaction["talkTimeMs"] = talk
    derived = _derived(interaction, agents, queues, "" if ongoing else outcome)
    if not ongoing:  # final statistics supersede the live events' values
        call["abandoned"] = derived["abandonedInQueue"]
        if derived["abandonedInQueue"]:
            call["queueWaitMs"] = derived["abandonTimeMs"]
    return {
        "interaction": interaction,
        "agents": agents,
        "externalChannels": [
            _caller_leg(rng, total, bot_ms, agents, has_bot=bot is not None)
        ],
        "queues": queues,
        "derived": derived,
    }


def _outcome(call: Mapping[str, t.Any], agents: list[t.Any], *, abandoned: bool) -> str:
    if abandoned:
        return "Abandoned in queue"
    if agents:
        return "Handled by agent"
    if call.get("voicemailUuid"):
        return "Message taken"
    return "Abandoned in bot" if call.get("abandoned") else "Handled by CCR"


def _agent(rng: random.Random, segment: Mapping[str, t.Any]) -> dict[str, t.Any]:
    ring = rand_int(rng, 2_000, 15_000)
    start, end = int(segment["startMs"]), int(segment["endMs"])
    talk = max(1, end - start)
    wrap = rand_int(rng, 10_000, 90_000)
    agent: dict[str, t.Any] = {
        "channelOffsetMs": max(0, start - ring),
        "channelDurationMs": ring + talk + wrap,
        "ringing": [{"offsetMs": max(0, start - ring), "durationMs": ring}],
        "connected": {"offsetMs": start, "durationMs": talk},
        "held": [],
        "wrap": [{"offsetMs": end, "durationMs": wrap}],
        "transfers": [],
        "consults": [],
        "deliveryFailed": [],
        "email": segment["agent"]["email"],
        "endReason": "Released",
        "handleTimeMs": talk + wrap,
        "vonageAgentId": str(rand_int(rng, 100_000, 999_999)),
        "vonageUserId": rand_uuid(rng),
    }
    if chance(rng, 0.3):
        agent["held"].append(
            {
                "offsetMs": start + talk // 3,
                "durationMs": min(talk // 3, rand_int(rng, 5_000, 60_000)),
                "initiatingAgentId": agent["vonageAgentId"],
            }
        )
    if segment.get("transferDest"):
        transfer = {
            "offsetMs": end,
            "destination": "External"
            if segment.get("transferDestType") == "external"
            else "Agent",
            "target": segment["transferDest"],
            "type": pick(rng, ("Warm", "Cold")),
            "result": "Successful",
        }
        agent["transfers"].append(transfer)
        if transfer["type"] == "Warm":  # the agent consulted the target first
            connected = min(talk // 4, rand_int(rng, 10_000, 60_000))
            agent["consults"].append(
                {
                    "offsetMs": max(start, end - connected - 5_000),
                    "durationMs": connected + 5_000,
                    "connectedDurationMs": connected,
                    "destination": transfer["destination"],
                    "target": transfer["target"],
                    "result": "WarmTransfer",
                }
            )
    if chance(rng, 0.05):
        agent["deliveryFailed"].append({"offsetMs": max(0, start - ring - 1_000)})
    return agent


def _caller_leg(
    rng: random.Random,
    total: int,
    bot_ms: int,
    agents: list[dict[str, t.Any]],
    *,
    has_bot: bool,
) -> dict[str, t.Any]:
    leg: dict[str, t.Any] = {
        "channelOffsetMs": 0,
        "channelDurationMs": total,
        "connected": {"offsetMs": 0, "durationMs": total},
        "endReason": "Released",
        "ringing": [],
        "transferred": [dict(x) for a in agents for x in a["transfers"]],
        "callRecording": [{"offsetMs": 0, "durationMs": total}],
        "voicemailRecording": False,
    }
    if has_bot:
        leg["virtualAssistant"] = [
            {
                "offsetMs": 0,
                "durationMs": bot_ms,
                "name": pick(rng, vocab.VOICEBOT_NAMES),
                "messageCount": rand_int(rng, 2, 30),
                "result": "Completed",
            }
        ]
    return leg


def _derived(
    interaction: Mapping[str, t.Any],
    agents: list[dict[str, t.Any]],
    queues: list[dict[str, t.Any]],
    outcome: str,
) -> dict[str, t.Any]:
    ringing = sum(r["durationMs"] for a in agents for r in a["ringing"])
    answered = outcome == "Handled by agent"
    abandoned = "Abandoned in queue" in outcome
    delivered = sum(q["durationMs"] for q in queues if q["result"] == "Delivered")
    hung_up = sum(q["durationMs"] for q in queues if q["result"] == "HangUp")
    held = sum(h["durationMs"] for a in agents for h in a["held"])
    derived: dict[str, t.Any] = {
        "answered": answered,
        "abandonedInQueue": abandoned,
        "abandonedInIvr": outcome == "Abandoned in bot",
        "handledByIvr": outcome == "Handled by CCR",
        "messageTaken": outcome == "Message taken",
        "blocked": False,
        "answerTimeMs": (delivered or ringing) if answered else 0,
        "abandonTimeMs": (hung_up or ringing) if abandoned else 0,
        "holdTimeMs": held,
        "onHold": held > 0,
        "ringingTimeMs": ringing,
        "wrapTimeMs": sum(w["durationMs"] for a in agents for w in a["wrap"]),
        "transfersOut": sum(
            1 for a in agents for x in a["transfers"] if x["result"] == "Successful"
        ),
    }
    if agents:
        derived["firstAgentRingOffsetMs"] = agents[0]["ringing"][0]["offsetMs"]
        derived["talkTimeMs"] = interaction.get("talkTimeMs")
    return derived
