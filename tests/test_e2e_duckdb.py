"""End to end: ``meltano run tap-voicegain target-duckdb`` against the simulator.

Also checks ``meltano.yml`` itself: the project every e2e test runs in.
"""

from __future__ import annotations

import typing as t

import duckdb
import pytest
import yaml
from singer_sdk.helpers.capabilities import (
    BATCH_CONFIG,
    FLATTENING_CONFIG,
    STREAM_MAPS_CONFIG,
)

from tap_voicegain.tap import TapVoicegain
from tests import e2e_support as e2e
from tests.oracle import exported
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Iterator

pytestmark = pytest.mark.e2e

CALLS = 2_400
PROCESSING_AT = 2_100  # this call is still processing: the first run stops before it
# Several target batches per run, so a row lost per batch shows. Not a divisor of
# a run's record count: when the last record fills a batch exactly, target-duckdb
# flushes before the tap's final STATE arrives and never emits that STATE (the
# bookmark then lags one page; the next run re-sends those calls, merged by key).
BATCH_ROWS = 600

# JSON schema type of a tap setting -> Meltano setting kinds that fit it.
KINDS = {
    "string": {"string", "options", "date_iso8601", "password", "file"},
    "integer": {"integer"},
    "number": {"decimal", "integer"},
    "boolean": {"boolean"},
    "array": {"array"},
    "object": {"object"},
}
SECRETS = {"jwt_token", "projects"}


@pytest.fixture(scope="module")
def meltano_yml() -> dict[str, t.Any]:
    return t.cast(
        "dict[str, t.Any]", yaml.safe_load((e2e.REPO_ROOT / "meltano.yml").read_text())
    )


def _plugin(project: dict[str, t.Any], kind: str, name: str) -> dict[str, t.Any]:
    found = [p for p in project["plugins"][kind] if p["name"] == name]
    assert len(found) == 1, f"{kind} {name} is declared {len(found)} times"
    return found[0]


def test_meltano_yml_declares_every_tap_setting(meltano_yml):
    tap = _plugin(meltano_yml, "extractors", "tap-voicegain")
    declared = {s["name"]: s for s in tap["settings"]}
    # The SDK adds its built-in settings (stream maps, flattening, batch) to the
    # class's schema in place once a tap was made; those are not the tap's own.
    builtin = {
        name
        for group in (STREAM_MAPS_CONFIG, FLATTENING_CONFIG, BATCH_CONFIG)
        for name in group["properties"]
    }
    properties = {
        name: prop
        for name, prop in TapVoicegain.config_jsonschema["properties"].items()
        if name not in builtin
    }
    assert {"jwt_token", "api_url", "per_page"} <= set(properties)
    missing = sorted(set(properties) - set(declared))
    assert not missing, f"tap settings missing from meltano.yml: {missing}"
    for name, prop in properties.items():
        setting = declared[name]
        for field in ("kind", "label", "description"):
            assert setting.get(field), f"{name}: no {field} in meltano.yml"
        types = prop.get("type", "string")
        json_type = next(
            x for x in ([types] if isinstance(types, str) else types) if x != "null"
        )
        assert setting["kind"] in KINDS[json_type], (name, json_type, setting["kind"])
        assert bool(setting.get("sensitive")) == (
            name in SECRETS or bool(prop.get("secret"))
        ), name
    assert tap["namespace"] == "tap_voicegain"
    # This checkout, not editable (Meltano caches the catalog of such a plugin
    # only), with uv.lock's pins as constraints (tests/test_packaging.py).
    assert tap["pip_url"].split()[:2] == [".", "--constraint"]
    assert set(tap["capabilities"]) >= {
        "state",
        "catalog",
        "discover",
        "about",
        "stream-maps",
        "schema-flattening",
    }


