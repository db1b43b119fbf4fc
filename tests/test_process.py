"""The tap as a real process: stopped by signals, killed, and keeping its secret."""

from __future__ import annotations

import array
import fcntl
import select
import signal
import subprocess
import termios
import time

import pytest

from tests.helpers import (
    FAST_RETRIES,
    bookmark,
    parse_messages,
    start_tap,
    tap_command,
    tap_env,
    wait_for,
    wait_for_requests,
    write_json,
)
from voicegain_sim import VoicegainSimulator, make_calls, make_jwt

# Real processes, stalled requests and signals: several seconds each.
pytestmark = pytest.mark.slow

STALL_SECONDS = 60  # the stalled answer never comes within a test


def read_available(process: subprocess.Popen[bytes]) -> bytes:
    """What the tap has written so far, without waiting for more."""
    assert process.stdout is not None
    seen = b""
    while select.select([process.stdout], [], [], 0)[0]:
        chunk = process.stdout.read1(65536)
        if not chunk:
            break
        seen += chunk
    return seen


def records_and_bookmark(messages):
    ids = [m["record"]["callId"] for m in messages if m["type"] == "RECORD"]
    states = [m["value"] for m in messages if m["type"] == "STATE"]
    return ids, (bookmark(states[-1]) if states else None)


def start_stalled_export(tmp_path, sim, *, per_page, stall_after):
    """Start the tap; it is stopped while its request for page ``stall_after + 1``
    is at the simulator, which does not answer it."""
    sim.inject("delay", after=stall_after, seconds=STALL_SECONDS)
    config = write_json(
        tmp_path / "config.json",
        {"jwt_token": "t", "api_url": sim.url, "per_page": per_page, **FAST_RETRIES},
    )
    process = start_tap(config, output=tmp_path)
    wait_for_requests(sim, stall_after + 1)  # the stalled request has arrived
    return config, process


def ended(process: subprocess.Popen[bytes], output) -> tuple[bytes, bytes]:
    """Wait for the tap to end; what it wrote to stdout and stderr."""
    process.wait(timeout=30)
    return (output / "stdout").read_bytes(), (output / "stderr").read_bytes()


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
def test_a_signal_mid_request_writes_the_state_and_exits_128_plus_the_signal(
    tmp_path, signum
):
    calls = make_calls(200, seed=21)
    with VoicegainSimulator(calls, token="t") as sim:
        # The signal arrives while the tap waits for the answer to page 4.
        config, process = start_stalled_export(
            tmp_path, sim, per_page=20, stall_after=3
        )
        process.send_signal(signum)
        out, err = ended(process, tmp_path)
        messages = parse_messages(out)
        ids, mark = records_and_bookmark(messages)
        assert process.returncode == 128 + signum
        assert ids == [int(c["callId"]) for c in calls[:60]]
        assert mark == ids[-1]  # state of exactly what was emitted
        name = signal.Signals(signum).name
        assert f"ended because stopped by {name}".encode() in err
        assert b"ended because an error" not in err
        more = resume_from_last_state(tmp_path, config, messages)
    assert ids + more == [int(c["callId"]) for c in calls]


def test_a_run_killed_with_sigkill_resumes_from_its_last_state_losing_nothing(tmp_path):
    calls = make_calls(300, seed=22)
    with VoicegainSimulator(calls, token="t") as sim:
        config, process = start_stalled_export(
            tmp_path, sim, per_page=25, stall_after=5
        )
        process.kill()
        out, _ = ended(process, tmp_path)
        messages = parse_messages(out)
        ids, mark = records_and_bookmark(messages)
        assert mark is not None and mark <= ids[-1]
        more = resume_from_last_state(tmp_path, config, messages)
    assert more[0] > mark  # nothing before the bookmark comes again
    assert sorted(set(ids + more)) == [int(c["callId"]) for c in calls]  # nothing lost


def stdout_pipe_is_full(process: subprocess.Popen[bytes]) -> bool:
    """Whether the tap's stdout pipe holds all it can: the tap waits to write."""
    assert process.stdout is not None
    fd = process.stdout.fileno()
    waiting = array.array("i", [0])
    fcntl.ioctl(fd, termios.FIONREAD, waiting)
    size = getattr(fcntl, "F_GETPIPE_SZ", None)
    capacity = fcntl.fcntl(fd, size) if size is not None else 16384
    # The kernel fills a pipe page by page: a last page may stay part empty.
    return waiting[0] >= capacity - 4096


def test_a_stop_while_the_target_does_not_read_ends_the_tap_without_a_state(
    tmp_path,
):
    calls = make_calls(2000, seed=24)  # megabytes of records: more than a pipe holds
    with VoicegainSimulator(calls, token="t") as sim:
        config = write_json(
            tmp_path / "config.json",
            {"jwt_token": "t", "api_url": sim.url, "per_page": 2000},
        )
        with (tmp_path / "stderr").open("wb") as err_file:
            process = subprocess.Popen(  # nobody reads its stdout
                tap_command(config),
                stdout=subprocess.PIPE,
                stderr=err_file,
                env=tap_env(),
            )
        wait_for(lambda: stdout_pipe_is_full(process), "the tap blocked on stdout")
        process.send_signal(signal.SIGTERM)
        # Ends on its own, within its deadline, although stdout is still not read.
        wait_for(lambda: process.poll() is not None, "the tap to end", limit=30)
        out, err = read_available(process), (tmp_path / "stderr").read_bytes()
        process.stdout.close()
    assert process.returncode == 128 + signal.SIGTERM
    assert b"stdout was not read" in err
    ids, mark = records_and_bookmark(parse_messages(out))
    assert ids, "records went out before the pipe filled"
    assert mark is None or mark <= ids[-1]  # a STATE never claims unwritten records


def test_test_mode_reports_a_success_with_one_record(tmp_path):
    calls = make_calls(50, seed=25)
    with VoicegainSimulator(calls, token="t") as sim:
        config = write_json(
            tmp_path / "config.json",
            {"jwt_token": "t", "api_url": sim.url, "per_page": 20},
        )
        done = subprocess.run(
            [*tap_command(config), "--test"],
            capture_output=True,
            env=tap_env(),
            check=False,
            timeout=60,
        )
    assert done.returncode == 0
    messages = parse_messages(done.stdout)
    # Only the selected streams: transcripts (opt-in) send no request.
    assert {m.get("stream") for m in messages if m["type"] != "STATE"} == {"calls"}
    assert sim.requests_to("transcript") == []
    ids, _ = records_and_bookmark(messages)
    assert ids == [int(calls[0]["callId"])]
    err = done.stderr.decode()
    assert "exported 1 calls" in err
    assert "ended because stopped after the first record (--test)" in err
    assert "| ERROR" not in err  # no line logged at ERROR level
    assert '"status":"failed"' not in err
    assert "an error" not in err


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
        good = {"jwt_token": token, "api_url": sim.url, "per_page": 30, **FAST_RETRIES}
        run(good)
        run({**good, "format": "csv"})
        sim.inject("status", times=2, code=503)
        sim.inject("reset")
        run(good)
        sim.inject("status", times=5, code=500)
        assert run(good, check=False).returncode != 0
        sim.inject("status", code=401)
        assert run(good, check=False).returncode != 0
        sim.inject("html", times=10)  # a lasting maintenance page: retried, then named
        assert run(good, check=False).returncode != 0
        sim.faults.clear()
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
