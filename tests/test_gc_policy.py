"""The cyclic GC is tuned for a command-line run only, and restored after it."""

from __future__ import annotations

import gc

from click.testing import CliRunner

from tap_voicegain.tap import GC_GEN0_THRESHOLD, TapVoicegain
from tests.helpers import run_tap, write_json


def test_a_command_line_run_has_the_gc_frozen_and_its_threshold_raised(
    monkeypatch, tmp_path
):
    seen = {}

    def sync_all(self):
        seen["threshold"] = gc.get_threshold()
        seen["frozen"] = gc.get_freeze_count()

    monkeypatch.setattr(TapVoicegain, "sync_all", sync_all)
    before = gc.get_threshold()
    config = write_json(
        tmp_path / "config.json", {"jwt_token": "t", "api_url": "http://127.0.0.1:9/v1"}
    )
    result = CliRunner().invoke(TapVoicegain.cli, ["--config", str(config)])
    assert result.exit_code == 0, result.output
    assert seen["threshold"] == (GC_GEN0_THRESHOLD, *before[1:])
    assert seen["frozen"] > 10_000  # the start-up's objects: modules, the SDK
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0


def test_running_the_tap_in_process_leaves_the_gc_as_it_was(sim, config):
    before = gc.get_threshold()
    run = run_tap(config)
    assert len(run.records) == 250
    assert gc.get_threshold() == before
    assert gc.get_freeze_count() == 0
