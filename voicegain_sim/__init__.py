"""Local simulator of the Voicegain Speech Analytics API, for tests and demos.

Importing this package has no side effects: no server starts and no
environment is read until :meth:`VoicegainSimulator.start` is called.

Where each behaviour is described:

* endpoints and constructor options - :class:`VoicegainSimulator`;
* ``/sa/call`` query rules - :mod:`voicegain_sim.query`; CSV form -
  :mod:`voicegain_sim.csvfmt`; the six newer filters (opt-in:
  ``extra_filters``, with ``user_groups`` and ``now``) -
  :mod:`voicegain_sim.filters`;
* readings of what the documents leave open (opt-in): ``afterCallId``
  without ``consecutive`` (``after_call_id_reading``), a capped page size
  (``per_page_cap``), empty pages as 204, an empty body or ``null``
  (``empty_answer``), 400 for ``fromTime`` after ``toTime``
  (``refuse_reversed_times``) -
  :mod:`voicegain_sim.readings`;
* segments with ``inclSegments=true`` (opt-in: ``segments``) -
  :mod:`voicegain_sim.segments`;
* the vendor's full ``VoiceCall`` (opt-in: ``full_model``; billing,
  copilot card, Vonage statistics, ...) - :mod:`voicegain_sim.fullmodel`,
  :mod:`voicegain_sim.billing`, :mod:`voicegain_sim.vonage`; where
  ``billing`` shows (``billing_reading``) - :mod:`voicegain_sim.readings`;
* rate limits, ``RateLimit-*`` headers, concurrency 429s -
  :mod:`voicegain_sim.ratelimit`; missing or garbled headers -
  ``VoicegainSimulator.ratelimit_headers``;
* transcripts: content, 400 in progress, 404 missing/failed/unknown -
  :mod:`voicegain_sim.transcripts`;
* injected faults (``sim.inject``): errors, resets, delays, trickled bodies,
  BOMs, bare ``text/csv``, bodies echoing the token, ANSI escapes, raw bodies,
  200 answers that are not the export (``html``, ``maintenance``,
  ``non_array``, ``error_object``), odd JSON (``json_value``, ``deep``,
  ``no_callid``, ``bad_callid``), another call (``other_call``), lasting
  faults (``times=None``), faults pinned to one call or session
  (``fail_call``, ``fail_transcript``) - :mod:`voicegain_sim.faults`;
* changes between requests: ``set_phase``, ``update_call``, ``add_calls``,
  ``delete_call``, ``add_generated``, ``add_imported`` (old recordings: new
  callIds, old start times, still queued), ``set_transcript``, ``on_request``;
* phases: the vendor's 11 (``data.PROGRESS_PHASES``), chosen per call with
  ``make_calls(..., phases={index: phase})``; imported calls -
  ``data.imported_calls``.
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
