"""``transcripts`` records: a call's transcript as text, sections, words and figures.

The body of ``GET /sa/{saSessionId}/transcript?format=json`` is an array of
sections (docs/design.md). Transcripts are personal data: no word or value of
one reaches a message; a misfit is kept raw in ``_extra`` under its path.
"""

from __future__ import annotations

import typing as t

import msgspec
from singer_sdk import typing as th

from tap_voicegain.errors import BadValue
from tap_voicegain.records.schema import OPEN_OBJECT
from tap_voicegain.records.values import (
    check_depth,
    to_bool,
    to_float,
    to_int,
    to_str,
    warehouse_safe,
)

if t.TYPE_CHECKING:
    from tap_voicegain.records.values import Converter

SECTION_KEYS = frozenset({"start", "duration", "spk", "words"})
WORD_FIELDS: tuple[tuple[str, Converter], ...] = (
    ("utterance", to_str),
    ("start", to_int),
    ("duration", to_float),
    ("confidence", to_float),
    ("spk", to_int),
    ("dtmf", to_bool),
)
WORD_KEYS = frozenset({name for name, _ in WORD_FIELDS} | {"alternatives"})
SECONDS_PER_HOUR = 3600


def transcripts_schema() -> dict[str, t.Any]:
    """Return the JSON schema of the ``transcripts`` stream."""
    section = th.ObjectType(
        th.Property("start", th.IntegerType, description="Milliseconds into the call."),
        th.Property("duration", th.NumberType, description="Milliseconds."),
        th.Property("spk", th.IntegerType, description="Speaker index; 0 unassigned."),
        th.Property("text", th.StringType, description="The section's words."),
    )
    alternative = th.ObjectType(
        th.Property("utterance", th.StringType),
        th.Property("confidence", th.NumberType),
    )
    word = th.ObjectType(
        th.Property("section", th.IntegerType, description="Index in sections."),
        th.Property("utterance", th.StringType),
        th.Property("start", th.IntegerType, description="Milliseconds."),
        th.Property("duration", th.NumberType, description="Milliseconds."),
        th.Property("confidence", th.NumberType, description="0..1."),
        th.Property("spk", th.IntegerType),
        th.Property("dtmf", th.BooleanType, description="A key press, not speech."),
        th.Property("alternatives", th.ArrayType(alternative)),
    )
    speaker = th.ObjectType(
        th.Property("spk", th.IntegerType, description="Speaker index; 0 unassigned."),
        th.Property("sections", th.IntegerType, description="Sections spoken."),
        th.Property("words", th.IntegerType, description="Words spoken."),
        th.Property(
            "talkMs", th.NumberType, description="Sum of the sections' durations."
        ),
    )
    return th.PropertiesList(
        th.Property("callId", th.IntegerType, required=True, description="The call."),
        th.Property("contextId", th.StringType, description="Voicegain project id."),
        th.Property("project", th.StringType, description="Configured project name."),
        th.Property("saSessionId", th.StringType),
        th.Property("startTime", th.DateTimeType, description="Call start, UTC."),
        th.Property(
            "text",
            th.StringType,
            description="The conversation, one '[mm:ss] Speaker N: words' line "
            "per section.",
        ),
        th.Property("sections", th.ArrayType(section)),
        th.Property(
            "words",
            th.ArrayType(word),
            description="Every word with timing and confidence; only with the "
            "transcript_words setting, else null.",
        ),
        th.Property("sectionCount", th.IntegerType),
        th.Property("wordCount", th.IntegerType, description="Words, DTMF included."),
        th.Property("speakers", th.ArrayType(speaker), description="Per speaker."),
        th.Property(
            "_extra",
            OPEN_OBJECT,
            description="Values that did not fit their column, raw, by path.",
        ),
    ).to_dict()


def clock(ms: int | None) -> str:
    """``mm:ss`` (``h:mm:ss`` past an hour) of a time in milliseconds."""
    if ms is None or ms < 0:
        return "--:--"
    seconds = ms // 1000
    hours, rest = divmod(seconds, SECONDS_PER_HOUR)
    minutes, seconds = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{seconds:02d}"
    return f"{minutes:02d}:{seconds:02d}"


