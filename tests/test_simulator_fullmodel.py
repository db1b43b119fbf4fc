"""The vendor's full VoiceCall (full_model=True); the default data stays as it was."""

from __future__ import annotations

import hashlib
import json
import re

import pytest
import requests

from voicegain_sim import VoicegainSimulator, make_calls
from voicegain_sim.__main__ import _parser, _simulator
from voicegain_sim.fullmodel import complete_call
from voicegain_sim.segments import make_segments

TOKEN = "full-token"
AUTH = {"Authorization": f"Bearer {TOKEN}"}

# JSON keys of the models of voicegain-speech 1.142.0 (attribute_map values).
MODEL = {
    name: frozenset(keys.split())
    for name, keys in {
        "VoiceCall": "agent aivrAppId aivrPlatform aivrSessionId aivrVars "
        "businessOpenState callCenterCallId dailyRepeatCalls direction dtmfEvents "
        "endTime expiryTime externalEndpoint internalEndpoint language markers "
        "modifiableNote numAudioChannels numSpkChannels originatingCallId queue "
        "recording startTime tags team voicebotVars whoHungUp callResolved "
        "ciAnswersId crAnswersId incidents keywords notes reviewNotes score "
        "sentiments topics unauditedScore voicemailDuration voicemailTranscript "
        "voicemailUuid wordCloud abandoned accountId aivrTransferDestType "
        "auditStatus billing callId contextId copilotDisplay copilotSent "
        "copilotUnAck csat duration inboundRtpQuality lastRecomputeTime "
        "mergedAudioId nps numSegments outboundRtpQuality progressPhase "
        "queueWaitMs recomputePhase referenceNumber reviewStatus saSessionId "
        "segments sentiment spawnedCalls version voicebotDuration vonageCallStats",
        "CallBilling": "basis billingClass counts transactions",
        "BillingBasis": "agentSegmentCount agentSource aiAnsweredAt augmentedSpanSec "
        "automatedIntents automatedSpanSec handoffAt hipaaValidation intents "
        "meterVersion platform queueWaitSec reachedAgent rule segmentSeconds "
        "transferDestType whoHungUp",
        "BilledCallCounts": "augmented automated total",
        "BilledTransaction": "agent durationSec endTime of queue segmentSeq seq "
        "startTime type",
        "BilledTransactionAgent": "agentId name userId",
        "BilledTransactionQueue": "name queueId",
        "CopilotDisplayResolved": "cards schemaVersion",
        "CopilotDisplayResolvedCard": "collapsible emphasis header id layout rows text",
        "CopilotDisplayResolvedHeader": "intent subtitle title",
        "CopilotDisplayResolvedHeaderIntent": "feedback tooltip value",
        "CopilotDisplayResolvedElement": "autoOpen copiable format id label "
        "labelStyle maxLines transform values",
        "CopilotDisplayResolvedValue": "annotation id value",
        "CopilotDisplayResolvedCardText": "body copiable title",
        "RtpQuality": "in_jitter_loss in_mos in_packet_count in_quality_pct "
        "in_skip_count out_jitter_loss out_mos out_packet_count out_quality_pct "
        "out_skip_count",
        "VonageCallStats": "agents derived externalChannels interaction queues",
        "VonageCallStatsInteraction": "connectFrom connectTo conversationId "
        "direction durationMs handleTimeMs id medium outcome plan serviceName "
        "start status talkTimeMs",
        "VonageCallStatsInteractionPlan": "addressName mappingName name reportingGroup",
        "VonageCallStatsAgent": "channelDurationMs channelOffsetMs connected "
        "consults deliveryFailed email endReason handleTimeMs held ringing "
        "transfers vonageAgentId vonageUserId wrap",
        "VonageCallStatsExternalChannel": "callRecording channelDurationMs "
        "channelOffsetMs connected endReason ringing transferred virtualAssistant "
        "voicemailRecording",
        "VonageCallStatsQueue": "durationMs name offsetMs planName result skills",
        "VonageCallStatsDerived": "abandonTimeMs abandonedInIvr abandonedInQueue "
        "answerTimeMs answered blocked firstAgentRingOffsetMs handledByIvr "
        "holdTimeMs messageTaken onHold ringingTimeMs talkTimeMs transfersOut "
        "wrapTimeMs",
        "VonageCallStatsConnected": "durationMs offsetMs",
        "VonageCallStatsInterval": "durationMs offsetMs",
        "VonageCallStatsHold": "durationMs initiatingAgentId offsetMs",
        "VonageCallStatsTransfer": "destination offsetMs result target type",
        "VonageCallStatsVirtualAssistant": "durationMs messageCount name offsetMs "
        "result",
        "VonageCallStatsConsult": "connectedDurationMs destination durationMs "
        "offsetMs result target",
        "VonageCallStatsDeliveryFailed": "offsetMs",
        "VoiceCallModifiableBaseVoicebotVars": "callerIntent callerType currentStep "
        "fullyAutomated lob obh verificationStatus voicemail",
        "SpeakerSentimentItem": "average final speaker trend",
        "CallMarker": "note time type",
        "Agent": "agentId email name userId channel",
        "Queue": "name queueId",
        "WordCloudItem": "freq phrase",
        "DtmfEventWithChannel": "dtmf timestamp channel",
    }.items()
}
NESTED = {
    "VoiceCall": {
        "agent": "Agent",
        "queue": "Queue",
        "dtmfEvents": "DtmfEventWithChannel",
        "markers": "CallMarker",
        "voicebotVars": "VoiceCallModifiableBaseVoicebotVars",
        "sentiments": "SpeakerSentimentItem",
        "wordCloud": "WordCloudItem",
        "billing": "CallBilling",
        "copilotDisplay": "CopilotDisplayResolved",
        "inboundRtpQuality": "RtpQuality",
        "outboundRtpQuality": "RtpQuality",
        "vonageCallStats": "VonageCallStats",
    },
    "CallBilling": {
        "basis": "BillingBasis",
        "counts": "BilledCallCounts",
        "transactions": "BilledTransaction",
    },
    "BilledTransaction": {
        "agent": "BilledTransactionAgent",
        "queue": "BilledTransactionQueue",
    },
    "CopilotDisplayResolved": {"cards": "CopilotDisplayResolvedCard"},
    "CopilotDisplayResolvedCard": {
        "header": "CopilotDisplayResolvedHeader",
        "rows": "CopilotDisplayResolvedElement",
        "text": "CopilotDisplayResolvedCardText",
    },
    "CopilotDisplayResolvedHeader": {
        "intent": "CopilotDisplayResolvedHeaderIntent",
        "subtitle": "CopilotDisplayResolvedElement",
        "title": "CopilotDisplayResolvedElement",
    },
    "CopilotDisplayResolvedElement": {"values": "CopilotDisplayResolvedValue"},
    "VonageCallStats": {
        "agents": "VonageCallStatsAgent",
        "derived": "VonageCallStatsDerived",
        "externalChannels": "VonageCallStatsExternalChannel",
        "interaction": "VonageCallStatsInteraction",
        "queues": "VonageCallStatsQueue",
    },
    "VonageCallStatsInteraction": {"plan": "VonageCallStatsInteractionPlan"},
    "VonageCallStatsAgent": {
        "connected": "VonageCallStatsConnected",
        "consults": "VonageCallStatsConsult",
        "deliveryFailed": "VonageCallStatsDeliveryFailed",
        "held": "VonageCallStatsHold",
        "ringing": "VonageCallStatsInterval",
        "transfers": "VonageCallStatsTransfer",
        "wrap": "VonageCallStatsInterval",
    },
    "VonageCallStatsExternalChannel": {
        "callRecording": "VonageCallStatsInterval",
        "connected": "VonageCallStatsConnected",
        "ringing": "VonageCallStatsInterval",
        "transferred": "VonageCallStatsTransfer",
        "virtualAssistant": "VonageCallStatsVirtualAssistant",
    },
}
ENUMS = {
    "whoHungUp": {"us", "other_party"},
    "reviewStatus": {"selected", "reviewed", "communicated", "viewed", "acknowledged"},
    "aivrPlatform": {"freeSwitch", "vonageVcca", "five9VoiceStream", "trampoline"},
    "aivrTransferDestType": {"internal", "external", "agency"},
    "businessOpenState": {"open", "off-hours", "closed"},
    "auditStatus": {"not_started", "in_progress", "complete"},
    "recomputePhase": {"requested", "queued", "processing", "completed", "error"},
    "direction": {"inbound", "outbound"},
}
MARKER_TYPES = {
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
# make_calls(80, seed=0) before full_model existed (json.dumps, default options).
DEFAULT_80_SHA256 = "00dcc4dd438b88c5c199d8b5bcd00725e24c2b72f636eb6b349372e7784c3886"


@pytest.fixture(scope="module")
def full():
    return make_calls(600, seed=61, full_model=True)


@pytest.fixture
def http():
    with requests.Session() as session:
        yield session


def walk(value, model, seen):
    """Check keys against the model, recursively; note which keys were seen."""
    assert isinstance(value, dict), (model, value)
    assert set(value) <= MODEL[model], (model, set(value) - MODEL[model])
    seen.setdefault(model, set()).update(value)
    for key, inner in NESTED.get(model, {}).items():
        if key not in value:
            continue
        for item in value[key] if isinstance(value[key], list) else [value[key]]:
            walk(item, inner, seen)


def test_default_data_is_what_it_always_was():
    plain = make_calls(80, seed=0)
    digest = hashlib.sha256(json.dumps(plain).encode()).hexdigest()
    assert digest == DEFAULT_80_SHA256
    assert make_calls(80, seed=0, full_model=False) == plain
    added = {"billing", "copilotDisplay", "vonageCallStats", "unauditedScore"}
    assert not added & {k for call in make_calls(500, seed=7) for k in call}


def test_every_field_of_the_vendor_model_appears(full):
    seen: dict[str, set[str]] = {}
    for call in full:
        walk(call, "VoiceCall", seen)
    assert seen["VoiceCall"] == MODEL["VoiceCall"] - {"segments"}  # inclSegments
    for model in (
        "CallBilling",
        "BillingBasis",
        "BilledTransaction",
        "CopilotDisplayResolvedCard",
        "CopilotDisplayResolvedElement",
        "CopilotDisplayResolvedHeader",
        "RtpQuality",
        "VonageCallStats",
        "VonageCallStatsInteraction",
        "VonageCallStatsAgent",
        "VonageCallStatsExternalChannel",
        "VonageCallStatsDerived",
        "VoiceCallModifiableBaseVoicebotVars",
        "VonageCallStatsConsult",
        "VonageCallStatsTransfer",
        "VonageCallStatsHold",
        "VonageCallStatsDeliveryFailed",
        "VonageCallStatsVirtualAssistant",
    ):
        assert seen[model] == MODEL[model], model


def test_values_are_within_the_vendor_enums(full):
    for call in full:
        for key, allowed in ENUMS.items():
            if key in call:
                assert call[key] in allowed, (key, call[key])
        assert {m["type"] for m in call["markers"]} <= MARKER_TYPES
        assert all(isinstance(v, str) for v in call.get("aivrVars", {}).values())
        assert call["auditStatus"] in ENUMS["auditStatus"]
        assert call["numSegments"] >= 1


def test_scores_and_reference_numbers(full):
    for call in full:
        if "score" in call:
            assert isinstance(call["unauditedScore"], float)
            if call["auditStatus"] != "complete":
                assert call["unauditedScore"] == call["score"]
        else:
            assert "unauditedScore" not in call
        if "referenceNumber" in call:
            assert re.fullmatch(r"CASEY\d{10}(,CASEY\d{10})?", call["referenceNumber"])
            assert call["aivrVars"]["referenceNumber"] == call["referenceNumber"]
    assert any("," in c.get("referenceNumber", "") for c in full)


def test_vonage_statistics_agree_with_the_call(full):
    vonage = [c for c in full if "vonageCallStats" in c]
    assert vonage
    for call in vonage:
        assert call["aivrPlatform"] == "vonageVcca"
        stats = call["vonageCallStats"]
        derived, interaction = stats["derived"], stats["interaction"]
        assert interaction["start"] == call["startTime"]
        assert interaction["durationMs"] == call["duration"] * 1000
        agents = [s for s in make_segments(call) if s["type"] == "agent"]
        assert len(stats["agents"]) == len(agents)
        if interaction["status"] == "Completed":
            assert derived["answered"] == (interaction["outcome"] == "Handled by agent")
            assert call["abandoned"] == derived["abandonedInQueue"]
        else:
            assert "outcome" not in interaction
            assert not derived["answered"]
            assert not derived["abandonedInQueue"]
    assert {c["vonageCallStats"]["interaction"]["status"] for c in vonage} == {
        "Completed",
        "Ongoing",
    }


def test_billing_agrees_with_the_segments(full):
    billed = [c for c in full if "billing" in c]
    assert billed
    classes = set()
    for call in billed:
        billing = call["billing"]
        classes.add(billing["billingClass"])
        counts, transactions = billing["counts"], billing["transactions"]
        assert counts["total"] == counts["automated"] + counts["augmented"]
        agents = {
            s["segmentSeq"]: s for s in make_segments(call) if s["type"] == "agent"
        }
        assert billing["basis"]["agentSegmentCount"] == len(agents)
        for kind in ("AUTOMATED", "AUGMENTED"):
            mine = [x for x in transactions if x["type"] == kind]
            assert [x["seq"] for x in mine] == list(range(1, len(mine) + 1))
            assert all(x["of"] == len(mine) for x in mine)
        for transaction in transactions:
            if transaction["type"] == "AUGMENTED":
                segment = agents[transaction["segmentSeq"]]
                assert transaction["agent"]["agentId"] == segment["agent"]["agentId"]
            else:
                assert "segmentSeq" not in transaction
        if billing["billingClass"] in {"ABANDONED", "UNCLASSIFIED"}:
            assert transactions == []
    assert {"AUTOMATED", "AUTOMATED_AND_AUGMENTED", "AUGMENTED"} <= classes


def test_completing_is_stable_and_leaves_the_input_alone(full):
    plain = make_calls(50, seed=61)
    before = json.dumps(plain)
    once = [complete_call(call) for call in plain]
    assert json.dumps(plain) == before
    assert once == full[:50]
    assert [complete_call(call) for call in once] == once


def test_the_simulator_completes_given_generated_and_added_calls(http):
    plain = make_calls(20, seed=62)
    with VoicegainSimulator(plain, token=TOKEN, full_model=True) as sim:
        assert sim.full_model
        assert sim.calls == [complete_call(c) for c in plain]
        added = sim.add_generated(5)
        imported = sim.add_imported(2)
        http.post(f"{sim.url}/_sim/add", params={"count": 3}, timeout=10)
        served = http.get(
            f"{sim.url}/sa/call", headers=AUTH, params={"per_page": 100}, timeout=10
        ).json()
    assert len(served) == 30
    assert all("auditStatus" in c and "numSegments" in c for c in served)
    assert served[20:25] == added
    assert served[25:27] == imported
    with VoicegainSimulator(token=TOKEN, full_model=True) as generated:
        assert len(generated.calls) == 100
        assert all("numSegments" in c for c in generated.calls)


def test_billing_only_on_request_as_the_vendor_documents(http, full):
    calls = [c for c in full if "billing" in c][:5]
    target = calls[0]["callId"]
    one = f"/sa/call/{target}"
    with VoicegainSimulator(calls, token=TOKEN, billing_reading="on_request") as sim:

        def get(path, **params):
            return http.get(f"{sim.url}{path}", headers=AUTH, params=params, timeout=10)

        assert not any("billing" in c for c in get("/sa/call").json())
        assert not any(
            "billing" in c for c in get("/sa/call", inclBilling="true").json()
        )
        assert "billing" not in get(one).json()
        assert "billing" not in get(one, inclBilling="false").json()
        assert get(one, inclBilling="true").json()["billing"] == calls[0]["billing"]
        refused = get(one, inclBilling="often")
        assert refused.status_code == 400
        assert "'inclBilling'" in refused.json()["message"]
        sim.billing_reading = "stored"
        assert all("billing" in c for c in get("/sa/call").json())
    with pytest.raises(ValueError, match="billing_reading"):
        VoicegainSimulator(calls, billing_reading="never")


def test_full_model_with_segments_gives_every_call_segments(http, full):
    with VoicegainSimulator(full[:30], token=TOKEN, segments=True) as sim:
        page = http.get(
            f"{sim.url}/sa/call", headers=AUTH, params={"inclSegments": "true"}
        ).json()
    assert all(len(c["segments"]) == c["numSegments"] for c in page)
    voicemail = [c for c in full if "voicemailUuid" in c and c["numSegments"]]
    assert voicemail
    last = make_segments(voicemail[0])[-1]
    assert last["voicemailUuid"] == voicemail[0]["voicemailUuid"]


def test_cli_flags_for_the_full_model():
    args = _parser().parse_args(
        ["--calls", "4", "--full-model", "--billing-reading", "on_request"]
    )
    sim = _simulator(args)
    assert sim.billing_reading == "on_request"
    assert all("auditStatus" in c for c in sim.calls)
    plain = _simulator(_parser().parse_args(["--calls", "4"]))
    assert plain.billing_reading == "stored"
    assert plain.calls == make_calls(4)
