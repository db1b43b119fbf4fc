"""The buffered Singer writer: order and completeness of what reaches stdout."""

from __future__ import annotations

import io
import json
import os
import signal
import sys

import pytest
from singer_sdk.singerlib import StateMessage

from tap_voicegain.sdk.output import BufferedMsgSpecWriter


class SignalOnWrite(io.BytesIO):
    """A stdout buffer that receives SIGTERM in the middle of the first write."""

    def __init__(self) -> None:
        super().__init__()
        self.signalled = False

    def write(self, data) -> int:  # type: ignore[override]
        written = super().write(bytes(data))
        if not self.signalled:
            self.signalled = True
            os.kill(os.getpid(), signal.SIGTERM)
        return written


class FakeStdout:
    def __init__(self, buffer: io.BytesIO) -> None:
        self.buffer = buffer


def test_a_stop_signal_during_a_flush_neither_repeats_records_nor_jumps_ahead(
    monkeypatch,
):
    buffer = SignalOnWrite()
    monkeypatch.setattr(sys, "stdout", FakeStdout(buffer))
    writer = BufferedMsgSpecWriter()

    def on_term(signum, frame):  # what the tap's handler does: the STATE, when safe
        writer.when_idle(
            lambda: writer.write_message(StateMessage(value={"bookmark": 3}))
        )

    previous = signal.signal(signal.SIGTERM, on_term)
    try:
        for call_id in (1, 2, 3):
            writer.write_record("calls", {"callId": call_id}, None)
        writer.write_message(StateMessage(value={"bookmark": 3}))
    finally:
        signal.signal(signal.SIGTERM, previous)
    lines = [json.loads(line) for line in buffer.getvalue().splitlines()]
    kinds = [m["type"] for m in lines]
    assert buffer.signalled
    assert kinds == ["RECORD", "RECORD", "RECORD", "STATE", "STATE"]
    assert [m["record"]["callId"] for m in lines if m["type"] == "RECORD"] == [1, 2, 3]


@pytest.mark.parametrize("count", [1, 5000])
def test_records_are_all_written_by_flush_in_order(monkeypatch, count):
    buffer = io.BytesIO()
    monkeypatch.setattr(sys, "stdout", FakeStdout(buffer))
    writer = BufferedMsgSpecWriter()
    for call_id in range(count):
        writer.write_record("calls", {"callId": call_id, "notes": "x" * 300}, None)
    writer.flush()
    ids = [
        json.loads(line)["record"]["callId"] for line in buffer.getvalue().splitlines()
    ]
    assert ids == list(range(count))
