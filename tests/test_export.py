"""The calls stream against the simulator: fields, formats, paging and state."""

from __future__ import annotations

import pytest

from tests.helpers import TOKEN, bookmark, calls_entry, run_tap, state_with_bookmark
from tests.oracle import GUIDE_FIELDS, expected_guide_fields, exported
from voicegain_sim import VoicegainSimulator, make_calls


def test_json_records_carry_every_guide_field_of_the_source(sim, config):
    run = run_tap(config)
    source = exported(sim.calls)
    assert run.call_ids == [int(c["callId"]) for c in source]
    for record, src in zip(run.records, source, strict=True):
        expected = expected_guide_fields(src)
        for field in GUIDE_FIELDS:
            assert record[field] == expected[field], (src["callId"], field)


def test_json_model_fields_beyond_the_guide_are_typed(sim, config):
    run = run_tap(config)
    by_id = {r["callId"]: r for r in run.records}
    seen = set()
    for src in exported(sim.calls):
        record = by_id[int(src["callId"])]
        for field in (
            "team",
            "whoHungUp",
            "auditStatus",
            "csat",
            "nps",
            "queueWaitMs",
            "numSegments",
            "abandoned",
            "aivrVars",
            "sentiments",
            "expiryTime",
        ):
            if src.get(field) is None:
                assert record[field] is None
                continue
            seen.add(field)
            value = record[field]
            if field in {"csat", "nps"}:
                assert value == float(src[field])
            elif field == "expiryTime":
                assert value.endswith("+00:00")
            elif field == "sentiments":
                assert [s["speaker"] for s in value] == [
                    s["speaker"] for s in src[field]
                ]
            else:
                assert value == src[field]
    assert len(seen) >= 6, seen  # the simulator's data does exercise them


def test_csv_and_json_give_identical_records(sim, config):
    json_run = run_tap(config)
    csv_run = run_tap({**config, "format": "csv"})
    assert csv_run.call_ids == json_run.call_ids
    for from_csv, from_json in zip(csv_run.records, json_run.records, strict=True):
        for field in GUIDE_FIELDS:
            assert from_csv[field] == from_json[field], (from_json["callId"], field)
    # Same columns, in the same order, whatever the format.
    assert list(csv_run.records[0]) == list(json_run.records[0])


def test_csv_times_are_read_in_the_configured_zone():
    calls = make_calls(30, seed=3)
    with VoicegainSimulator(calls, token=TOKEN, csv_timezone="America/Chicago") as sim:
        base = {"jwt_token": TOKEN, "api_url": sim.url, "format": "csv"}
        local = run_tap({**base, "csv_timezone": "America/Chicago"})
        wrong = run_tap(base)
    expected = [expected_guide_fields(c)["startTime"] for c in exported(calls)]
    assert [r["startTime"] for r in local.records] == expected
    assert [r["startTime"] for r in wrong.records] != expected


def test_text_ids_and_phone_numbers_stay_text(sim, config):
    records = run_tap({**config, "format": "csv"}).records
    agent_ids = [r["agent"]["id"] for r in records if r["agent"] and r["agent"]["id"]]
    assert any(a.startswith("0") for a in agent_ids)
    phones = [r["externalEndpoint"] for r in records if r["externalEndpoint"]]
    assert any(p.startswith("+") for p in phones)
    assert any(p.startswith("00") for p in phones)
    notes = [r["notes"] for r in records if r["notes"]]
    assert any("\n" in n for n in notes)
    assert any('"' in n for n in notes)


def test_second_run_from_state_emits_only_new_calls(sim, config):
    first = run_tap(config)
    last_id = first.call_ids[-1]
    assert bookmark(first.last_state) == last_id

    new_calls = make_calls(15, seed=99, first_id=last_id + 3)
    sim.add_calls(new_calls)
    second = run_tap(config, state=first.last_state)
    assert second.call_ids == [int(c["callId"]) for c in new_calls]
    assert bookmark(second.last_state) == second.call_ids[-1]


