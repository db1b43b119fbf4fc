"""The SDK's standard tap tests, run against the simulator.

Two of them cannot fail for this tap (final state keys, primary-key uniqueness
on what the runner keeps); test_export.py has our own checks for those.

Every stream is selected: the suite's schema checks read the selection of a
fresh tap, and ``call_segments`` and ``transcripts`` are not selected by default.
"""

from __future__ import annotations

import socket
import typing as t

import pytest
from singer_sdk.testing import get_tap_test_class

from tap_voicegain.tap import TapVoicegain
from tests.transcript_support import catalog
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Iterator

TOKEN = "sdk-suite-token"


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


PORT = _free_port()


@pytest.fixture(scope="module", autouse=True)
def simulator() -> Iterator[VoicegainSimulator]:
    with VoicegainSimulator(
        make_calls(120, seed=31), token=TOKEN, port=PORT, segments=True
    ) as sim:
        yield sim


CONFIG = {"jwt_token": TOKEN, "api_url": f"http://127.0.0.1:{PORT}/v1", "per_page": 50}

TestTapVoicegain = get_tap_test_class(
    TapVoicegain,
    config=CONFIG,
    catalog=catalog(CONFIG, "calls", "call_segments", "transcripts"),
)
