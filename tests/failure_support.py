"""Helpers of the issue-19 tests: runs that never raise, remembered calls, logs, CLI.

Issue 19 is about bounded failures: a run that goes on past one bad call, waits
that have a ceiling, input errors that are one line. The helpers here let the
tests look at what a user sees: the records, the STATE, the log lines, the
requests the server received, the exit code and stderr of a tap process.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import functools
import http.server
import io
import json
import logging
import re
import subprocess
import threading
import typing as t

from tap_voicegain.tap import TapVoicegain
from tests.helpers import FAST_RETRIES, TapRun, tap_command, tap_env, write_json
from tests.transcript_support import catalog

if t.TYPE_CHECKING:
    from collections.abc import Callable, Iterable
    from pathlib import Path

    import pytest
    from typing_extensions import Self

    from voicegain_sim import VoicegainSimulator

TOKEN = "failure-tests-token"  # the simulator's token, not a secret
# One retry, in milliseconds: a lasting failure is given up on at once.
ONE_RETRY = {**FAST_RETRIES, "max_retries": 1}
# Text an error body carries; it must never reach the log or the state.
BODY_MARKER = "body-text-Zoe-7f3a"
MARKED_BODY = json.dumps({"status": 0, "message": f"{BODY_MARKER} private words"})


# --- runs ---


def sync(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    *,
    streams: Iterable[str] = ("calls",),
    tap_class: type[TapVoicegain] = TapVoicegain,
) -> TapRun:
    """Sync ``streams`` in-process; an error is kept in ``.error``, never raised.

    The messages written before an error are kept, so a test can say both "the
    run failed" and "what it had emitted by then".
    """
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap = tap_class(
                config=config,
                state={} if state is None else state,
                catalog=catalog(config, *streams),
                setup_mapper=True,
            )
            tap.sync_all()
        except Exception as exc:  # noqa: BLE001 - the test asserts on it
            error = exc
    out.flush()
    lines = buffer.getvalue().decode("utf-8").splitlines()
    return TapRun([json.loads(line) for line in lines if line], error)


def records_of(run: TapRun, stream: str) -> list[dict[str, t.Any]]:
    """Records of one stream, in the order written."""
    return [
        m["record"]
        for m in run.messages
        if m["type"] == "RECORD" and m["stream"] == stream
    ]


def ids_of(run: TapRun, stream: str = "calls") -> list[int]:
    """callIds of one stream's records, in the order written."""
    return [int(r["callId"]) for r in records_of(run, stream)]


def ids(calls: Iterable[dict[str, t.Any]]) -> list[int]:
    """callIds of simulator calls."""
    return [int(c["callId"]) for c in calls]


# --- state ---


def hours_ago(hours: float) -> str:
    """An RFC 3339 UTC time ``hours`` before now (a ``since`` in the state)."""
    moment = dt.datetime.now(dt.timezone.utc) - dt.timedelta(hours=hours)
    return moment.strftime("%Y-%m-%dT%H:%M:%SZ")


def remembered(
    bookmark: int,
    stuck: Iterable[int] = (),
    *,
    stream: str = "calls",
    details: dict[int, dict[str, t.Any]] | None = None,
    project: str = "default",
) -> dict[str, t.Any]:
    """A STATE holding one partition: a bookmark and calls remembered there.

    ``details`` (callId -> ``{"since", "attempts", "last"}``) become the
    partition's ``stuck_calls`` (design.md, "State"); without it the state is
    what the tap wrote before it kept details.
    """
    partition: dict[str, t.Any] = {
        "context": {"project": project},
        "replication_key": "callId",
        "replication_key_value": bookmark,
    }
    stuck = sorted(stuck)
    if stuck:
        partition["stuck_call_ids"] = stuck
    if details:
        partition["stuck_calls"] = {str(k): v for k, v in details.items()}
    return {"bookmarks": {stream: {"partitions": [partition]}}}


def part(
    state: dict[str, t.Any], stream: str = "calls", project: str = "default"
) -> dict[str, t.Any]:
    """The partition of ``project`` in ``stream``'s state (empty if none)."""
    for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", []):
        if partition.get("context", {}).get("project") == project:
            return t.cast("dict[str, t.Any]", partition)
    return {}


def detail(
    state: dict[str, t.Any], call_id: int, stream: str = "calls"
) -> dict[str, t.Any]:
    """The ``stuck_calls`` entry of ``call_id`` (empty if the state has none)."""
    details = part(state, stream).get("stuck_calls") or {}
    return t.cast("dict[str, t.Any]", details.get(str(call_id), {}))


# --- requests the simulator received ---


def looked_up(sim: VoicegainSimulator) -> list[int]:
    """callIds asked for one by one (``GET /sa/call/{callId}``), in order."""
    return [int(r.path.rstrip("/").rsplit("/", 1)[1]) for r in sim.requests_to("call")]


def asked_sessions(sim: VoicegainSimulator) -> list[str]:
    """saSessionIds whose transcript was asked for, in order (retries too)."""
    return [r.path.rstrip("/").split("/")[-2] for r in sim.requests_to("transcript")]


# --- log lines ---


def _names(text: str, call_id: int) -> bool:
    return re.search(rf"(?<!\d){call_id}(?!\d)", text) is not None


