"""The shape of the code: one seam to the SDK, one direction of dependencies.

- The SDK's private names (attributes and modules) appear only in
  ``tap_voicegain/sdk/``: an SDK upgrade is audited in that one folder.
- Sub-packages depend one way: tap -> streams -> {records, http, state, sdk},
  all of them on the leaves errors and settings.
- State this version does not understand is carried through unchanged.
- Nothing of a run outlives it in the process that ran it.
"""

from __future__ import annotations

import ast
import csv
import gc
import logging
import signal
import threading
from pathlib import Path

import pytest
import singer_sdk
from singer_sdk import Stream, Tap
from singer_sdk.streams import RESTStream

from tap_voicegain.http import redact
from tests.helpers import TOKEN, bookmark, run_tap
from voicegain_sim import VoicegainSimulator, make_calls

PACKAGE = Path(__file__).parent.parent / "tap_voicegain"
SEAM = PACKAGE / "sdk"


def modules() -> list[Path]:
    return sorted(PACKAGE.rglob("*.py"))


# The SDK classes the tap's streams and tap derive from, and their modules.
SDK_BASES = (Stream, RESTStream, Tap)
SDK_SOURCES = ("streams/core.py", "streams/rest.py", "tap_base.py", "plugin_base.py")
# Where SDK subclasses live: the attribute rule applies to these modules.
SUBCLASSES = ("streams", "tap.py")


def sdk_private_names() -> set[str]:
    """Private (single underscore) names of the SDK classes the tap derives from.

    Class attributes and methods, and every ``self._name`` those classes' code
    sets or reads (instance attributes such as ``_tap`` or ``_stream_version``).
    """
    names = set()
    for cls in SDK_BASES:
        for klass in cls.__mro__:
            if klass.__module__.startswith("singer_sdk"):
                names |= {n for n in vars(klass) if n.startswith("_")}
    root = Path(singer_sdk.__file__).parent
    for source in SDK_SOURCES:
        for node in ast.walk(ast.parse((root / source).read_text(encoding="utf-8"))):
            if (
                isinstance(node, ast.Attribute)
                and isinstance(node.value, ast.Name)
                and node.value.id == "self"
                and node.attr.startswith("_")
            ):
                names.add(node.attr)
    return {n for n in names if not n.startswith("__")}


def test_private_sdk_names_appear_only_in_the_seam():
    private = sdk_private_names()
    found = []
    for path in modules():
        if SEAM in path.parents:
            continue
        tree = ast.parse(path.read_text(encoding="utf-8"))
        where = path.relative_to(PACKAGE)
        subclasses = str(where).startswith(SUBCLASSES)
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith(
                "singer_sdk"
            ):
                parts = [*(node.module or "").split("."), *(a.name for a in node.names)]
                if any(p.startswith("_") for p in parts):
                    found.append(f"{where}:{node.lineno} imports {node.module}")
            elif not subclasses:
                continue
            elif isinstance(node, ast.Attribute) and node.attr in private:
                found.append(f"{where}:{node.lineno} uses .{node.attr}")
            elif isinstance(node, ast.FunctionDef) and node.name in private:
                found.append(f"{where}:{node.lineno} overrides {node.name}")
    assert found == []


def test_the_seam_is_where_the_private_names_are():
    # The test above can fail: the seam does use them.
    private = sdk_private_names()
    used = {
        node.attr
        for path in SEAM.rglob("*.py")
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8")))
        if isinstance(node, ast.Attribute) and node.attr in private
    }
    assert {"_stream_version", "_write_state_message", "_sync_records"} <= used


# Which sub-package may import which (besides itself, errors and settings).
ALLOWED = {
    "tap": {"streams", "http", "records", "state", "sdk"},
    "streams": {"http", "records", "state", "sdk"},
    "records": set(),
    "http": set(),
    "state": set(),
    "sdk": set(),
    "settings": set(),
    "errors": set(),
    "__main__": {"tap"},
    "__init__": set(),
}


def part_of(module: str) -> str:
    return module.split(".")[1] if module.count(".") else "__init__"


