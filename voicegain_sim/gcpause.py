"""Pause the cyclic garbage collector around bulk object creation."""

from __future__ import annotations

import contextlib
import gc
import typing as t

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@contextlib.contextmanager
def paused_gc() -> Iterator[None]:
    """Pause the collector while building many objects, then restore its state.

    Building large lists of dicts triggers repeated full collections that can
    double the time taken.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()
