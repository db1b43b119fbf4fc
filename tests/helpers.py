"""What the tests share: the token, fast retries, state helpers, running the tap.

Imported by tests directly (not from conftest, which only holds fixtures).
"""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import os
import select
import subprocess
import sys
import time
import typing as t

from tap_voicegain.tap import TapVoicegain
from voicegain_sim import VoicegainSimulator, make_jwt

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterator
    from pathlib import Path

TOKEN = "sim-token-for-tests"  # the simulator's token, not a secret
# Retries that take milliseconds, for tests that provoke them.
FAST_RETRIES = {"retry_wait_base": 0.01, "retry_wait_max": 0.05, "max_retries": 3}


# --- state ---


def bookmark(state: dict[str, t.Any], project: str = "default") -> int | None:
    """The callId bookmark of ``project`` in a STATE value (or Meltano's wrapper)."""
    singer = state.get("singer_state", state)
    for part in singer.get("bookmarks", {}).get("calls", {}).get("partitions", []):
        if part.get("context", {}).get("project") == project:
            value = part.get("replication_key_value")
            return None if value is None else int(value)
    return None


def partition(state: dict[str, t.Any], project: str = "default") -> dict[str, t.Any]:
    """The state partition of ``project`` (empty if it has none)."""
    for part in state.get("bookmarks", {}).get("calls", {}).get("partitions", []):
        if part.get("context", {}).get("project") == project:
            return t.cast("dict[str, t.Any]", part)
    return {}


def state_with_bookmark(mark: t.Any, project: str = "default") -> dict[str, t.Any]:
    """A STATE value holding ``mark`` as the callId bookmark of ``project``."""
    part = {
        "context": {"project": project},
        "replication_key": "callId",
        "replication_key_value": mark,
    }
    return {"bookmarks": {"calls": {"partitions": [part]}}}


# --- the tap in-process ---


@dataclasses.dataclass
class TapRun:
    """Messages of one tap run, in the order written."""

    messages: list[dict[str, t.Any]]
    error: BaseException | None = None
    raw: bytes = b""

    @property
    def records(self) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    @property
    def call_ids(self) -> list[int]:
        return [r["callId"] for r in self.records]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, t.Any]:
        return self.states[-1]


def run_tap(
    config: dict[str, t.Any],
    state: t.Any = None,
    *,
    catalog: dict[str, t.Any] | None = None,
    expect_error: bool = False,
) -> TapRun:
    """Sync all streams in-process; capture stdout bytes and parse them."""
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap = TapVoicegain(
                config=config,
                state={} if state is None else state,
                catalog=catalog,
                setup_mapper=True,
            )
            tap.sync_all()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
    out.flush()
    raw = buffer.getvalue()
    messages = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
    if expect_error and error is None:
        msg = "the tap run was expected to fail but succeeded"
        raise AssertionError(msg)
    return TapRun(messages=messages, error=error, raw=raw)


# --- the tap as a process, the way Meltano runs it ---


def write_json(path: Path, value: t.Any) -> Path:
    path.write_text(json.dumps(value), encoding="utf-8")
    return path


def tap_command(config_path: Path, state_path: Path | None = None) -> list[str]:
    command = [sys.executable, "-m", "tap_voicegain", "--config", str(config_path)]
    if state_path is not None:
        command += ["--state", str(state_path)]
    return command


def tap_env(**extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("TAP_VOICEGAIN_")}
    env.update(extra)
    return env


def start_tap(
    config_path: Path,
    state_path: Path | None = None,
    *,
    output: Path | None = None,
    **env: str,
) -> subprocess.Popen[bytes]:
    """Start the tap; with ``output``, stdout and stderr go to files there
    (``output/stdout``, ``output/stderr``), so a tap that writes more than a pipe
    holds never waits for the test to read it."""
    if output is None:
        return subprocess.Popen(
            tap_command(config_path, state_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            env=tap_env(**env),
        )
    output.mkdir(parents=True, exist_ok=True)
    with (output / "stdout").open("wb") as out, (output / "stderr").open("wb") as err:
        return subprocess.Popen(
            tap_command(config_path, state_path),
            stdout=out,
            stderr=err,
            env=tap_env(**env),
        )


def parse_messages(stdout: bytes) -> list[dict[str, t.Any]]:
    """Complete Singer lines only: a killed process may leave half a line."""
    messages = []
    for line in stdout.split(b"\n"):
        if not line.strip():
            continue
        try:
            messages.append(json.loads(line))
        except ValueError:
            continue
    return messages


def wait_for(condition: Callable[[], bool], what: str, limit: float = 30) -> None:
    """Poll ``condition`` until it holds; fail naming ``what`` after ``limit`` s."""
    deadline = time.monotonic() + limit
    while not condition():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.01)


def wait_for_requests(sim: VoicegainSimulator, count: int, limit: float = 30) -> None:
    """Wait until the simulator has received ``count`` /sa/call requests."""
    wait_for(
        lambda: sum(r.path.endswith("/sa/call") for r in sim.requests) >= count,
        f"{count} requests at the simulator",
        limit,
    )


def read_until_states(
    process: subprocess.Popen[bytes], count: int, limit: float = 30
) -> bytes:
    """Read stdout until ``count`` STATE lines went by (the tap is mid-run)."""
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


@contextlib.contextmanager
def east_and_west(
    east_calls: list[dict[str, t.Any]],
    west_calls: list[dict[str, t.Any]],
    **settings: t.Any,
) -> Iterator[tuple[VoicegainSimulator, dict[str, t.Any]]]:
    """A simulator serving two projects, and a config naming them east and west.

    Each token is a JWT naming its project's contextId, as the API's do.
    """
    east = make_jwt(account_id="a", context_id=east_calls[0]["contextId"], exp=None)
    west = make_jwt(account_id="a", context_id=west_calls[0]["contextId"], exp=None)
    with VoicegainSimulator(
        None, token="unused", projects={east: east_calls, west: west_calls}
    ) as sim:
        config = {
            "projects": [
                {"name": "east", "jwt_token": east},
                {"name": "west", "jwt_token": west},
            ],
            "api_url": sim.url,
            **settings,
        }
        yield sim, config


def calls_entry(catalog: dict[str, t.Any]) -> dict[str, t.Any]:
    """The catalog entry of the ``calls`` stream (the SDK orders streams by name)."""
    return next(s for s in catalog["streams"] if s["tap_stream_id"] == "calls")
