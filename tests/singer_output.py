"""Run the tap in-process and read back the Singer messages it wrote."""

from __future__ import annotations

import contextlib
import dataclasses
import io
import json
import typing as t

from tap_voicegain.tap import TapVoicegain


@dataclasses.dataclass
class TapRun:
    """Messages of one tap run, in the order written."""

    messages: list[dict[str, t.Any]]
    error: BaseException | None = None
    raw: bytes = b""

    @property
    def records(self) -> list[dict[str, t.Any]]:
        return [m["record"] for m in self.messages if m["type"] == "RECORD"]

    @property
    def call_ids(self) -> list[int]:
        return [r["callId"] for r in self.records]

    @property
    def states(self) -> list[dict[str, t.Any]]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"]

    @property
    def last_state(self) -> dict[str, t.Any]:
        return self.states[-1]


def bookmark(state: dict[str, t.Any], project: str = "default") -> int | None:
    """The callId bookmark of ``project`` in a STATE value."""
    for partition in state.get("bookmarks", {}).get("calls", {}).get("partitions", []):
        if partition["context"].get("project") == project:
            return t.cast("int | None", partition.get("replication_key_value"))
    return None


def state_with_bookmark(mark: t.Any, project: str = "default") -> dict[str, t.Any]:
    """A STATE value holding ``mark`` as the callId bookmark of ``project``."""
    partition = {
        "context": {"project": project},
        "replication_key": "callId",
        "replication_key_value": mark,
    }
    return {"bookmarks": {"calls": {"partitions": [partition]}}}


def run_tap(
    config: dict[str, t.Any],
    state: dict[str, t.Any] | None = None,
    *,
    catalog: dict[str, t.Any] | None = None,
    expect_error: bool = False,
) -> TapRun:
    """Sync all streams in-process; capture stdout bytes and parse them."""
    buffer = io.BytesIO()
    out = io.TextIOWrapper(buffer, encoding="utf-8", write_through=True)
    error: BaseException | None = None
    with contextlib.redirect_stdout(out):
        try:
            tap = TapVoicegain(
                config=config,
                state=state or {},
                catalog=catalog,
                setup_mapper=True,
            )
            tap.sync_all()
        except Exception as exc:
            if not expect_error:
                raise
            error = exc
    out.flush()
    raw = buffer.getvalue()
    messages = [json.loads(line) for line in raw.decode("utf-8").splitlines() if line]
    if expect_error and error is None:
        msg = "the tap run was expected to fail but succeeded"
        raise AssertionError(msg)
    return TapRun(messages=messages, error=error, raw=raw)
