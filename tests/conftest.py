"""Shared fixtures: a running simulator and a config pointing at it."""

from __future__ import annotations

import typing as t

import pytest

from tests.helpers import TOKEN
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.fixture
def sim() -> Iterator[VoicegainSimulator]:
    """A simulator with 250 finished calls."""
    with VoicegainSimulator(make_calls(250, seed=7), token=TOKEN) as server:
        yield server


@pytest.fixture
def config(sim: VoicegainSimulator) -> dict[str, t.Any]:
    """Tap settings for ``sim``: small pages so paging is exercised."""
    return {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 40}
