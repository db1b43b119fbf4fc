"""Transcripts of calls: ``GET /sa/{saSessionId}/transcript``.

A call's transcript is generated from the call alone (seeded with its
``callId`` and ``saSessionId``), so it is the same on every request: 2 to 8
sections alternating between the agent (``spk`` 1, speaks first) and the
caller (``spk`` 2), inside the call's ``duration``; words carry ``start`` (int
ms), ``duration`` (ms), ``confidence`` (0..1), ``spk``, ``dtmf`` (caller key
presses are words with ``dtmf: true``) and ``alternatives`` (mostly empty).
Some words are non-ASCII ("Zoë", "niño", "über", "François", an emoji).

What a session answers, first match wins:

* 404 - no call of the token's project has this ``saSessionId``;
* 404 - the transcript is *missing* (deleted): marked with
  ``set_transcript(id, "missing")``, listed in ``transcripts_missing`` or drawn
  by ``transcripts_missing_fraction``;
* 404 - the call ended in ``ERROR`` (or ``STOPPED``): there is no transcript;
* 400 - transcription still in progress: the call is in any phase other than
  ``DONE``/``RECOMPUTING``, or marked/listed/drawn *pending* as above;
* 200 - the transcript (``format=json``, the default, or ``format=text``).

Fractions are drawn from a hash of the ``saSessionId``: deterministic across
runs, and the same session stays pending or missing until marked otherwise.
"""

from __future__ import annotations

import hashlib
import random
import threading
import typing as t

from voicegain_sim import vocab
from voicegain_sim.randomness import chance, pick, rand_int
from voicegain_sim.responses import TEXT_TYPE, Response, dump_json, error_response

if t.TYPE_CHECKING:
    from collections.abc import Iterable

STATES = frozenset({"ready", "pending", "missing"})
READY_PHASES = frozenset({"DONE", "RECOMPUTING"})
FAILED_PHASES = frozenset({"ERROR", "STOPPED"})
AGENT, CALLER = 1, 2  # speaker indexes
MAX_SECTIONS = 8
_HASH_SPAN = 2**64


