"""Singer output: msgspec encoding, one flush per STATE instead of per record."""

from __future__ import annotations

import datetime as dt
import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter, serialize_jsonl
from singer_sdk.singerlib import SingerMessageType
from typing_extensions import override

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from singer_sdk.singerlib.encoding.simple import Message


FLUSH_BYTES = 1 << 20  # records are written out in chunks of about 1 MiB


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, without a write and flush per record.

    Records collect in a buffer; every other message (STATE above all) flushes
    it first, so a STATE never reaches the target before its records.
    """

    def __init__(self) -> None:
        """Start with an empty buffer."""
        super().__init__()
        self._pending = bytearray()
        self._flushing = False
        self._after_flush: Callable[[], None] | None = None

    @override
    def write_message(self, message: Message) -> None:
        # extend() copies: the SDK's serialiser reuses one output buffer.
        self._pending.extend(self.format_message(message))
        if message.type != SingerMessageType.RECORD or len(self._pending) > FLUSH_BYTES:
            self.flush()

    def write_record(
        self,
        stream: str,
        record: dict[str, t.Any],
        version: int | None,
        extracted_at: dt.datetime | None = None,
    ) -> None:
        """Write a RECORD message without building a message object."""
        message: dict[str, t.Any] = {
            "type": "RECORD",
            "stream": stream,
            "record": record,
        }
        if version is not None:
            message["version"] = version
        message["time_extracted"] = extracted_at or dt.datetime.now(dt.timezone.utc)
        self._pending.extend(serialize_jsonl(message))
        if len(self._pending) > FLUSH_BYTES:
            self.flush()

    def flush(self) -> None:
        """Write out what is buffered (also at the end: a STATE may not follow)."""
        self._flushing = True
        try:
            out = sys.stdout.buffer
            out.write(self._pending)
            out.flush()
            self._pending.clear()
        finally:
            self._flushing = False
        then, self._after_flush = self._after_flush, None
        if then is not None:
            then()

    def when_idle(self, action: Callable[[], None]) -> None:
        """Run ``action`` now, or as soon as the write under way has ended.

        For signal handlers, which must not write into the middle of a write.
        """
        if self._flushing:
            self._after_flush = action
        else:
            action()
