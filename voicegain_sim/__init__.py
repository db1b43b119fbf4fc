"""Local simulator of the Voicegain Speech Analytics call export API.

Importing this package has no side effects: no server starts and no
environment is read until :meth:`VoicegainSimulator.start` is called.
"""

from __future__ import annotations

from voicegain_sim.csvfmt import CSV_COLUMNS, render_csv
from voicegain_sim.data import make_calls
from voicegain_sim.faults import FAULT_KINDS
from voicegain_sim.jwt import make_jwt
from voicegain_sim.ratelimit import parse_limit
from voicegain_sim.server import VoicegainSimulator
from voicegain_sim.state import RecordedRequest
from voicegain_sim.transcripts import make_transcript, transcript_text

__all__ = [
    "CSV_COLUMNS",
    "FAULT_KINDS",
    "RecordedRequest",
    "VoicegainSimulator",
    "make_calls",
    "make_jwt",
    "make_transcript",
    "parse_limit",
    "render_csv",
    "transcript_text",
]
