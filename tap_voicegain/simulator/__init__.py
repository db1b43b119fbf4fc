# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Local simulator of the Voicegain Speech Analytics call export API.

Importing this package has no side effects: no server starts and no
environment is read until :meth:`VoicegainSimulator.start` is called.
"""

from __future__ import annotations

from tap_voicegain.simulator.csvfmt import CSV_COLUMNS, render_csv
from tap_voicegain.simulator.data import make_calls
from tap_voicegain.simulator.jwt import make_jwt
from tap_voicegain.simulator.server import VoicegainSimulator
from tap_voicegain.simulator.state import RecordedRequest

__all__ = [
    "CSV_COLUMNS",
    "RecordedRequest",
    "VoicegainSimulator",
    "make_calls",
    "make_jwt",
    "render_csv",
]
