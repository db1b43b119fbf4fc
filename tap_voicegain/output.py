"""Singer output: msgspec encoding, one flush per STATE instead of per record."""

from __future__ import annotations

import sys
import typing as t

from singer_sdk.contrib.msgspec import MsgSpecWriter
from singer_sdk.singerlib import SingerMessageType
from typing_extensions import override

if t.TYPE_CHECKING:
    from singer_sdk.singerlib.encoding.simple import Message


class BufferedMsgSpecWriter(MsgSpecWriter):
    """The SDK's msgspec writer, without a flush (a system call) per record.

    Records go through stdout's buffer; every other message (STATE above all)
    flushes it, so a STATE never reaches the target before the records it covers
    and a killed tap has never announced records it did not write.
    """

    @override
    def write_message(self, message: Message) -> None:
        out = sys.stdout.buffer
        out.write(self.format_message(message))
        if message.type != SingerMessageType.RECORD:
            out.flush()
