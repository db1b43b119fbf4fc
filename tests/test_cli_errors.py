"""Errors a user can act on end the process with their message, not a traceback."""

from __future__ import annotations

import subprocess

import pytest

from tests.helpers import tap_command, tap_env, write_json
from voicegain_sim import VoicegainSimulator, make_calls

TOKEN = "good-token-abcdef123456"


def run_cli(tmp_path, config, state=None):
    config_path = write_json(tmp_path / "config.json", config)
    state_path = None
    if state is not None:
        state_path = tmp_path / "state.json"
        state_path.write_text(state, encoding="utf-8")
    return subprocess.run(
        tap_command(config_path, state_path),
        capture_output=True,
        env=tap_env(),
        check=False,
        timeout=60,
        text=True,
    )


@pytest.mark.parametrize(
    ("token", "state", "says"),
    [
        ("wrong-token-abcdef123456zz", None, "rejected the token of project"),
        (TOKEN, "garbage", "is not JSON"),
        (TOKEN, '{"bookmarks": {"calls": {"partitions": [5]}}}', "A partition in"),
    ],
)
def test_a_user_error_exits_1_with_its_message_and_no_traceback(
    tmp_path, token, state, says
):
    with VoicegainSimulator(make_calls(5, seed=3), token=TOKEN) as sim:
        done = run_cli(tmp_path, {"jwt_token": token, "api_url": sim.url}, state)
    assert done.returncode == 1
    assert says in done.stderr
    assert "The run failed: " in done.stderr
    assert "Traceback" not in done.stderr
    assert token not in done.stderr + done.stdout
