"""The vendor's full ``VoiceCall``: every field, values within its enums (opt-in).

``make_calls(..., full_model=True)`` and ``VoicegainSimulator(full_model=True)``
pass each call through :func:`complete_call`. The default data is untouched
(its seeds and the golden files stay byte for byte); this adds, for a share
of calls, each ``VoiceCall`` field of ``voicegain-speech`` 1.142.0 that the
default generator leaves out, and brings the values it does generate inside
the model's enums:

* added: ``billing`` (:mod:`voicegain_sim.billing`), ``copilotDisplay`` with
  ``copilotSent``/``copilotUnAck``, ``referenceNumber`` (also in ``aivrVars``;
  now and then two, comma-joined), ``unauditedScore`` (with every ``score``;
  different only after a completed audit), ``vonageCallStats``
  (:mod:`voicegain_sim.vonage`, ``vonageVcca`` calls only), ``voicebotVars``,
  ``ciAnswersId``, ``mergedAudioId``, ``modifiableNote``, ``voicemailDuration``
  / ``voicemailTranscript`` / ``voicemailUuid`` (about 1 call in 20),
  ``outboundRtpQuality``, ``recomputePhase``, ``numSegments`` (every call),
  ``auditStatus`` (every call, ``not_started`` unless audited);
* conformed: ``whoHungUp`` (``us``/``other_party``), ``reviewStatus``
  (``selected``, ``reviewed``, ``communicated``, ...), ``aivrPlatform``
  (``freeSwitch``, ``vonageVcca``, ...), ``aivrTransferDestType`` (lower
  case), ``aivrVars`` values (strings, as ``dict(str, str)`` says),
  ``markers[].type`` (the ``CallMarker`` enum; ``CC_HANGUP`` markers, which it
  lacks, are dropped), ``inboundRtpQuality`` (the model's ``in_*``/``out_*``
  keys).

``segments`` stay the business of ``inclSegments`` (:mod:`voicegain_sim.segments`).
Each decision draws from its own generator seeded with the field name and the
call's callId and saSessionId, so the result depends on the call alone and
completing a completed call changes nothing.
"""

from __future__ import annotations

import random
import typing as t
from datetime import timedelta

from voicegain_sim import vocab
from voicegain_sim.billing import make_billing
from voicegain_sim.randomness import chance, pick, rand_int, rand_uuid
from voicegain_sim.times import parse_rfc3339
from voicegain_sim.vonage import make_vonage_stats

if t.TYPE_CHECKING:
    from collections.abc import Mapping

WHO_HUNG_UP = {"caller": "other_party", "agent": "us", "system": "us"}
REVIEW_STATUS = {
    "complete": "reviewed",
    "in_progress": "selected",
    "disputed": "communicated",
}
MARKER_TYPES = {"CC_QUEUE_ENTER": "CC_ANSWER", "TRANSFER": "WARM_TRANSFER_START"}
VENDOR_MARKER_TYPES = frozenset(
    {
        "CC_ANSWER",
        "CC_AGENT_ANSWER",
        "WARM_TRANSFER_START",
        "WARM_TRANSFER_SUCCESS",
        "WARM_TRANSFER_ABANDON",
        "HOLD",
        "UNHOLD",
        "VM_START",
        "VM_END",
    }
)
_RTP_SIDES = ("in", "out")


def _rng(call: Mapping[str, t.Any], name: str) -> random.Random:
    return random.Random(f"full:{name}:{call.get('callId')}:{call.get('saSessionId')}")  # noqa: S311