def test_dependencies_point_one_way():
    wrong = []
    for path in modules():
        here = ".".join(path.relative_to(PACKAGE.parent).with_suffix("").parts)
        mine = part_of(here)
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                targets = [node.module] + [
                    f"{node.module}.{a.name}" for a in node.names
                ]
            elif isinstance(node, ast.Import):
                targets = [a.name for a in node.names]
            else:
                continue
            for target in targets:
                if (
                    not target.startswith("tap_voicegain.")
                    and target != "tap_voicegain"
                ):
                    continue
                theirs = part_of(target) if target.count(".") else "__init__"
                if theirs in {mine, "errors", "settings", "__init__"}:
                    continue
                if target.count(".") == 1 and target.split(".")[1] not in ALLOWED:
                    continue  # a name imported from the package, checked as module
                if theirs not in ALLOWED[mine]:
                    wrong.append(f"{here} imports {target}")
    assert sorted(set(wrong)) == []


def test_every_module_is_under_a_few_hundred_lines():
    long = {
        str(p.relative_to(PACKAGE)): n
        for p in modules()
        if (n := len(p.read_text(encoding="utf-8").splitlines())) > 500
    }
    assert long == {}


# ------------------------------------------------------------ forward state


def test_state_this_version_does_not_understand_is_carried_through():
    calls = make_calls(30, seed=951)
    mark = int(calls[9]["callId"])
    state = {
        "bookmarks": {
            "calls": {
                "partitions": [
                    {
                        "context": {"project": "default"},
                        "replication_key": "callId",
                        "replication_key_value": mark,
                        "future_partition_key": {"kept": [1, 2]},
                    }
                ],
                "future_stream_key": "a later version's",
            },
            "a_stream_of_a_later_version": {"anything": True},
        },
        "future_top_key": 7,
    }
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        run = run_tap({"jwt_token": TOKEN, "api_url": sim.url, "per_page": 7}, state)
    assert run.call_ids == [int(c["callId"]) for c in calls[10:]]
    for written in run.states:
        assert written["bookmarks"]["a_stream_of_a_later_version"] == {"anything": True}
        assert written["bookmarks"]["calls"]["future_stream_key"] == "a later version's"
        (part,) = written["bookmarks"]["calls"]["partitions"]
        assert part["future_partition_key"] == {"kept": [1, 2]}
    assert bookmark(run.last_state) == int(calls[-1]["callId"])


# ---------------------------------------------------- nothing outlives a run


def process_facts() -> dict[str, object]:
    # The simulator's own threads come and go with its connections.
    for _ in range(200):
        if not [t for t in threading.enumerate() if "process_request" in t.name]:
            break
        threading.Event().wait(0.01)
    return {
        "log record factory": logging.getLogRecordFactory(),
        "csv field limit": csv.field_size_limit(),
        "gc thresholds": gc.get_threshold(),
        "gc frozen": gc.get_freeze_count(),
        "SIGTERM": signal.getsignal(signal.SIGTERM),
        "SIGINT": signal.getsignal(signal.SIGINT),
        "threads": sorted(
            t.name for t in threading.enumerate() if "simulator" not in t.name
        ),
        "secrets": redact._SECRETS,
        "root handlers": list(logging.getLogger().handlers),
        "tap logger filters": list(logging.getLogger("tap-voicegain.calls").filters),
    }


@pytest.mark.parametrize("fmt", ["json", "csv"])
def test_running_the_tap_in_process_twice_leaves_the_process_as_it_was(fmt):
    calls = make_calls(40, seed=952)
    calls[3]["notes"] = "x" * 200_000  # a CSV cell over the csv module's limit
    with VoicegainSimulator(calls, token=TOKEN) as sim:
        before = process_facts()
        config = {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 15, "format": fmt}
        first = run_tap(config)
        assert process_facts() == before
        second = run_tap(config)
        assert process_facts() == before
    assert first.call_ids == second.call_ids == [int(c["callId"]) for c in calls]
    assert singer_sdk  # the SDK itself is imported once, as any module
