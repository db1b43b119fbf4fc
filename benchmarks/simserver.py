# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulator in its own process, so its work is never part of a measurement.

It is the repo's own command line, ``python -m tap_voicegain.simulator
--prerender``: every call is rendered (JSON and CSV) before it listens, and each
page body is cached the first time it is asked for, so once a first pass has
asked for every page, answering costs the same small constant for every client.
"""

from __future__ import annotations

import contextlib
import re
import subprocess
import sys
import threading
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TOKEN = "benchmark-token"  # noqa: S105 - the simulator's token, not a secret
READY = re.compile(r"Voicegain simulator on (\S+) \((\d+) calls\)")
START_TIMEOUT_S = 900.0  # 200,000 calls take about a minute to generate and render


class SimulatorError(RuntimeError):
    """The simulator did not start."""


@contextlib.contextmanager
def serve(calls: int, log: Path, seed: int = 0) -> Iterator[str]:
    """Serve ``calls`` generated calls; yield the API base URL (``…/v1``)."""
    command = [
        sys.executable,
        "-m",
        "tap_voicegain.simulator",
        "--calls",
        str(calls),
        "--seed",
        str(seed),
        "--port",
        "0",
        "--token",
        TOKEN,
        "--prerender",
    ]
    with log.open("wb") as err:
        process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=err)
    try:
        yield _wait_ready(process, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        if process.stdout is not None:
            process.stdout.close()


def _wait_ready(process: subprocess.Popen[bytes], log: Path) -> str:
    """The URL from the simulator's first line, once it listens."""
    stdout = process.stdout
    assert stdout is not None  # noqa: S101 - Popen(stdout=PIPE)
    lines: list[bytes] = []
    reader = threading.Thread(
        target=lambda: lines.append(stdout.readline()), daemon=True
    )
    reader.start()
    reader.join(START_TIMEOUT_S)
    match = READY.search(lines[0].decode()) if lines else None
    if match is None:
        tail = log.read_text(errors="replace")[-2000:]
        msg = f"the simulator did not start (exit status {process.poll()}):\n{tail}"
        raise SimulatorError(msg)
    return match.group(1)
