"""Fast random helpers for the call generator."""

from __future__ import annotations

import typing as t
import uuid

if t.TYPE_CHECKING:
    import random
    from collections.abc import Sequence

_T = t.TypeVar("_T")


def chance(rng: random.Random, probability: float) -> bool:
    """Return ``True`` with the given probability."""
    return rng.random() < probability


def rand_int(rng: random.Random, low: int, high: int) -> int:
    """Like ``rng.randint`` (inclusive bounds), but several times faster."""
    return low + int(rng.random() * (high - low + 1))


def pick(rng: random.Random, items: Sequence[_T]) -> _T:
    """Like ``rng.choice``, but several times faster."""
    return items[int(rng.random() * len(items))]


def some(rng: random.Random, pool: Sequence[_T], most: int) -> list[_T]:
    """Pick up to ``most`` distinct items (a fast ``rng.sample`` stand-in)."""
    picked: list[_T] = []
    for _ in range(rand_int(rng, 0, most)):
        item = pick(rng, pool)
        if item not in picked:
            picked.append(item)
    return picked


def rand_uuid(rng: random.Random) -> str:
    """Return a random version-4 UUID string drawn from ``rng``."""
    return str(uuid.UUID(int=rng.getrandbits(128), version=4))
