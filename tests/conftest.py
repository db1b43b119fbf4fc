"""Shared fixtures (a running simulator, a config pointing at it); e2e means slow."""

from __future__ import annotations

import typing as t

import pytest

from tests.helpers import TOKEN
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Iterator


@pytest.hookimpl(tryfirst=True)  # before `-m` deselects anything
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every end-to-end test is slow too: ``-m "not slow"`` leaves them all out."""
    for item in items:
        if item.get_closest_marker("e2e") and not item.get_closest_marker("slow"):
            item.add_marker(pytest.mark.slow)


@pytest.fixture
def sim() -> Iterator[VoicegainSimulator]:
    """A simulator with 250 finished calls."""
    with VoicegainSimulator(make_calls(250, seed=7), token=TOKEN) as server:
        yield server


@pytest.fixture
def config(sim: VoicegainSimulator) -> dict[str, t.Any]:
    """Tap settings for ``sim``: small pages so paging is exercised."""
    return {"jwt_token": TOKEN, "api_url": sim.url, "per_page": 40}
