"""The tap as a real process: stopped by signals, killed, and keeping its secret."""

from __future__ import annotations

import select
import signal
import subprocess
import time

import pytest

from tests.singer_output import bookmark
from tests.tap_process import (
    parse_messages,
    start_tap,
    tap_command,
    tap_env,
    write_json,
)
from voicegain_sim import VoicegainSimulator, make_calls, make_jwt

FAST = {"retry_wait_base": 0.01, "retry_wait_max": 0.05, "max_retries": 3}


def read_until_states(
    process: subprocess.Popen[bytes], count: int, limit: float = 30
) -> bytes:
    """Read stdout until ``count`` STATE lines went by (the tap is mid-export)."""
    assert process.stdout is not None
    seen = b""
    deadline = time.monotonic() + limit
    while seen.count(b'"type":"STATE"') < count:
        assert time.monotonic() < deadline, "the tap wrote too few STATE messages"
        ready, _, _ = select.select([process.stdout], [], [], 1)
        if ready:
            chunk = process.stdout.read1(65536)
            assert chunk, "the tap ended early"
            seen += chunk
    return seen


def records_and_bookmark(messages):
    ids = [m["record"]["callId"] for m in messages if m["type"] == "RECORD"]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return ids, (bookmark(states[-1]) if states else None)


def start_stalled_export(tmp_path, sim, *, per_page, stall_after):
    """Start the tap; the request after ``stall_after`` pages hangs for a while."""
    sim.inject("delay", after=stall_after, seconds=8)
    config = write_json(
        tmp_path / "config.json",
        {"jwt_token": "t", "api_url": sim.url, "per_page": per_page, **FAST},
    )
    return config, start_tap(config)


def resume_from_last_state(tmp_path, config, messages) -> list[int]:
    """Run the tap again from the last STATE in ``messages``; its callIds."""
    last = [m for m in messages if m["type"] == "STATE"][-1]["value"]
    state = write_json(tmp_path / "state.json", last)
    resumed = subprocess.run(
        tap_command(config, state),
        capture_output=True,
        env=tap_env(),
        check=True,
        timeout=60,
    )
    return records_and_bookmark(parse_messages(resumed.stdout))[0]


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT])
def test_a_signal_mid_run_writes_the_state_of_what_was_emitted(tmp_path, signum):
    calls = make_calls(200, seed=21)
    with VoicegainSimulator(calls, token="t") as sim:
        # The signal arrives while the tap waits for page 4.
        config, process = start_stalled_export(
            tmp_path, sim, per_page=20, stall_after=3
        )
        head = read_until_states(process, 3)
        process.send_signal(signum)
        rest, _ = process.communicate(timeout=30)
        messages = parse_messages(head + rest)
        ids, mark = records_and_bookmark(messages)
        assert ids == [int(c["callId"]) for c in calls[:60]]
        assert mark == ids[-1]  # state of exactly what was emitted
        more = resume_from_last_state(tmp_path, config, messages)
    assert ids + more == [int(c["callId"]) for c in calls]


def test_a_run_killed_with_sigkill_resumes_from_its_last_state_losing_nothing(tmp_path):
    calls = make_calls(300, seed=22)
    with VoicegainSimulator(calls, token="t") as sim:
        config, process = start_stalled_export(
            tmp_path, sim, per_page=25, stall_after=5
        )
        head = read_until_states(process, 4)
        process.kill()
        rest, _ = process.communicate(timeout=30)
        messages = parse_messages(head + rest)
        ids, mark = records_and_bookmark(messages)
        assert mark is not None and mark <= ids[-1]
        more = resume_from_last_state(tmp_path, config, messages)
    assert more[0] > mark  # nothing before the bookmark comes again
    assert sorted(set(ids + more)) == [int(c["callId"]) for c in calls]  # nothing lost


def test_the_token_appears_in_no_output_at_debug_level(tmp_path):
    token = make_jwt(
        account_id="acc-1", context_id="ctx-1", exp=int(time.time()) + 1800
    )
    calls = make_calls(120, seed=23)
    outputs: list[bytes] = []

    def run(
        config: dict, *args: str, check: bool = True
    ) -> subprocess.CompletedProcess[bytes]:
        path = write_json(tmp_path / "config.json", config)
        command = [*tap_command(path), *args]
        done = subprocess.run(
            command,
            capture_output=True,
            check=False,
            timeout=120,
            env=tap_env(TAP_VOICEGAIN_LOGLEVEL="DEBUG"),
        )
        outputs.extend([done.stdout, done.stderr])
        if check:
            assert done.returncode == 0, done.stderr[-2000:]
        return done

    with VoicegainSimulator(calls, token=token) as sim:
        good = {"jwt_token": token, "api_url": sim.url, "per_page": 30, **FAST}
        run(good)
        run({**good, "format": "csv"})
        sim.inject("status", times=2, code=503)
        sim.inject("reset")
        run(good)
        sim.inject("status", times=5, code=500)
        assert run(good, check=False).returncode != 0
        sim.inject("status", code=401)
        assert run(good, check=False).returncode != 0
        sim.inject("html", after=1)
        assert run(good, check=False).returncode != 0
        sim.inject("status", code=400, body='{"message": "bad afterCallId"}')
        assert run(good, check=False).returncode != 0
        catalog = run(good, "--discover")
        run(good, "--about", "--format", "json")
        assert b"calls" in catalog.stdout
    assert len(outputs) == 18
    assert any(b"DEBUG" in out for out in outputs)
    assert any(b"RECORD" in out for out in outputs)
    for out in outputs:
        assert token.encode() not in out
        assert token.split(".")[2].encode() not in out  # not even the signature
