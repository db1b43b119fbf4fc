"""End to end, as a user of another Meltano project: ``meltano init`` in a fresh
directory outside this repository, then README.md's "In your own Meltano
project" lines exactly as written there (``meltano add --from-ref`` with
pip_url pointing at this checkout, built as a wheel like a released package;
``meltano select``; the token in ``.env``), then ``meltano run tap-voicegain
target-jsonl`` against the simulator.

Meltano is kept offline: its plugin hub is a closed loopback port, usage
statistics, tracking and the version check are off, and the loader also comes
from a definition file (meltano.yml's target-jsonl).
"""

from __future__ import annotations

import json
import os
import re
import shlex
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
README_STEPS = (
    "<!-- meltano-add: tests/test_e2e_meltano_add.py runs these lines as they are -->",
    "<!-- end of meltano-add -->",
)
# The two placeholders of README's lines: the checkout, and the user's token.
README_CHECKOUT = "TAP=/path/to/tap-voicegain"
README_TOKEN = "eyJ..."
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


def readme_steps(checkout: Path, token: str) -> str:
    """README's Meltano lines, with this checkout and the simulator's token."""
    text = files.README.read_text()
    start, end = (text.index(marker) for marker in README_STEPS)
    found = re.search(r"```bash\n(.*?)```", text[start:end], re.DOTALL)
    assert found, "README's meltano-add markers hold no ```bash block"
    steps = found.group(1)
    for placeholder in (README_CHECKOUT, README_TOKEN):
        assert steps.count(placeholder) == 1, f"README's steps lack {placeholder!r}"
    return steps.replace(README_CHECKOUT, f"TAP={shlex.quote(str(checkout))}").replace(
        README_TOKEN, token
    )


def run_readme_steps(
    binary: Path, project: Path, env: dict[str, str], log: Path
) -> None:
    """README's lines, word for word, in ``project``, with ``binary`` as meltano."""
    # The definition with pip_url pointing at this checkout, `meltano add`,
    # `meltano select`, the token in .env.
    steps = readme_steps(files.REPO_ROOT, e2e.TOKEN)
    shell_env = {
        **env,
        "PATH": f"{binary.parent}{os.pathsep}{env.get('PATH', '')}",
        # A user gets the newest releases pyproject.toml allows; this test, like
        # the rest of `make test`, the versions uv.lock pins (uv reads this
        # variable in the `uv pip install` Meltano runs).
        "UV_CONSTRAINT": str(files.REPO_ROOT / "requirements" / "tap.txt"),
    }
    proc = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", steps],
        cwd=project,
        env=shell_env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        timeout=e2e.MELTANO_TIMEOUT,
        check=False,
    )
    with log.open("a") as out:
        out.write(f"$ README steps\n{steps}\n{proc.stdout}\n")
    assert proc.returncode == 0, "\n".join(proc.stdout.splitlines()[-60:])


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

    e2e.say(request, "README's lines: meltano add tap-voicegain, select, .env ...")
    run_readme_steps(binary, project, env, log)
    definition = yaml.safe_load((project / "tap-voicegain.yml").read_text())
    assert definition["pip_url"] == str(files.REPO_ROOT)

    # The repository's own target-jsonl, from a definition too (no hub).
    jsonl = files.plugin(files.meltano_project(), "loaders", "target-jsonl")
    (home / "target-jsonl.yml").write_text(yaml.safe_dump(jsonl))
    meltano(
        binary,
        "add",
        "--plugin-type",
        "loader",
        "target-jsonl",
        "--from-ref",
        str(home / "target-jsonl.yml"),
        cwd=project,
        env=env,
        log=log,
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

    # The versions uv.lock pins, through UV_CONSTRAINT.
    (locked_msgspec,) = files.locked_versions(
        (files.REPO_ROOT / "uv.lock").read_text()
    )["msgspec"]
    version = "import importlib.metadata as m; print(m.version('msgspec'))"
    assert _in_plugin(project, version) == locked_msgspec

    calls = make_calls(CALLS, seed=1)
    output = project / "output" / "jsonl"
    with VoicegainSimulator(calls, token=e2e.TOKEN) as sim:
        run_env = {
            **env,
            "TAP_VOICEGAIN_API_URL": sim.url,
            # No TAP_VOICEGAIN_JWT_TOKEN: the token comes from README's .env line.
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