class TranscriptReader:
    """Builds one record from a transcript body; collects what did not fit."""

    def __init__(self, *, with_words: bool, keep_unknown: bool = True) -> None:
        """Read a run's transcripts; ``with_words``: fill ``words`` (large)."""
        self.with_words = with_words
        self.keep_unknown = keep_unknown
        self.unknown_keys: set[str] = set()  # names only, for one warning a run

    def read(self, content: bytes) -> tuple[dict[str, t.Any], list[str]]:
        """The transcript columns and the paths of values kept raw in ``_extra``.

        Raises:
            ValueError: not an array of sections (naming the shape, never a value).
        """
        try:
            body = msgspec.json.decode(content)
        except msgspec.DecodeError:
            # msgspec's message may quote the body: personal data.
            msg = f"JSON that does not parse ({len(content)} bytes)"
            raise ValueError(msg) from None
        except RecursionError:
            msg = f"JSON nested too deep to read ({len(content)} bytes)"
            raise ValueError(msg) from None
        if not isinstance(body, list):
            msg = f"a JSON {type(body).__name__} instead of an array of sections"
            raise ValueError(msg)  # noqa: TRY004 - reported as a bad answer
        return self.record(body)

    def record(self, body: list[t.Any]) -> tuple[dict[str, t.Any], list[str]]:
        """The transcript columns of a record, and the paths of misfit values."""
        extra: dict[str, t.Any] = {}
        sections: list[dict[str, t.Any]] = []
        words: list[dict[str, t.Any]] = []
        lines: list[str] = []
        speakers: dict[int | None, dict[str, t.Any]] = {}
        word_count = 0
        for index, raw in enumerate(body):
            where = f"sections[{index}]"
            if not isinstance(raw, dict):
                extra[where] = raw
                continue
            section, spoken = self._section(raw, index, where, extra, words)
            sections.append(section)
            word_count += spoken
            speaker = "?" if section["spk"] is None else section["spk"]
            lines.append(
                f"[{clock(section['start'])}] Speaker {speaker}: {section['text']}"
            )
            figures = speakers.setdefault(
                section["spk"],
                {"spk": section["spk"], "sections": 0, "words": 0, "talkMs": 0.0},
            )
            figures["sections"] += 1
            figures["words"] += spoken
            figures["talkMs"] += section["duration"] or 0.0
        columns = {
            "text": "\n".join(lines),
            "sections": sections,
            "words": words if self.with_words else None,
            "sectionCount": len(sections),
            "wordCount": word_count,
            "speakers": [
                {**figures, "talkMs": round(figures["talkMs"], 1)}
                for figures in sorted(
                    speakers.values(),
                    key=lambda s: -1 if s["spk"] is None else s["spk"],
                )
            ],
            "_extra": extra or None,
        }
        check_depth(extra)
        return columns, sorted(extra)

    def _section(
        self,
        raw: dict[str, t.Any],
        index: int,
        where: str,
        extra: dict[str, t.Any],
        words: list[dict[str, t.Any]],
    ) -> tuple[dict[str, t.Any], int]:
        section = {
            "start": _fit(raw.get("start"), to_int, f"{where}.start", extra),
            "duration": _fit(raw.get("duration"), to_float, f"{where}.duration", extra),
            "spk": _fit(raw.get("spk"), to_int, f"{where}.spk", extra),
            "text": "",
        }
        self._unknown(raw, SECTION_KEYS, where, "section", extra)
        items = raw.get("words")
        if items is None:
            items = []
        elif not isinstance(items, list):
            extra[f"{where}.words"] = items
            items = []
        said: list[str] = []
        for number, item in enumerate(items):
            path = f"{where}.words[{number}]"
            if not isinstance(item, dict):
                extra[path] = item
                continue
            utterance = _fit(item.get("utterance"), to_str, f"{path}.utterance", extra)
            if utterance:
                # One line per section: new lines inside a word would break it.
                said.append(" ".join(utterance.split()))
            if self.with_words:
                words.append(self._word(item, index, utterance, path, extra))
        section["text"] = " ".join(word for word in said if word)
        return section, len(said)

    def _word(
        self,
        item: dict[str, t.Any],
        index: int,
        utterance: str | None,
        path: str,
        extra: dict[str, t.Any],
    ) -> dict[str, t.Any]:
        word: dict[str, t.Any] = {"section": index, "utterance": utterance}
        for name, conv in WORD_FIELDS[1:]:
            word[name] = _fit(item.get(name), conv, f"{path}.{name}", extra)
        word["alternatives"] = _alternatives(item.get("alternatives"), path, extra)
        self._unknown(item, WORD_KEYS, path, "word", extra)
        return word

    def _unknown(
        self,
        raw: dict[str, t.Any],
        known: frozenset[str],
        where: str,
        kind: str,
        extra: dict[str, t.Any],
    ) -> None:
        for key in raw.keys() - known:
            self.unknown_keys.add(f"{kind}.{key}")
            if self.keep_unknown:
                extra[f"{where}.{key}"] = raw[key]


def _fit(value: t.Any, conv: Converter, path: str, extra: dict[str, t.Any]) -> t.Any:  # noqa: ANN401
    """``value`` converted; on a misfit None, and the raw value kept at ``path``."""
    try:
        return conv(value)
    except BadValue:
        extra[path] = warehouse_safe(value)
        return None


def _alternatives(
    value: t.Any,  # noqa: ANN401 - any JSON
    path: str,
    extra: dict[str, t.Any],
) -> list[dict[str, t.Any]]:
    if value is None:
        return []
    if not isinstance(value, list):
        extra[f"{path}.alternatives"] = value
        return []
    out = []
    for number, item in enumerate(value):
        where = f"{path}.alternatives[{number}]"
        if not isinstance(item, dict):
            extra[where] = item
            continue
        out.append(
            {
                "utterance": _fit(
                    item.get("utterance"), to_str, f"{where}.utterance", extra
                ),
                "confidence": _fit(
                    item.get("confidence"), to_float, f"{where}.confidence", extra
                ),
            }
        )
    return out