def naming(
    caplog: pytest.LogCaptureFixture, call_id: int, level: int = logging.WARNING
) -> list[str]:
    """Messages at ``level`` or above that name ``call_id``.

    Retry lines (the structured field ``attempt``: "attempt 1 of 2 failed;
    waiting") report an attempt, not the call's outcome: not counted.
    """
    return [
        r.getMessage()
        for r in caplog.records
        if r.levelno >= level
        and not hasattr(r, "attempt")
        and _names(r.getMessage(), call_id)
    ]


def at_least(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    """Messages at ``level`` or above."""
    return [r.getMessage() for r in caplog.records if r.levelno >= level]


# --- the rate limiter's clock (one seam: the tap's ``rate_limits``) ---


class FakeClock:
    """A monotonic clock that moves only when the tap sleeps; sleeps are kept."""

    def __init__(self) -> None:
        """Start at an arbitrary moment."""
        self.now = 1000.0
        self.sleeps: list[float] = []
        self.lock = threading.Lock()

    def __call__(self) -> float:
        """The current (fake) time."""
        return self.now

    def sleep(self, seconds: float) -> None:
        """Sleep at once: the clock jumps."""
        with self.lock:
            self.sleeps.append(seconds)
            self.now += max(0.0, seconds)


def clocked_tap(clock: FakeClock) -> type[TapVoicegain]:
    """The tap with its rate limiters on ``clock`` (waits are instant, recorded).

    The one private seam these tests use: the tap's ``rate_limits`` (built as
    ``RateLimits(max_per_minute, logger, clock=, sleep=)``), as
    tests/test_ratelimit.py does.
    """
    from tap_voicegain.http.ratelimit import RateLimits  # noqa: PLC0415 - the seam

    class ClockedTap(TapVoicegain):
        @functools.cached_property
        def rate_limits(self) -> RateLimits:
            return RateLimits(
                self.config.get("max_requests_per_minute"),
                self.logger,
                clock=clock,
                sleep=clock.sleep,
            )

    return ClockedTap


# --- the tap as a process ---


def run_cli(
    tmp_path: Path,
    config: dict[str, t.Any],
    *,
    state_text: str | None = None,
    catalog_text: str | None = None,
    timeout: float = 60,
) -> subprocess.CompletedProcess[str]:
    """Run ``tap-voicegain --config ... [--state ...] [--catalog ...]`` to its end."""
    command = tap_command(write_json(tmp_path / "config.json", config))
    if state_text is not None:
        path = tmp_path / "state.json"
        path.write_text(state_text, encoding="utf-8")
        command += ["--state", str(path)]
    if catalog_text is not None:
        path = tmp_path / "catalog.json"
        path.write_text(catalog_text, encoding="utf-8")
        command += ["--catalog", str(path)]
    return subprocess.run(
        command,
        capture_output=True,
        env=tap_env(),
        check=False,
        timeout=timeout,
        text=True,
    )


_ERROR_LINE = re.compile(r"\b(ERROR|CRITICAL)\b")


def error_lines(stderr: str) -> list[str]:
    """stderr lines logged at ERROR or CRITICAL."""
    return [line for line in stderr.splitlines() if _ERROR_LINE.search(line)]


def assert_one_clear_error(
    done: subprocess.CompletedProcess[str], *culprits: str | tuple[str, ...]
) -> str:
    """Exit non-zero, no traceback, at most one ERROR line, the culprits named.

    Every culprit (a setting, a value, a project...) is named on one line of
    stderr, case-insensitively; a tuple of culprits means any one of them (the
    ways a value may be shown). Returns that line.
    """
    assert done.returncode != 0, f"exit 0; stderr ends:\n{done.stderr[-600:]}"
    assert "Traceback" not in done.stderr, done.stderr[-600:]
    errors = error_lines(done.stderr)
    assert len(errors) <= 1, "\n".join(errors)
    wanted = [(c,) if isinstance(c, str) else c for c in culprits]
    for line in done.stderr.splitlines():
        low = line.lower()
        if all(any(c.lower() in low for c in ways) for ways in wanted):
            return line
    msg = f"no line names {culprits}:\n{done.stderr[-600:]}"
    raise AssertionError(msg)


# --- a tiny loopback server, for answers the simulator does not give ---


@dataclasses.dataclass
class Answer:
    """What the loopback server sends back."""

    status: int = 200
    body: bytes = b"[]"
    headers: dict[str, str] = dataclasses.field(default_factory=dict)
    content_type: str = "application/json"


class LoopbackServer:
    """An HTTP server on 127.0.0.1 in a thread; ``answer(path)`` decides each reply.

    ``paths`` keeps every requested path (with its query), in order.
    """

    def __init__(self, answer: Callable[[str], Answer]) -> None:
        """Serve ``answer`` once started (``with LoopbackServer(...) as server``)."""
        self.answer = answer
        self.paths: list[str] = []
        outer = self

        class Handler(http.server.BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def do_GET(self) -> None:
                outer.paths.append(self.path)
                reply = outer.answer(self.path)
                self.send_response(reply.status)
                self.send_header("Content-Type", reply.content_type)
                for name, value in reply.headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(reply.body)))
                self.end_headers()
                self.wfile.write(reply.body)

            def log_message(self, format: str, *args: object) -> None:  # noqa: A002
                """Quiet."""

        self._server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}
        )

    @property
    def url(self) -> str:
        """Base URL, e.g. ``http://127.0.0.1:54321``."""
        host, port = self._server.server_address[:2]
        return f"http://{host!s}:{port}"

    def __enter__(self) -> Self:
        """Start serving."""
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        """Stop serving."""
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
