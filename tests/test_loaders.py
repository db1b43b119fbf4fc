"""The loaders meltano.yml ships: the target does not re-check the tap's records."""

from __future__ import annotations

from pathlib import Path

import yaml

MELTANO_YML = Path(__file__).resolve().parents[1] / "meltano.yml"


def loader(name: str) -> dict:
    project = yaml.safe_load(MELTANO_YML.read_text(encoding="utf-8"))
    return next(p for p in project["plugins"]["loaders"] if p["name"] == name)


def test_target_postgres_ships_without_record_validation():
    # Half of `meltano run tap-voicegain target-postgres` was the target checking
    # records the tap had typed and checked (README "Performance"); the types it
    # loads are checked end to end by tests/test_e2e_postgres.py.
    postgres = loader("target-postgres")
    assert postgres["config"]["validate_records"] is False
    declared = {s["name"] for s in postgres["settings"]}
    assert "validate_records" in declared