def test_run_with_nothing_new_keeps_and_re_emits_the_bookmark(sim, config):
    first = run_tap(config)
    again = run_tap(config, state=first.last_state)
    assert again.records == []
    assert again.states, "a STATE message is still written"
    assert bookmark(again.last_state) == first.call_ids[-1]


def test_start_after_call_id_compares_ids_as_integers():
    # callIds 8, 9, 10, 11: as text "10" < "9" and a text compare would skip them.
    calls = make_calls(4, seed=1)
    for new_id, call in zip((8, 9, 10, 11), calls, strict=True):
        call["callId"] = str(new_id)
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = run_tap(
            {
                "jwt_token": TOKEN,
                "api_url": sim.url,
                "start_after_call_id": 9,
                "per_page": 1,
            }
        )
    assert run.call_ids == [10, 11]


@pytest.mark.parametrize("callid_as", ["string", "number", "mixed"])
def test_call_id_accepted_as_string_and_as_number(callid_as):
    calls = make_calls(60, seed=5)
    with VoicegainSimulator(calls, token=TOKEN, callid_as=callid_as) as sim:
        run = run_tap({"jwt_token": TOKEN, "api_url": sim.url, "per_page": 25})
    assert run.call_ids == [int(c["callId"]) for c in exported(calls)]
    assert all(type(i) is int for i in run.call_ids)


def test_a_processing_call_stops_the_export_and_the_next_run_resumes_there():
    calls = make_calls(100, seed=11, processing_at=[57])
    stuck = int(calls[57]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        # The calls are from 2024: allow them to process for ages (not stuck).
        config = {
            "jwt_token": TOKEN,
            "api_url": sim.url,
            "per_page": 20,
            "max_processing_hours": 10**7,
        }
        first = run_tap(config)
        assert first.call_ids == [int(c["callId"]) for c in calls[:57]]
        assert bookmark(first.last_state) == int(calls[56]["callId"])

        sim.set_phase(stuck, "DONE")
        second = run_tap(config, state=first.last_state)
    assert second.call_ids == [int(c["callId"]) for c in calls[57:]]
    assert sorted(first.call_ids + second.call_ids) == [int(c["callId"]) for c in calls]


def test_a_call_finishing_mid_run_opens_no_gap():
    # Page 1 is full; call 30 is still processing, so page 2 comes back short.
    # Just before the next request the call finishes: the vendor's loop would ask
    # for page 3 of a list that grew and skip calls 30..39 for good.
    calls = make_calls(90, seed=12, processing_at=[30])
    stuck = int(calls[30]["callId"])
    with VoicegainSimulator(calls, token=TOKEN) as sim:

        def finish_after_the_short_page(index: int, params: dict) -> None:
            if index == 3:
                sim.set_phase(stuck, "DONE")

        sim.on_request = finish_after_the_short_page
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 20}
        first = run_tap(config)
        second = run_tap(config, state=first.last_state)
    everything = first.call_ids + second.call_ids
    assert everything == [int(c["callId"]) for c in calls]  # none lost, none twice


def test_calls_added_during_a_run_are_exported_once():
    calls = make_calls(60, seed=13)
    more = make_calls(30, seed=14, first_id=int(calls[-1]["callId"]) + 1)
    with VoicegainSimulator(calls, token=TOKEN) as sim:

        def add_on_second_request(index: int, params: dict) -> None:
            if index == 2:
                sim.add_calls(more)

        sim.on_request = add_on_second_request
        run = run_tap({"jwt_token": TOKEN, "api_url": sim.url, "per_page": 20})
    assert run.call_ids == [int(c["callId"]) for c in calls + more]


