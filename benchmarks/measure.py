# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Run one command and report its wall time, CPU time and peak RSS as JSON.

``ru_maxrss`` of ``RUSAGE_CHILDREN`` is the largest over *every* child a process
has waited for, so each measured command runs under a fresh copy of this small
wrapper, whose only child is that command::

    python benchmarks/measure.py --stdout /dev/null --stderr tap.log -- CMD ARGS...

prints ``{"wall_s": ..., "cpu_s": ..., "maxrss_kb": ..., "returncode": ...,
"started_at": ...}`` (``started_at``: Unix time just before the command starts,
to compare with the simulator's request times).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import time
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Sequence


def measure(command: Sequence[str], stdout: str, stderr: str) -> dict[str, float]:
    """Run ``command`` with its output in the given files; return its costs."""
    with (
        open(stdout, "wb") as out,  # noqa: PTH123
        open(stderr, "wb") as err,  # noqa: PTH123
    ):
        started_at = time.time()
        started = time.perf_counter()
        returncode = subprocess.run(
            command, stdout=out, stderr=err, check=False
        ).returncode
        wall = time.perf_counter() - started
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "maxrss_kb": usage.ru_maxrss,  # kilobytes on Linux
        "returncode": returncode,
        "started_at": started_at,
    }


def main(argv: Sequence[str] | None = None) -> int:
    """Measure the command after ``--``; exit 0 even when the command failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stdout", default="/dev/null", help="the command's stdout")
    parser.add_argument("--stderr", default="/dev/null", help="the command's stderr")
    parser.add_argument("command", nargs="+", help="the command, after --")
    args = parser.parse_args(argv)
    print(json.dumps(measure(args.command, args.stdout, args.stderr)))
    return 0


if __name__ == "__main__":
    sys.exit(main())
