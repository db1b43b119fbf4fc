"""State shapes: what can be read without guessing is honoured, the rest refused."""

from __future__ import annotations

import json
import logging
import subprocess

import pytest

from tap_voicegain.errors import StateError
from tests.helpers import (
    TOKEN,
    bookmark,
    partition,
    run_tap,
    state_with_bookmark,
    tap_command,
    tap_env,
    write_json,
)
from voicegain_sim import VoicegainSimulator, make_calls


def test_a_stream_level_bookmark_is_read_as_the_one_projects(sim, config):
    middle = int(sim.calls[99]["callId"])
    state = {
        "bookmarks": {
            "calls": {"replication_key": "callId", "replication_key_value": middle}
        }
    }
    run = run_tap(config, state=state)
    assert run.call_ids[0] > middle
    assert run.call_ids == [int(c["callId"]) for c in sim.calls[100:]]
    calls_state = run.last_state["bookmarks"]["calls"]
    assert "replication_key_value" not in calls_state  # moved into the partition
    assert bookmark(run.last_state) == run.call_ids[-1]


def test_meltanos_singer_state_wrapper_is_unwrapped(sim, config):
    middle = int(sim.calls[199]["callId"])
    run = run_tap(config, state={"singer_state": state_with_bookmark(middle)})
    assert run.call_ids == [int(c["callId"]) for c in sim.calls[200:]]


def test_a_stream_level_bookmark_with_several_projects_is_refused():
    with VoicegainSimulator(projects={"a": make_calls(5), "b": make_calls(5)}) as sim:
        config = {
            "api_url": sim.url,
            "projects": [
                {"name": "a", "jwt_token": "a"},
                {"name": "b", "jwt_token": "b"},
            ],
        }
        state = {"bookmarks": {"calls": {"replication_key_value": 10003}}}
        run = run_tap(config, state=state, expect_error=True)
        assert sim.requests == []
    assert isinstance(run.error, StateError)
    assert "stream-level bookmark (10003) but 2 projects" in str(run.error)


@pytest.mark.parametrize(
    ("state", "named"),
    [
        (
            {
                "bookmarks": {
                    "calls": {
                        "partitions": [
                            {
                                "context": {"project": "default", "region": "eu"},
                                "replication_key_value": 10005,
                            }
                        ]
                    }
                }
            },
            '"region": "eu"',
        ),
        ([], "is a list ([])"),
        ({"bookmarks": "calls"}, "'bookmarks' is a string"),
        ({"bookmarks": {"calls": []}}, "stream 'calls' is a list"),
        (
            {"bookmarks": {"calls": {"partitions": [5]}}},
            "A partition in the state is 5",
        ),
        (
            {
                "bookmarks": {
                    "calls": {
                        "replication_key": "startTime",
                        "replication_key_value": "x",
                    }
                }
            },
            "replication key 'startTime'",
        ),
        (
            {
                "bookmarks": {
                    "calls": {
                        "partitions": [
                            {
                                "context": {"project": "default"},
                                "stuck_call_ids": "10005",
                            }
                        ]
                    }
                }
            },
            "'stuck_call_ids' of project 'default'",
        ),
        ({"singer_state": None}, "'singer_state' is null"),
    ],
)
def test_a_state_the_tap_would_have_to_guess_about_is_refused(
    sim, config, state, named
):
    run = run_tap(config, state=state, expect_error=True)
    assert isinstance(run.error, StateError)
    assert named in str(run.error)
    assert run.records == []
    assert sim.requests == []  # before any request


def test_bookmarks_only_for_projects_not_configured_are_warned_about(
    sim, config, caplog
):
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, state=state_with_bookmark(10050, project="sales"))
    assert len(run.records) == len(sim.calls)  # a new project starts at the start
    assert any(
        "bookmarks for project(s) sales, which are not configured" in r.getMessage()
        for r in caplog.records
    )
    assert bookmark(run.last_state, "sales") == 10050  # kept, not dropped


@pytest.mark.parametrize(
    "state",
    [
        {"bookmarks": {"calls": {}}},
        {"bookmarks": {"calls": {"partitions": []}}},
        {"bookmarks": {"calls": {"partitions": [{"context": {"project": "default"}}]}}},
    ],
)
def test_a_stream_entry_without_any_bookmark_is_warned_about(
    sim, config, caplog, state
):
    with caplog.at_level(logging.WARNING):
        run = run_tap(config, state=state)
    assert len(run.records) == len(sim.calls)
    assert any(
        "The state of 'calls' holds no bookmark" in r.getMessage()
        for r in caplog.records
    )


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("null", "is null (null), not an object"),
        ("[]", "is a list ([]), not an object"),
        ('"state.json"', "is a string"),
        ("{not json", "is not JSON"),
    ],
)
def test_a_state_file_that_is_not_an_object_stops_the_tap_with_a_message(
    tmp_path, sim, config, text, named
):
    config_path = write_json(tmp_path / "config.json", config)
    state_path = tmp_path / "state.json"
    state_path.write_text(text, encoding="utf-8")
    done = subprocess.run(
        tap_command(config_path, state_path),
        capture_output=True,
        env=tap_env(),
        check=False,
        timeout=60,
    )
    assert done.returncode != 0
    assert f"The state file {state_path} {named}".encode() in done.stderr
    assert b"has no attribute" not in done.stderr
    assert b"RECORD" not in done.stdout
    assert sim.requests == []


def test_a_state_written_by_the_tap_is_read_back_unchanged(sim, config):
    first = run_tap(config)
    again = run_tap(config, state=json.loads(json.dumps(first.last_state)))
    assert again.records == []
    assert again.last_state == first.last_state
    assert partition(again.last_state)["replication_key"] == "callId"
    assert TOKEN not in json.dumps(again.last_state)