def make_transcript(call: dict[str, t.Any]) -> list[dict[str, t.Any]]:
    """The call's transcript as the API's ``format=json`` array of sections."""
    rng = random.Random(f"transcript:{call['callId']}:{call.get('saSessionId')}")  # noqa: S311
    total = max(10, int(call.get("duration") or 60)) * 1000
    count = min(MAX_SECTIONS, 2 + total // 90_000)
    slot = total / count
    names = {
        "agent": _first_name(call) or "Sam",
        "caller": pick(rng, vocab.CALLER_FIRST_NAMES),
        "caller_last": pick(rng, vocab.CALLER_LAST_NAMES),
    }
    lines = {
        AGENT: [vocab.AGENT_GREETING, *rng.sample(vocab.AGENT_LINES, 8)],
        CALLER: [vocab.CALLER_OPENER, *rng.sample(vocab.CALLER_LINES, 8)],
    }
    last_agent_turn = count - 1 - (count - 1) % 2  # agent turns are even
    sections = []
    for number in range(count):
        speaker = AGENT if number % 2 == 0 else CALLER
        turn = [lines[speaker].pop(0)]
        if rand_int(rng, 0, 2) == 0:
            turn.append(lines[speaker].pop(0))
        if number == last_agent_turn > 0:
            turn.append(vocab.AGENT_CLOSING)
        start = int(number * slot + rng.uniform(0, slot * 0.2))
        words = _words(rng, speaker, " ".join(turn).format(**names))
        sections.append(_section(rng, speaker, start, int(slot * 0.75), words))
    return sections


def _first_name(call: dict[str, t.Any]) -> str | None:
    agent = call.get("agent")
    name = str(agent.get("name") or "") if isinstance(agent, dict) else ""
    if "," in name:  # "Smith, John"
        name = name.split(",", 1)[1]
    parts = name.replace('"', "").split()
    return parts[0] if parts else None


def _words(rng: random.Random, speaker: int, text: str) -> list[tuple[str, bool]]:
    """A turn's words, each with whether it is a DTMF key press."""
    words = [(word, False) for word in text.split()]
    if speaker == CALLER and chance(rng, 0.15):
        keys = rand_int(rng, 1, 4)
        words += [(pick(rng, vocab.DTMF_KEYS), True) for _ in range(keys)]
    return words


def _section(
    rng: random.Random,
    speaker: int,
    start: int,
    room: int,
    words: list[tuple[str, bool]],
) -> dict[str, t.Any]:
    timings = [(rng.uniform(40, 160), rng.uniform(160, 520)) for _ in words]
    needed = sum(gap + length for gap, length in timings)
    scale = min(1.0, room / needed)  # squeeze a long turn into its slot
    position = float(start)
    items = []
    for (word, dtmf), (gap, length) in zip(words, timings, strict=True):
        position += gap * scale
        item: dict[str, t.Any] = {
            "utterance": word,
            "start": int(position),
            "duration": round(length * scale, 1),
            "confidence": 1.0 if dtmf else round(rng.uniform(0.55, 0.99), 3),
            "spk": speaker,
            "dtmf": dtmf,
            "alternatives": [],
        }
        if not dtmf and chance(rng, 0.05):
            item["alternatives"] = [
                {
                    "utterance": word.upper(),
                    "confidence": round(rng.uniform(0.1, 0.5), 3),
                }
            ]
        items.append(item)
        position = item["start"] + item["duration"]
    return {
        "start": start,
        "duration": round(position - start, 1),
        "spk": speaker,
        "words": items,
    }


def transcript_text(sections: list[dict[str, t.Any]]) -> str:
    """The ``format=text`` form: one ``Speaker N: words`` line per section."""
    return "".join(
        f"Speaker {s['spk']}: {' '.join(w['utterance'] for w in s['words'])}\n"
        for s in sections
    )


def _draw(sa_session_id: str) -> float:
    digest = hashlib.sha256(sa_session_id.encode("utf-8")).digest()
    return int.from_bytes(digest[:8], "big") / _HASH_SPAN


class Transcripts:
    """Which sessions' transcripts are pending or missing, and the answers."""

    def __init__(
        self,
        pending: Iterable[str] = (),
        missing: Iterable[str] = (),
        pending_fraction: float = 0.0,
        missing_fraction: float = 0.0,
    ) -> None:
        """Sessions listed or drawn (by fraction, 0..1) as pending or missing.

        Raises:
            ValueError: Fractions outside 0..1 or adding up to more than 1.
        """
        if not (0 <= pending_fraction <= 1 and 0 <= missing_fraction <= 1) or (
            pending_fraction + missing_fraction > 1
        ):
            msg = "transcript fractions must be in 0..1 and add up to at most 1"
            raise ValueError(msg)
        self.pending_fraction = pending_fraction
        self.missing_fraction = missing_fraction
        self._marks = dict.fromkeys(pending, "pending")
        self._marks.update(dict.fromkeys(missing, "missing"))
        self._lock = threading.Lock()

    def mark(self, sa_session_id: str, state: str) -> None:
        """Mark a session ``ready``, ``pending`` or ``missing``.

        Raises:
            ValueError: Unknown state.
        """
        if state not in STATES:
            msg = f"transcript state must be one of {sorted(STATES)}"
            raise ValueError(msg)
        with self._lock:
            self._marks[sa_session_id] = state

    def marked(self, sa_session_id: str) -> str:
        """The mark or draw of a session: ``ready``, ``pending`` or ``missing``."""
        with self._lock:
            mark = self._marks.get(sa_session_id)
        if mark is not None:
            return mark
        draw = _draw(sa_session_id)
        if draw < self.pending_fraction:
            return "pending"
        if draw < self.pending_fraction + self.missing_fraction:
            return "missing"
        return "ready"

    def state(self, call: dict[str, t.Any] | None, sa_session_id: str) -> str:
        """``unknown``, ``missing``, ``failed``, ``pending`` or ``ready``."""
        if call is None:
            return "unknown"
        mark = self.marked(sa_session_id)
        phase = call.get("progressPhase")
        if mark == "missing":
            return "missing"
        if phase in FAILED_PHASES:
            return "failed"
        if mark == "pending" or phase not in READY_PHASES:
            return "pending"
        return "ready"

    def answer(
        self, call: dict[str, t.Any] | None, sa_session_id: str, fmt: str
    ) -> Response:
        """The API's answer for a session of the token's project."""
        state = self.state(call, sa_session_id)
        if call is None or state == "unknown":
            return error_response(
                404, f"Speech Analytics session {sa_session_id} not found"
            )
        if state == "missing":
            return error_response(
                404, f"Transcript of session {sa_session_id} not found"
            )
        if state == "failed":
            return error_response(
                404,
                f"No transcript for session {sa_session_id}: call "
                f"{call['callId']} ended in {call.get('progressPhase')}",
            )
        if state == "pending":
            return error_response(
                400,
                f"Transcription of session {sa_session_id} is still in progress",
            )
        sections = make_transcript(call)
        if fmt == "text":
            return Response(200, transcript_text(sections).encode("utf-8"), TEXT_TYPE)
        return Response(200, dump_json(sections))
