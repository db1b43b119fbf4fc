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
import typing as t

from voicegain_sim.launch import LaunchError, launched

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

TOKEN = "benchmark-token"  # noqa: S105 - the simulator's token, not a secret
START_TIMEOUT_S = 900.0  # 200,000 calls take about a minute to generate and render


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
