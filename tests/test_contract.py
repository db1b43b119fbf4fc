"""The field tables and filters against the vendor's published client.

``voicegain-speech`` is generated from the API's OpenAPI description: the one
description of the API nobody here wrote. It is a pinned test dependency
(pyproject.toml, group ``test``); docs/development.md says how to run this file
against a newer release. A field or parameter the tap neither handles nor lists
below as deliberately left out fails the test.
"""

from __future__ import annotations

import inspect
import re
from pathlib import Path

import pytest
from voicegain_speech import models
from voicegain_speech.api import SaInternalApi

from tap_voicegain import settings
from tap_voicegain.records.fields import AGENT, CALL_FIELDS, QUEUE, SEGMENT_FIELDS
from tap_voicegain.streams.passes import FINISHED_PHASES
from tests.readings_support import FINISHED, IN_PROGRESS

# The model's type -> the kind of our field table.
KINDS = {
    "str": "string",
    "int": "integer",
    "float": "number",
    "bool": "boolean",
    "datetime": "datetime",
    "list[str]": "strings",
    "list[CallMarker]": "markers",
    "list[WordCloudItem]": "words",
    "list[DtmfEventWithChannel]": "dtmf",
    "list[SpeakerSentimentItem]": "sentiments",
    "list[CallSegment]": "rows",
    "Agent": "nested",
    "Queue": "nested",
}
ENUMS = {"ProgressPhase", "Language", "TransferDestType", "AuditStatus", "SegmentType"}
# Typed differently on purpose, each with its reason.
OURS_ON_PURPOSE = {
    # Numeric text in the model; the tap pages by callId, an integer (README).
    "callId": "integer",
    "originatingCallId": "integer",
}
# sa_call_query parameters the tap does not send, each with its reason.
PARAMETERS_LEFT_OUT = {
    "contextId": "only for MAC authentication without a JWT; the tap sends the JWT",
}
PARAMETERS_SENT = {
    "format",
    "consecutive",
    "afterCallId",
    "fromTime",
    "toTime",
    "page",
    "per_page",
    "sort_by",
    "sort_dir",
    "inclSegments",
    *settings.Settings().filter_params(),
}


def expected_kind(model_type: str) -> str:
    if model_type in KINDS:
        return KINDS[model_type]
    if model_type in ENUMS:
        return "string"
    return "object"  # another model or a map: kept whole, as JSON


def model_fields(model: type) -> dict[str, str]:
    """JSON key -> the model's type of each field."""
    return {
        model.attribute_map[attr]: kind for attr, kind in model.openapi_types.items()
    }


@pytest.mark.parametrize(
    ("model", "table"),
    [(models.VoiceCall, CALL_FIELDS), (models.CallSegment, SEGMENT_FIELDS)],
    ids=["VoiceCall", "CallSegment"],
)
def test_every_field_of_the_model_is_in_the_table_with_its_kind(model, table):
    ours = {field.json_key: field for field in table if field.json_key is not None}
    theirs = model_fields(model)
    assert sorted(set(theirs) - set(ours)) == []  # fields the table lacks
    assert sorted(set(ours) - set(theirs)) == []  # fields the model lacks
    wrong = {
        key: (model_type, ours[key].kind)
        for key, model_type in theirs.items()
        if ours[key].kind != OURS_ON_PURPOSE.get(key, expected_kind(model_type))
    }
    assert wrong == {}
    assert all(field.description for field in table)


@pytest.mark.parametrize(
    ("model", "subs"), [(models.Agent, AGENT), (models.Queue, QUEUE)], ids=str
)
def test_agent_and_queue_have_the_models_sub_fields(model, subs):
    assert sorted(sub.json for sub in subs) == sorted(model.attribute_map.values())


def test_every_query_parameter_is_sent_or_left_out_with_a_reason():
    source = inspect.getsource(SaInternalApi.sa_call_query_with_http_info)
    theirs = set(re.findall(r"query_params\.append\(\('(\w+)'", source))
    assert len(theirs) == 20
    filters = {
        "direction": "inbound",
        "internal_endpoints": ["1"],
        "user_group_ids": ["g"],
        "voicemail": True,
        "recompute_phases": ["queued"],
        "period": "today",
        "from_time": "2024-01-01T00:00:00Z",
        "to_time": "2024-01-02T00:00:00Z",
        "agent_ids": ["a"],
        "queue_ids": ["q"],
        "aivr_app_ids": ["v"],
    }
    sent = PARAMETERS_SENT | set(settings.Settings(**filters).filter_params())
    assert sorted(theirs - sent - set(PARAMETERS_LEFT_OUT)) == []
    assert sorted(sent - theirs) == []


def test_the_filters_take_the_models_values():
    assert list(settings.PERIODS) == models.RecentPeriodOptional.allowable_values
    schema = settings.config_schema()["properties"]
    assert schema["direction"]["enum"] == ["inbound", "outbound", None]  # None: unset
    # recomputePhase is a str in the model, its values listed by its setter.
    source = inspect.getsource(models.VoiceCall.recompute_phase.fset)
    allowed = re.search(r"allowed_values = \[(.*?)\]", source)
    assert allowed is not None
    values = re.findall(r'"(\w+)"', allowed.group(1))
    assert schema["recompute_phases"]["items"]["enum"] == values


def test_every_phase_of_the_model_has_a_reading():
    # A phase a newer client adds fails here until docs/api-readings.md's table
    # and the tests' phase lists (tests/readings_support.py) take a side on it.
    theirs = {
        value
        for name, value in vars(models.ProgressPhase).items()
        if name.isupper() and isinstance(value, str)
    }
    assert theirs == set(FINISHED) | set(IN_PROGRESS)
    assert set(FINISHED) == FINISHED_PHASES
    doc = (Path(__file__).parents[1] / "docs" / "api-readings.md").read_text("utf-8")
    table = {line.split("|")[1].strip() for line in doc.splitlines() if "| " in line}
    named = {p.strip() for row in table for p in row.split(",")}
    assert theirs <= named