def complete_calls(calls: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """:func:`complete_call` for each call."""
    return [complete_call(call) for call in calls]


def complete_call(call: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """A copy of the call carrying the vendor's full model (see the module)."""
    full = {
        key: [dict(v) if isinstance(v, dict) else v for v in value]
        if isinstance(value, list)
        else dict(value)
        if isinstance(value, dict)
        else value
        for key, value in call.items()
    }
    _conform(full)
    _add_plain(full)
    if "aivrAppId" in full:
        _add_voicebot(full)
    if (
        full.get("aivrPlatform") == "vonageVcca"
        and "vonageCallStats" not in full
        and chance(_rng(full, "vonage"), 0.8)
    ):
        full["vonageCallStats"] = make_vonage_stats(_rng(full, "vonage:stats"), full)
    share = 0.6 if "aivrAppId" in full else 0.15
    if "billing" not in full and chance(_rng(full, "billing"), share):
        full["billing"] = make_billing(_rng(full, "billing:data"), full)
    return full


def _conform(call: dict[str, t.Any]) -> None:
    """Bring generated values inside the vendor's enums."""
    if call.get("whoHungUp") in WHO_HUNG_UP:
        call["whoHungUp"] = WHO_HUNG_UP[call["whoHungUp"]]
    if call.get("reviewStatus") in REVIEW_STATUS:
        call["reviewStatus"] = REVIEW_STATUS[call["reviewStatus"]]
    if isinstance(call.get("aivrTransferDestType"), str):
        call["aivrTransferDestType"] = call["aivrTransferDestType"].lower()
    if "aivrPlatform" in call and call["aivrPlatform"] not in vocab.AIVR_PLATFORMS:
        call["aivrPlatform"] = pick(_rng(call, "platform"), vocab.AIVR_PLATFORMS)
    if isinstance(call.get("aivrVars"), dict):
        call["aivrVars"] = {
            str(k): ("true" if v else "false") if isinstance(v, bool) else str(v)
            for k, v in call["aivrVars"].items()
        }
    if isinstance(call.get("markers"), list):
        markers = []
        for marker in call["markers"]:
            kind = MARKER_TYPES.get(marker.get("type"), marker.get("type"))
            if kind in VENDOR_MARKER_TYPES:
                markers.append({**marker, "type": kind})
        call["markers"] = markers
    inbound = call.get("inboundRtpQuality")
    if isinstance(inbound, dict) and "in_mos" not in inbound:
        call["inboundRtpQuality"] = _rtp(_rng(call, "rtp:in"), int(call["duration"]))


def _rtp(rng: random.Random, duration: int) -> dict[str, t.Any]:
    quality: dict[str, t.Any] = {}
    for side in _RTP_SIDES:
        packets = max(1, duration) * 50
        quality[f"{side}_jitter_loss"] = round(rng.uniform(0.0, 0.05), 4)
        quality[f"{side}_mos"] = round(rng.uniform(3.0, 4.5), 2)
        quality[f"{side}_packet_count"] = packets
        quality[f"{side}_quality_pct"] = round(rng.uniform(85.0, 100.0), 1)
        quality[f"{side}_skip_count"] = rand_int(rng, 0, packets // 100)
    return quality


def _add_plain(call: dict[str, t.Any]) -> None:
    """Fields any call may have."""
    call.setdefault("auditStatus", "not_started")
    if "numSegments" not in call:
        rng = _rng(call, "numSegments")
        count = (1 if "aivrAppId" in call else 0) + (1 if "agent" in call else 0)
        if "agent" in call and chance(rng, 0.25):
            count += 1  # a transfer to another agent or a supervisor
        call["numSegments"] = max(1, count)
    if "score" in call and "unauditedScore" not in call:
        rng = _rng(call, "unauditedScore")
        score = float(call["score"])
        call["unauditedScore"] = (
            round(min(100.0, max(0.0, score + rng.uniform(-12.0, 12.0))), 1)
            if call.get("auditStatus") == "complete"
            else score
        )
    _add_analysis_ids(call)
    if "modifiableNote" not in call and chance(_rng(call, "note"), 0.1):
        call["modifiableNote"] = pick(_rng(call, "note:text"), vocab.MODIFIABLE_NOTES)
    if "voicemailUuid" not in call and chance(_rng(call, "voicemail"), 0.05):
        rng = _rng(call, "voicemail:data")
        call["voicemailDuration"] = round(rng.uniform(5.0, 90.0), 1)
        call["voicemailTranscript"] = pick(rng, vocab.VOICEMAIL_TRANSCRIPTS)
        call["voicemailUuid"] = rand_uuid(rng)
    if "inboundRtpQuality" in call and "outboundRtpQuality" not in call:
        call["outboundRtpQuality"] = _rtp(_rng(call, "rtp:out"), int(call["duration"]))
    if "recomputePhase" not in call:
        if "lastRecomputeTime" in call:
            call["recomputePhase"] = "completed"
        elif chance(_rng(call, "recompute"), 0.03):
            phases = ("requested", "queued", "error")
            call["recomputePhase"] = pick(_rng(call, "recompute:phase"), phases)


def _add_analysis_ids(call: dict[str, t.Any]) -> None:
    """Ids that speech analytics leaves on a call with a session."""
    if not call.get("saSessionId"):
        return
    if "ciAnswersId" not in call and chance(_rng(call, "ci"), 0.5):
        call["ciAnswersId"] = rand_uuid(_rng(call, "ci:id"))
    if "mergedAudioId" not in call and chance(_rng(call, "merged"), 0.9):
        call["mergedAudioId"] = rand_uuid(_rng(call, "merged:id"))


def _add_voicebot(call: dict[str, t.Any]) -> None:
    """Fields of calls a voicebot (an AIVR app) answered."""
    if "voicebotVars" not in call:
        rng = _rng(call, "voicebotVars")
        intents = ",".join(
            dict.fromkeys(call.get("topics") or [pick(rng, vocab.TOPICS)])
        )
        variables: dict[str, t.Any] = {
            "callerIntent": intents,
            "callerType": pick(rng, vocab.CALLER_TYPES),
            "currentStep": "Transfer" if "agent" in call else "Goodbye",
            "lob": pick(rng, vocab.LINES_OF_BUSINESS),
            "obh": call.get("businessOpenState") == "closed",
            "verificationStatus": pick(rng, vocab.VERIFICATION_STATUSES),
            "voicemail": "voicemailUuid" in call,
        }
        if "agent" not in call or chance(rng, 0.3):
            variables["fullyAutomated"] = intents.split(",")[0].lower()
        call["voicebotVars"] = variables
    if "referenceNumber" not in call and chance(_rng(call, "reference"), 0.7):
        start = parse_rfc3339(str(call["startTime"]))
        number = f"CASEY{start:%y%m%d%H%M}"
        if chance(_rng(call, "reference:two"), 0.05):
            number += f",CASEY{start + timedelta(minutes=1):%y%m%d%H%M}"
        call["referenceNumber"] = number
        call["aivrVars"] = {**call.get("aivrVars", {}), "referenceNumber": number}
    if (
        "agent" in call
        and "copilotDisplay" not in call
        and chance(_rng(call, "copilot"), 0.5)
    ):
        rng = _rng(call, "copilot:card")
        call["copilotDisplay"] = _copilot_display(rng, call)
        call["copilotSent"] = float(rand_int(rng, 1, 40))
        call["copilotUnAck"] = float(rand_int(rng, 0, 2))


def _copilot_display(rng: random.Random, call: Mapping[str, t.Any]) -> dict[str, t.Any]:
    """The last AI Copilot card shown to the agent at hand-off."""
    variables = call.get("voicebotVars") or {}
    verified = variables.get("verificationStatus") == "fully_verified"
    member = (
        call.get("aivrVars", {}).get("memberId") or f"{rand_int(rng, 0, 10**8):08d}"
    )
    caller_type = str(variables.get("callerType") or "member").lower()
    caller = {
        "id": "caller",
        "layout": "rows",
        "collapsible": False,
        "emphasis": "normal",
        "header": {
            "title": {"id": "title", "label": "Caller", "format": "value"},
            "subtitle": {
                "id": "callerType",
                "format": "tag",
                "transform": "titlecase",
                "values": [{"id": "callerType", "value": caller_type}],
            },
            "intent": {
                "value": str(variables.get("callerIntent") or "Unknown"),
                "tooltip": "Intent stated to the voicebot",
                "feedback": True,
            },
        },
        "rows": [
            {
                "id": "memberId",
                "label": "Member ID",
                "format": "value",
                "copiable": True,
                "labelStyle": ["bold"],
                "values": [
                    {
                        "id": "memberId",
                        "value": member,
                        "annotation": "verified" if verified else "unverified",
                    }
                ],
            },
            {
                "id": "phone",
                "label": "Phone",
                "format": "phone",
                "copiable": True,
                "values": [{"id": "ani", "value": str(call.get("externalEndpoint"))}],
            },
            {
                "id": "summary",
                "label": "Notes for Agent",
                "format": "multiline",
                "maxLines": 3,
                "values": [{"id": "summary", "value": str(call.get("notes") or "")}],
            },
            {
                "id": "claim",
                "label": "Open claim",
                "format": "link",
                "autoOpen": pick(rng, ("newTabBackground", "newTabForeground")),
                "values": [
                    {"id": "url", "value": f"https://crm.example.com/m/{member}"}
                ],
            },
        ],
    }
    notes = {
        "id": "notes",
        "layout": "text",
        "collapsible": True,
        "emphasis": "alert" if chance(rng, 0.2) else "normal",
        "text": {
            "title": "Notes for Agent",
            "body": f"Caller asked about {variables.get('callerIntent') or 'a claim'}.",
            "copiable": True,
        },
    }
    return {"schemaVersion": "1.1", "cards": [caller, notes]}