def test_meltano_yml_never_needs_the_hub_nor_calls_home(meltano_yml):
    assert meltano_yml["send_anonymous_usage_stats"] is False
    assert meltano_yml["cli"]["disable_version_check"] is True
    assert meltano_yml["project_id"]
    for kind in ("extractors", "loaders"):
        for plugin in meltano_yml["plugins"][kind]:
            # A namespace makes the definition embedded: Meltano skips the hub.
            assert plugin.get("namespace"), plugin["name"]
            assert plugin.get("pip_url"), plugin["name"]
            assert plugin.get("settings"), plugin["name"]
            if kind == "loaders":
                pins = plugin["pip_url"].split()
                assert all("==" in pin for pin in pins), plugin["pip_url"]
    duckdb_pins = _plugin(meltano_yml, "loaders", "target-duckdb")["pip_url"].split()
    # target-duckdb 0.8.0 with a newer duckdb drops the first row of each batch.
    assert "duckdb==1.2.2" in duckdb_pins
    postgres = _plugin(meltano_yml, "loaders", "target-postgres")
    assert postgres["pip_url"] == "meltanolabs-target-postgres==0.8.1"
    assert postgres["config"]["load_method"] == "upsert"
    password = next(s for s in postgres["settings"] if s["name"] == "password")
    assert password["sensitive"] is True


# ------------------------------------------------------------------ runs


@pytest.fixture(scope="module")
def meltano(request: pytest.FixtureRequest, tmp_path_factory) -> e2e.MeltanoHome:
    return e2e.meltano_home(request, tmp_path_factory)


@pytest.fixture(scope="module")
def sim() -> Iterator[VoicegainSimulator]:
    calls = make_calls(CALLS, seed=11, processing_at=(PROCESSING_AT,))
    with VoicegainSimulator(calls, token=e2e.TOKEN) as server:
        yield server


@pytest.fixture(scope="module")
def pipeline(
    meltano: e2e.MeltanoHome, sim: VoicegainSimulator, tmp_path_factory
) -> e2e.Pipeline:
    workdir = tmp_path_factory.mktemp("duckdb-pipeline")
    return e2e.Pipeline(
        meltano,
        workdir,
        env={
            **e2e.tap_env(sim.url),
            "TARGET_DUCKDB_FILEPATH": str(workdir / "e2e.duckdb"),
            "TARGET_DUCKDB_BATCH_SIZE_ROWS": str(BATCH_ROWS),
        },
    )


def _call_ids(pipeline: e2e.Pipeline) -> list[int]:
    path = pipeline.env["TARGET_DUCKDB_FILEPATH"]
    with duckdb.connect(path, read_only=True) as con:
        rows = con.execute(
            "select callid from voicegain.calls order by callid"
        ).fetchall()
    return [int(r[0]) for r in rows]


def test_the_duckdb_plugin_has_the_pinned_duckdb(meltano):
    python = meltano.plugin_python("loaders", "target-duckdb")
    assert e2e.package_version(python, "duckdb") == "1.2.2"
    assert e2e.package_version(python, "target-duckdb") == "0.8.0"


def test_duckdb_lands_exactly_the_rows_the_tap_emitted(request, pipeline, sim):
    expected = [int(c["callId"]) for c in exported(sim.calls)]
    assert len(expected) == PROCESSING_AT  # the export stops at the processing call

    e2e.say(request, f"DuckDB run 1: {len(sim.calls)} calls in the simulator ...")
    first = pipeline.run("tap-voicegain", "target-duckdb")
    e2e.say(
        request,
        f"DuckDB run 1: {first.records_emitted} records ({first.seconds:.0f} s)",
    )
    assert first.records_emitted == len(expected)
    landed = _call_ids(pipeline)
    assert len(landed) == first.records_emitted, "rows lost between tap and DuckDB"
    assert landed == expected  # the first row of every batch included
    assert (
        e2e.bookmark(pipeline.state("tap-voicegain", "target-duckdb")) == expected[-1]
    )

    # The processing call finishes and new calls arrive: only those move.
    processing_id = int(sim.calls[PROCESSING_AT]["callId"])
    sim.set_phase(processing_id, "DONE")
    added = sim.add_generated(45)
    new = [int(c["callId"]) for c in exported(sim.calls, after=expected[-1])]
    assert len(new) == CALLS - PROCESSING_AT + len(added)

    e2e.say(request, f"DuckDB run 2: {len(new)} new or finished calls ...")
    second = pipeline.run("tap-voicegain", "target-duckdb")
    e2e.say(
        request,
        f"DuckDB run 2: {second.records_emitted} records ({second.seconds:.0f} s)",
    )
    assert second.records_emitted == len(new)
    landed = _call_ids(pipeline)
    assert landed == sorted(int(c["callId"]) for c in sim.calls)
    assert e2e.bookmark(pipeline.state("tap-voicegain", "target-duckdb")) == new[-1]
