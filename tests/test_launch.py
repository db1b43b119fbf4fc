"""The simulator as a child process, as the demo and the benchmark start it."""

from __future__ import annotations

import os

import pytest
import requests

from voicegain_sim.launch import LaunchError, launched


def test_launched_simulator_serves_then_stops(tmp_path):
    args = ["--calls", "7", "--token", "launch-token"]
    with launched(args, log=tmp_path / "sim.log") as sim:
        answer = requests.get(
            f"{sim.url}/sa/call",
            headers={"Authorization": "Bearer launch-token"},
            timeout=10,
        )
        assert answer.status_code == 200
        assert len(answer.json()) == 7
        assert "(7 calls)" in sim.banner
    with pytest.raises(OSError):  # noqa: PT011 - the process is gone
        os.kill(sim.pid, 0)


def test_a_simulator_that_cannot_start_says_why(tmp_path):
    with pytest.raises(LaunchError, match="did not start"):  # noqa: SIM117
        with launched(["--calls", "not-a-number"], log=tmp_path / "sim.log"):
            pass
