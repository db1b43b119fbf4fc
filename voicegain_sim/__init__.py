"""Local simulator of the Voicegain Speech Analytics call export API.

Importing this package has no side effects: no server starts and no
environment is read until :meth:`VoicegainSimulator.start` is called.
"""

from __future__ import annotations

from voicegain_sim.csvfmt import CSV_COLUMNS, render_csv
from voicegain_sim.data import make_calls
from voicegain_sim.jwt import make_jwt
from voicegain_sim.server import VoicegainSimulator
from voicegain_sim.state import RecordedRequest

__all__ = [
    "CSV_COLUMNS",
    "RecordedRequest",
    "VoicegainSimulator",
    "make_calls",
    "make_jwt",
    "render_csv",
]
