"""The per-record fast path: what the SDK does per record, done with less work.

The SDK's own path builds a message object per record, walks the selection
mask, conforms types the records already have, and updates the bookmark
through a general state manager. For a stream that writes every column
unmapped, that is about a quarter of the tap's CPU. This module does the same
two things directly, and only where it is known to write exactly what the SDK
writes:

- on SDK versions the golden test (``tests/test_fastpath.py``) covers, and
- when no stream map, flattening or deselection applies.

Otherwise the SDK's own path runs. README "Departures" lists these hooks.
"""

from __future__ import annotations

import typing as t
from importlib import metadata

from singer_sdk.mapper import SameRecordTransform

from tap_voicegain.output import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams import Stream

# SDK releases whose RECORD and STATE messages the golden test compares.
COVERED_SDK_SERIES = ("0.54.",)


def sdk_covered(version: str | None = None) -> bool:
    """Whether the installed singer-sdk is one the golden test covers."""
    if version is None:
        try:
            version = metadata.version("singer-sdk")
        except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
            return False
    return version.startswith(COVERED_SDK_SERIES)


class FastRecords:
    """Writes a stream's records and moves its bookmark without the SDK's detours."""

    def __init__(self, stream: Stream) -> None:
        """Decide once, at the first record, whether the fast path applies."""
        self._stream = stream
        self._enabled: bool | None = None
        self._state: dict[str, t.Any] | None = None
        self._state_context: Context | None = None

    @property
    def enabled(self) -> bool:
        """True when the fast path writes what the SDK's path would."""
        if self._enabled is None:
            self._enabled = self._applies()
        return self._enabled

    def disable(self) -> None:
        """Use the SDK's own path from now on (the golden test's reference run)."""
        self._enabled = False

    def _applies(self) -> bool:
        stream = self._stream
        maps = stream.stream_maps
        return (
            sdk_covered()
            and isinstance(stream._tap.message_writer, BufferedMsgSpecWriter)  # noqa: SLF001
            and all(stream.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == stream.name
            and not maps[0].flattening_enabled
        )

    def write(self, record: dict[str, t.Any]) -> bool:
        """Write ``record`` as a RECORD message; False if the SDK must do it."""
        if not self.enabled:
            return False
        stream = self._stream
        writer = t.cast("BufferedMsgSpecWriter", stream._tap.message_writer)  # noqa: SLF001
        writer.write_record(stream.name, record, stream._stream_version)  # noqa: SLF001
        stream.state_manager.is_flushed = False
        return True

    def bookmark(self, record: dict[str, t.Any], context: Context | None) -> bool:
        """Set the partition's bookmark to ``record``; False if the SDK must do it.

        The records of a pass arrive checked in ascending key order (``pages``),
        so the SDK's sort check and comparison add nothing but work.
        """
        if not self.enabled:
            return False
        stream = self._stream
        if self._state is None or self._state_context is not context:
            self._state = stream.get_context_state(context)
            self._state_context = context
        key = t.cast("str", stream.replication_key)
        self._state["replication_key"] = key
        self._state["replication_key_value"] = record[key]
        return True