def test_state_is_written_after_every_page_and_never_runs_ahead(sim, config):
    run = run_tap(config)
    pages = -(-len(run.records) // config["per_page"])
    emitted: list[int] = []
    page_states = 0
    for message in run.messages:
        if message["type"] == "RECORD":
            emitted.append(message["record"]["callId"])
        elif message["type"] == "STATE":
            mark = bookmark(message["value"])
            if mark is not None:
                assert emitted, "a bookmark before any record"
                assert mark == emitted[-1], "bookmark ahead of or behind the records"
                page_states += 1
    assert page_states >= pages
    # A STATE follows each full page of records.
    position = 0
    for message in run.messages:
        if message["type"] == "RECORD":
            position += 1
        elif message["type"] == "STATE" and position and position % config["per_page"]:
            assert position == len(run.records)


def test_every_request_is_consecutive_keyset_and_never_sorted(sim, config):
    run = run_tap(config)
    calls = [r for r in sim.requests if r.path.endswith("/sa/call")]
    requests = [r for r in calls if "consecutive" in r.params]
    probes = [r for r in calls if "consecutive" not in r.params]
    # One look past the end, to tell "no more calls" from "a call still processing".
    assert len(probes) == 1
    assert probes[0].params["afterCallId"] == [str(run.call_ids[-1])]
    assert probes[0].params["per_page"] == ["1"]
    assert "sort_by" not in probes[0].params
    assert len(requests) == -(-len(run.records) // config["per_page"]) + (
        1 if len(run.records) % config["per_page"] == 0 else 0
    )
    expected_after = [0, *run.call_ids[config["per_page"] - 1 :: config["per_page"]]]
    for request, after in zip(requests, expected_after, strict=False):
        params = request.params
        assert params["consecutive"] == ["true"]
        assert params["afterCallId"] == [str(after)]
        assert params["page"] == ["1"]
        assert params["per_page"] == [str(config["per_page"])]
        assert params["format"] == ["json"]
        assert "sort_by" not in params
        assert "sort_dir" not in params
        assert "Authorization" not in request.headers


def test_filters_are_sent_and_applied(sim, config):
    source = exported(sim.calls)
    agents = sorted({c["agent"]["agentId"] for c in source if c.get("agent")})[:2]
    queues = sorted({c["queue"]["queueId"] for c in source if c.get("queue")})[:3]
    from_time = source[20]["startTime"]
    to_time = source[200]["startTime"]
    run = run_tap(
        {
            **config,
            "agent_ids": agents,
            "queue_ids": queues,
            "from_time": from_time,
            "to_time": to_time,
        }
    )
    params = sim.requests[0].params
    assert params["agentId"] == agents  # repeated keys, as the guide shows
    assert params["queueId"] == queues
    assert params["fromTime"] == [from_time]
    assert params["toTime"] == [to_time]
    wanted = [
        int(c["callId"])
        for c in source
        if c.get("agent")
        and c["agent"]["agentId"] in agents
        and c.get("queue")
        and c["queue"]["queueId"] in queues
        and from_time <= c["startTime"] <= to_time
    ]
    assert wanted, "the filter picks some calls"
    assert run.call_ids == wanted


def test_aivr_app_filter_is_sent(sim, config):
    run_tap({**config, "aivr_app_ids": ["736e7954-dc21-11ea-87d0-0242ac130030"]})
    assert sim.requests[0].params["aivrAppId"] == [
        "736e7954-dc21-11ea-87d0-0242ac130030"
    ]


def test_with_strict_values_a_value_that_does_not_fit_names_the_call_and_field():
    calls = make_calls(10, seed=2)
    calls[4]["duration"] = "about five minutes"
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        config = {"jwt_token": TOKEN, "api_url": sim.url, "strict_values": True}
        run = run_tap(config, expect_error=True)
    message = str(run.error)
    assert f"callId {int(calls[4]['callId'])}" in message
    assert "'duration'" in message
    assert run.call_ids == [int(c["callId"]) for c in calls[:4]] or run.call_ids == []
    if run.states:
        assert (bookmark(run.last_state) or 0) < int(calls[4]["callId"])


def test_a_field_the_api_adds_later_is_kept_and_reported_once(sim, config, caplog):
    for call in sim.calls[:50]:
        call["brandNewMetric"] = 0.5
    sim.update_call(int(sim.calls[0]["callId"]), brandNewMetric=0.5)
    with caplog.at_level("WARNING"):
        run = run_tap(config)
    assert run.records[0]["_extra"] == {"brandNewMetric": 0.5}
    reports = [r for r in caplog.records if "brandNewMetric" in r.getMessage()]
    assert len(reports) == 1


def test_stream_maps_still_apply(sim, config):
    run = run_tap({**config, "stream_maps": {"calls": {"notes": "__NULL__"}}})
    assert run.records
    assert all("notes" not in r for r in run.records)
    assert all("callId" in r for r in run.records)


def test_deselected_columns_are_not_emitted(sim, config):
    from tap_voicegain.tap import TapVoicegain  # noqa: PLC0415

    catalog = TapVoicegain(config=config).catalog_dict
    for entry in calls_entry(catalog)["metadata"]:
        if entry["breadcrumb"] == ["properties", "reviewNotes"]:
            entry["metadata"]["selected"] = False
    run = run_tap(config, catalog=catalog)
    assert run.records
    assert all("reviewNotes" not in r for r in run.records)
    assert all("score" in r for r in run.records)


@pytest.mark.parametrize("mark", ["abc", -5, 1.5])
def test_a_bad_bookmark_in_state_is_refused_naming_the_project(sim, config, mark):
    state = state_with_bookmark(mark)
    run = run_tap(config, state=state, expect_error=True)
    assert "bookmark for project 'default'" in str(run.error)
    assert repr(mark) in str(run.error)
    assert run.records == []
    assert sim.requests == []


def test_a_bookmark_stored_as_text_is_read_as_a_number(sim, config):
    first = run_tap(config)
    middle = first.call_ids[100]
    state = state_with_bookmark(str(middle))
    run = run_tap(config, state=state)
    assert run.call_ids == first.call_ids[101:]


def test_the_end_of_pass_summary_speaks_only_of_calls_within_the_filters(caplog):
    # Two agents; the export asks for one, up to a to_time. Which call "still
    # processing" the summary names must be one the filters select.
    calls = make_calls(60, seed=31)
    for index, call in enumerate(calls):
        call["agent"] = {"agentId": "A1" if index % 2 == 0 else "B2"}
        call["queue"] = {"queueId": "Q1"}
    to_time = calls[49]["startTime"]
    mine = [c for c in calls[:50] if c["agent"]["agentId"] == "A1"]
    calls[11]["progressPhase"] = "PROCESSING"  # agent B2: outside the filter
    calls[55]["progressPhase"] = "PROCESSING"  # agent B2, and after to_time
    calls[54]["progressPhase"] = "PROCESSING"  # agent A1, but after to_time
    filters = {"agent_ids": ["A1"], "queue_ids": ["Q1"], "to_time": to_time}

    def summary_of(config: dict) -> tuple[list[int], str]:
        caplog.clear()
        with caplog.at_level("INFO"):
            run = run_tap(config)
        line = next(
            r.getMessage() for r in caplog.records if "exported" in r.getMessage()
        )
        return run.call_ids, line

    with VoicegainSimulator(calls, token=TOKEN) as sim:
        # Calls of 2024: a long max_processing_hours keeps them "processing".
        config = {
            "jwt_token": TOKEN,
            "api_url": sim.url,
            "per_page": 7,
            "max_processing_hours": 10**7,
            **filters,
        }
        ids, line = summary_of(config)
        assert ids == [int(c["callId"]) for c in mine]
        assert line.endswith("ended because no more calls")

        # Now the next call for these filters is processing.
        blocker = mine[10]
        sim.set_phase(int(blocker["callId"]), "PROCESSING")
        ids, line = summary_of(config)
        assert ids == [int(c["callId"]) for c in mine[:10]]
        assert line.endswith(
            f"a call still processing at callId {blocker['callId']} (PROCESSING) "
            f"since {blocker['startTime'].replace('Z', '+00:00')}"
        )
        peeks = [r for r in sim.requests if "consecutive" not in r.params]
    assert peeks[-1].params["agentId"] == ["A1"]
    assert peeks[-1].params["toTime"] == [to_time]
