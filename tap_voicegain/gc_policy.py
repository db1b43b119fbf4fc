"""The cyclic garbage collector, set for an export run from the command line."""

from __future__ import annotations

import contextlib
import gc
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator

# Allocations between two young-generation collections (Python's default: 700).
# A page of 1,000 calls allocates some 50,000 containers, none in a cycle.
GC_GEN0_THRESHOLD = 50_000


@contextlib.contextmanager
def tuned_gc() -> Iterator[None]:
    """The cyclic GC set for an export run, restored afterwards.

    Records are acyclic and freed by reference counting, yet with the default
    thresholds the collector ran every 700 allocations and walked every object
    of the start-up (the SDK, its schemas): 18-21 % of the tap's CPU.
    ``gc.freeze()`` moves what exists after start-up out of its reach; the
    higher young-generation threshold makes collections rare. Memory stays
    flat: cycles (if any) are still collected, later (README "Performance").
    """
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()
