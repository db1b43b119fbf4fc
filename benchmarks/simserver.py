# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulator in its own process, so its work is never part of a measurement.

It is the repo's own command line, ``python -m voicegain_sim
--prerender``: every call is rendered (JSON and CSV) before it listens, and each
page body is cached the first time it is asked for, so once a first pass has
asked for every page, answering costs the same small constant for every client.
"""

from __future__ import annotations

import contextlib
import re
import selectors
import subprocess
import sys
import typing as t
from pathlib import Path

import requests

from voicegain_sim.launch import LaunchError, launched

if t.TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "benchmark-token"  # noqa: S105 - the simulator's token, not a secret
START_TIMEOUT_S = 900.0  # 200,000 calls take about a minute to generate and render
BANNER = re.compile(r"Voicegain simulator on (\S+) \((\d+) calls\)")
SIMLOG = Path(__file__).resolve().parent / "simlog.py"


class SimulatorError(RuntimeError):
    """The simulator did not start."""


@contextlib.contextmanager
def serve(
    calls: int, log: Path, seed: int = 0, latency_ms: float = 0.0
) -> Iterator[str]:
    """Serve ``calls`` generated calls; yield the API base URL (``…/v1``).

    With ``latency_ms`` each answer waits that long, as a remote API's would.
    """
    args = ["--calls", str(calls), "--seed", str(seed), "--token", TOKEN, "--prerender"]
    if latency_ms:
        args += ["--latency-ms", str(latency_ms)]
    try:
        with launched(args, log=log, timeout=START_TIMEOUT_S) as sim:
            yield sim.url
    except LaunchError as exc:
        raise SimulatorError(str(exc)) from exc


class LoggedSimulator(t.NamedTuple):
    """A simulator process (``simlog.py``) that notes each call-page request."""

    url: str  # the tap's api_url, ``http://127.0.0.1:PORT/v1``
    requests_log: Path

    def add(self, count: int) -> int:
        """Add ``count`` new DONE calls (``POST /_sim/add``); return the last callId."""
        added = 0
        last = 0
        while added < count:  # the endpoint takes at most 10,000 at a time
            step = min(count - added, 10_000)
            response = requests.post(
                f"{self.url}/_sim/add", params={"count": step}, timeout=120
            )
            response.raise_for_status()
            last = int(response.json()["last_call_id"])
            added += step
        return last

    def request_times(self, since: float = 0.0) -> list[float]:
        """Unix times of the call-page requests at or after ``since``."""
        times = []
        for line in self.requests_log.read_text().splitlines():
            stamp = float(line.split(" ", 1)[0])
            if stamp >= since:
                times.append(stamp)
        return times


@contextlib.contextmanager
def serve_logged(calls: int, log: Path, seed: int = 0) -> Iterator[LoggedSimulator]:
    """Serve ``calls`` calls from ``simlog.py``; yield its URL and request log."""
    requests_log = log.with_suffix(".requests")
    requests_log.write_text("")
    command = [
        sys.executable,
        str(SIMLOG),
        "--calls",
        str(calls),
        "--seed",
        str(seed),
        "--token",
        TOKEN,
        "--requests-log",
        str(requests_log),
    ]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
    try:
        assert process.stdout is not None  # noqa: S101 - Popen(stdout=PIPE)
        with selectors.DefaultSelector() as selector:
            selector.register(process.stdout, selectors.EVENT_READ)
            ready = selector.select(START_TIMEOUT_S)
        banner = process.stdout.readline().decode(errors="replace") if ready else ""
        match = BANNER.search(banner)
        if match is None:
            tail = log.read_text(errors="replace")[-2000:]
            msg = f"the simulator did not start (exit status {process.poll()}):\n{tail}"
            raise SimulatorError(msg)
        yield LoggedSimulator(match.group(1), requests_log)
    finally:
        if process.poll() is None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()
        if process.stdout is not None:
            process.stdout.close()
