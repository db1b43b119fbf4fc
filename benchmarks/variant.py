# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The tap with one of its speed measures turned off, to measure what it brings.

    python benchmarks/variant.py --default-gc --config tap.json
    python benchmarks/variant.py --no-prefetch --config tap.json

``--default-gc``: Python's default cyclic GC (no ``gc.freeze()``, gen-0
threshold 700) instead of the tap's ``tuned_gc``. ``--no-prefetch``: never
request the next page ahead. Every other argument goes to the tap.
"""

from __future__ import annotations

import contextlib
import math
import sys

from tap_voicegain import tap
from tap_voicegain.http import prefetch


def main() -> None:
    """Turn off what the flags name, then run the tap's command line."""
    args = sys.argv[1:]
    if "--default-gc" in args:
        args.remove("--default-gc")
        tap.tuned_gc = contextlib.nullcontext  # type: ignore[assignment]
    if "--no-prefetch" in args:
        args.remove("--no-prefetch")
        prefetch.PAYS_AFTER_S = math.inf
    sys.argv = [sys.argv[0], *args]
    tap.TapVoicegain.cli()


if __name__ == "__main__":
    main()
