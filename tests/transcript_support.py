"""Helpers of the transcripts tests: catalogs, expected text, bookmarks."""

from __future__ import annotations

import typing as t

from tap_voicegain.tap import TapVoicegain
from tests.helpers import FAST_RETRIES
from voicegain_sim import make_transcript

FAST = FAST_RETRIES


def catalog(config: dict[str, t.Any], *streams: str) -> dict[str, t.Any]:
    """The tap's discovered catalog with exactly ``streams`` selected."""
    found = TapVoicegain(config=config, validate_config=False).catalog_dict
    for entry in found["streams"]:
        for metadata in entry["metadata"]:
            if metadata["breadcrumb"] == []:
                metadata["metadata"]["selected"] = entry["tap_stream_id"] in streams
    return found


def bookmark_of(
    state: dict[str, t.Any], stream: str = "transcripts", project: str = "default"
) -> int | None:
    """The callId bookmark of ``stream`` and ``project`` in a STATE value."""
    for partition in state.get("bookmarks", {}).get(stream, {}).get("partitions", []):
        if partition["context"].get("project") == project:
            return t.cast("int | None", partition.get("replication_key_value"))
    return None


def with_transcript(calls: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """The calls that get a transcript request: DONE, with a saSessionId."""
    return [
        c for c in calls if c.get("progressPhase") == "DONE" and c.get("saSessionId")
    ]


def expected_text(call: dict[str, t.Any]) -> str:
    """The ``text`` column, built independently from the simulator's words."""
    lines = []
    for section in make_transcript(call):
        seconds = section["start"] // 1000
        stamp = f"{seconds // 60:02d}:{seconds % 60:02d}"
        said = " ".join(word["utterance"] for word in section["words"])
        lines.append(f"[{stamp}] Speaker {section['spk']}: {said}")
    return "\n".join(lines)


def transcript_records(messages: list[dict[str, t.Any]]) -> list[dict[str, t.Any]]:
    """Records of the transcripts stream."""
    return [
        m["record"]
        for m in messages
        if m["type"] == "RECORD" and m["stream"] == "transcripts"
    ]


def session_of(request_path: str) -> str:
    """The saSessionId of a ``/v1/sa/{id}/transcript`` request path."""
    return request_path.rstrip("/").split("/")[-2]
