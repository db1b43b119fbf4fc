# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The simulator for the pipeline modes: it notes when each call page was asked for.

    python benchmarks/simlog.py --calls 10000 --token T --requests-log FILE

Serves like ``python -m voicegain_sim --prerender --port 0`` (same banner) and
appends ``<unix time> <afterCallId>`` to ``FILE`` for each ``/sa/call``
request, through the simulator's public ``on_request`` hook: the benchmark
reads from it when a run's first and last page were asked for (its start-up
ends at the first). ``POST /_sim/add?count=N`` adds N new DONE calls, as in
the simulator's own command line.
"""

from __future__ import annotations

import argparse
import signal
import sys
import threading
import time
import typing as t

from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Sequence
    from types import FrameType


def main(argv: Sequence[str] | None = None) -> int:
    """Serve until SIGTERM/SIGINT, logging the time of every call-page request."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--requests-log", required=True)
    args = parser.parse_args(argv)
    done = threading.Event()

    def _stop(signum: int, frame: FrameType | None) -> None:  # noqa: ARG001
        done.set()

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    sim = VoicegainSimulator(
        make_calls(args.calls, seed=args.seed),
        token=args.token,
        prerender=True,
        port=0,
    )
    # Line-buffered: the benchmark reads the file while the simulator runs.
    with open(args.requests_log, "a", buffering=1, encoding="utf-8") as log:  # noqa: PTH123
        lock = threading.Lock()

        def _note(index: int, params: dict[str, list[str]]) -> None:  # noqa: ARG001
            stamp = time.time()
            after = (params.get("afterCallId") or ["-"])[0]
            with lock:
                log.write(f"{stamp:.6f} {after}\n")

        sim.on_request = _note
        with sim:
            sys.stdout.write(
                f"Voicegain simulator on {sim.url} ({len(sim.calls)} calls)\n"
            )
            sys.stdout.flush()
            done.wait()
    return 0


if __name__ == "__main__":
    sys.exit(main())
