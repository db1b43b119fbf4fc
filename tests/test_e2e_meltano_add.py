"""End to end, as a user of another Meltano project: ``meltano init`` in a fresh
directory outside this repository, ``meltano add --from-ref tap-voicegain.yml``
(pip_url pointing at this checkout, built as a wheel like a released package),
then ``meltano run tap-voicegain target-jsonl`` against the simulator.

Meltano is kept offline: its plugin hub is a closed loopback port, usage
statistics, tracking and the version check are off, and the loader also comes
from a definition file (meltano.yml's target-jsonl).
"""

from __future__ import annotations

import json
import subprocess
import typing as t

import pytest
import yaml

from tests import e2e_support as e2e
from tests import project_files as files
from tests.oracle import expected_guide_fields, exported
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from pathlib import Path

pytestmark = [pytest.mark.e2e, pytest.mark.slow]

CALLS = 50
OFFLINE = {
    "MELTANO_CLI_DISABLE_VERSION_CHECK": "true",
    "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
    "MELTANO_DISABLE_TRACKING": "true",
    "MELTANO_SNOWPLOW_COLLECTOR_ENDPOINTS": "[]",
    # Nothing listens there: a hub lookup fails at once instead of going out.
    "MELTANO_HUB_URL": "http://127.0.0.1:9",
    "MELTANO_HUB_API_ROOT": "http://127.0.0.1:9/meltano/api/v1",
}


def meltano(binary: Path, *args: str, cwd: Path, env: dict[str, str], log: Path) -> str:
    """Run one meltano command, which must succeed; its output."""
    proc = subprocess.run(
        [str(binary), *args],
        cwd=cwd,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=e2e.MELTANO_TIMEOUT,
        check=False,
    )
    with log.open("a") as out:
        out.write(f"$ meltano {' '.join(args)}\n{proc.stdout}\n")
    if proc.returncode != 0:
        tail = "\n".join(proc.stdout.splitlines()[-60:])
        msg = f"meltano {' '.join(args)} exited {proc.returncode}:\n{tail}"
        raise AssertionError(msg)
    return proc.stdout


def _plugin_python(project: Path) -> Path:
    return (
        project
        / ".meltano"
        / "extractors"
        / "tap-voicegain"
        / "venv"
        / "bin"
        / "python"
    )


def _in_plugin(project: Path, code: str) -> str:
    """Output of ``code`` run by the tap's Python, away from this checkout."""
    proc = subprocess.run(
        [str(_plugin_python(project)), "-c", code],
        cwd=project,
        env=e2e.base_env(),
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    return proc.stdout.strip() if proc.returncode == 0 else f"error: {proc.stderr}"


def test_a_fresh_project_adds_the_tap_from_its_definition_and_loads_jsonl(
    request, tmp_path_factory
):
    binary = e2e.meltano_executable()
    if binary is None:
        e2e.skip_or_fail(f"Meltano is not installed in {e2e.MELTANO_VENV}")
    home = tmp_path_factory.mktemp("fresh-meltano")
    assert not home.is_relative_to(files.REPO_ROOT)
    project, log = home / "project", home / "meltano.log"
    env = {**e2e.base_env(), **OFFLINE}

    e2e.say(request, f"meltano init in {project} ...")
    meltano(
        binary, "init", "--no-usage-stats", project.name, cwd=home, env=env, log=log
    )

    # The plugin definition users get, installing this checkout instead of the
    # (not yet published) package; and the repository's own target-jsonl.
    definition = yaml.safe_load(files.PLUGIN_DEFINITION.read_text())
    definition["pip_url"] = str(files.REPO_ROOT)
    (home / "tap-voicegain.yml").write_text(yaml.safe_dump(definition))
    jsonl = files.plugin(files.meltano_project(), "loaders", "target-jsonl")
    (home / "target-jsonl.yml").write_text(yaml.safe_dump(jsonl))

    e2e.say(request, "meltano add tap-voicegain and target-jsonl from definitions ...")
    for kind, name in (("extractor", "tap-voicegain"), ("loader", "target-jsonl")):
        meltano(
            binary,
            "add",
            "--plugin-type",
            kind,
            name,
            "--from-ref",
            str(home / f"{name}.yml"),
            cwd=project,
            env=env,
            log=log,
        )
    # As README.md says: Meltano takes no `select` from a definition.
    meltano(
        binary, "select", "tap-voicegain", "calls", "*", cwd=project, env=env, log=log
    )
    meltano(
        binary,
        "config",
        "set",
        "tap-voicegain",
        "flattening_enabled",
        "true",
        cwd=project,
        env=env,
        log=log,
    )

    added = yaml.safe_load((project / "meltano.yml").read_text())
    tap = files.plugin(added, "extractors", "tap-voicegain")
    assert tap["select"] == ["calls.*"]
    assert tap["config"]["flattening_enabled"] is True  # a boolean, not "true"
    assert {s["name"] for s in tap["settings"]} == {
        s["name"] for s in definition["settings"]
    }

    # What the wheel brought: the tap with its licence, without the simulator.
    assert (
        _in_plugin(
            project, "import importlib.util as u; print(u.find_spec('voicegain_sim'))"
        )
        == "None"
    )
    assert (
        _in_plugin(
            project,
            "from importlib.metadata import distribution as d; "
            "m = d('tap-voicegain'); "
            "print(m.metadata['License-Expression'], "
            "any(str(f).endswith('licenses/LICENSE') for f in m.files))",
        )
        == "Apache-2.0 True"
    )

    calls = make_calls(CALLS, seed=1)
    output = project / "output" / "jsonl"
    with VoicegainSimulator(calls, token=e2e.TOKEN) as sim:
        run_env = {
            **env,
            "TAP_VOICEGAIN_API_URL": sim.url,
            "TAP_VOICEGAIN_JWT_TOKEN": e2e.TOKEN,
            "TAP_VOICEGAIN_PER_PAGE": "20",
            # Set through the environment: read only because meltano.yml declares
            # it, and passed as an integer because it is declared as one.
            "TAP_VOICEGAIN_FLATTENING_MAX_DEPTH": "1",
            "TARGET_JSONL_DESTINATION_PATH": str(output),
        }
        e2e.say(request, "meltano run tap-voicegain target-jsonl ...")
        meltano(
            binary,
            "run",
            "tap-voicegain",
            "target-jsonl",
            cwd=project,
            env=run_env,
            log=log,
        )
        expected = [expected_guide_fields(c) for c in exported(sim.calls)]

    assert sorted(p.name for p in output.iterdir()) == ["calls.jsonl"]
    rows = [
        json.loads(line) for line in (output / "calls.jsonl").read_text().splitlines()
    ]
    e2e.say(request, f"target-jsonl wrote {len(rows)} rows")
    assert len(expected) > CALLS // 2
    assert [row["callId"] for row in rows] == [exp["callId"] for exp in expected]
    assert any(exp["agent"] for exp in expected)
    for row, exp in zip(rows, expected, strict=True):
        # Flattened: agent.name arrives as agent__name, null for a call without
        # an agent; no nested object is left.
        assert "agent" not in row and "queue" not in row
        for key in ("id", "email", "name", "userId", "channel"):
            assert row.get(f"agent__{key}") == (exp["agent"] or {}).get(key)
        assert row.get("queue__name") == (exp["queue"] or {}).get("name")
        # Flattening writes lists as JSON text.
        tags = row.get("tags")
        assert (None if tags is None else json.loads(tags)) == exp["tags"]
        assert row["startTime"] == exp["startTime"]
        assert row["direction"] == exp["direction"]
