"""The Singer state: the shapes the tap reads, and each partition's bookkeeping.

Reading is forward-compatible: what this version does not know is carried
through; only a value the tap uses and cannot read is refused (docs/design.md).
:class:`Partition` is the one place that moves a bookmark.
"""

from __future__ import annotations

import datetime as dt
import decimal
import json
import logging
import math
import typing as t

from tap_voicegain.errors import StateError

REPLICATION_KEY = "callId"
CALL_ID_MAX = 2**63 - 1
# Calls stepped over while still processing, or whose own request failed: asked
# for again by later runs (README "Stuck calls"). Old versions read this list.
STUCK_KEY = "stuck_call_ids"
STUCK_DETAILS_KEY = "stuck_calls"  # callId -> {since, attempts, last}
GIVEN_UP_KEY = "given_up_call_ids"
GIVEN_UP_KEPT = 1_000  # the most recent ones
EXAMPLE = (
    '{"bookmarks": {"calls": {"partitions": [{"context": {"project": "default"}, '
    '"replication_key": "callId", "replication_key_value": 123}]}}}'
)
_SHOWN_MAX = 200  # characters of a bad value quoted in a message

Notes = list[tuple[int, str]]


def _shown(value: t.Any) -> str:  # noqa: ANN401
    try:
        text = json.dumps(value, default=str)
    except (ValueError, RecursionError):
        text = repr(value)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "..."


def _kind(value: t.Any) -> str:  # noqa: ANN401
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def parse_state_text(text: str, source: str) -> dict[str, t.Any]:
    """The state in a ``--state`` file: a JSON object, else a StateError."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        msg = (
            f"The state file {source} is not JSON ({exc}); expected an object "
            f"like {EXAMPLE}"
        )
        raise StateError(msg) from None
    return check_object(value, f"The state file {source}")


def check_object(value: t.Any, what: str = "The state") -> dict[str, t.Any]:  # noqa: ANN401
    """``value`` if it is a JSON object; else a StateError naming what it is."""
    if not isinstance(value, dict):
        msg = (
            f"{what} is {_kind(value)} ({_shown(value)}), not an object: the tap "
            f"cannot tell where to resume. Expected {EXAMPLE}, or {{}} to start at "
            "start_after_call_id. (Remove the state to start over on purpose.)"
        )
        raise StateError(msg)
    return value


def call_id_value(value: t.Any, what: str) -> int:  # noqa: ANN401
    """A callId held in the state (integer, digits, integral float), else StateError."""
    number: int | None = None
    if type(value) is int:
        number = value
    elif isinstance(value, (float, decimal.Decimal)) and math.isfinite(value):
        # A target that wrote numbers as floats (the SDK reads them as Decimal).
        number = int(value) if value == int(value) else None
    elif isinstance(value, str) and value.isascii() and value.isdigit():
        number = int(value)
    if number is None or not 0 <= number <= CALL_ID_MAX:
        shown = (
            repr(value)
            if isinstance(value, (str, int, float))
            else str(value)
            if isinstance(value, decimal.Decimal)
            else _shown(value)
        )
        msg = (
            f"{what} is {shown[:_SHOWN_MAX]}; expected a callId (an integer in "
            f"0..{CALL_ID_MAX}). Fix or remove that state entry."
        )
        raise StateError(msg)
    return number


def normalize(
    state: dict[str, t.Any], projects: list[str], streams: t.Iterable[str]
) -> tuple[dict[str, t.Any], Notes]:
    """The state in the SDK's shape, and notes for the log (else StateError).

    Also read: Meltano's ``{"singer_state": ...}``, a stream-level bookmark with
    one project, a bookmark without its ``replication_key``.
    """
    notes: Notes = []
    if "singer_state" in state:
        if "bookmarks" in state:
            msg = "The state has both 'singer_state' and 'bookmarks'; keep one."
            raise StateError(msg)
        state = check_object(state["singer_state"], "The state's 'singer_state'")
        note = "The state is Meltano's {'singer_state': ...}; read inside."
        notes.append((logging.INFO, note))
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = (
            f"The state's 'bookmarks' is {_kind(bookmarks)}, not an object of streams."
        )
        raise StateError(msg)
    ours = list(streams)
    others = sorted(set(bookmarks) - set(ours))
    if others:
        # A typo ("call") or another tap's state: named loudly when no stream of
        # this tap has a bookmark, since the run then starts from the beginning.
        level = logging.INFO if set(bookmarks) & set(ours) else logging.WARNING
        note = (
            f"The state has bookmarks for stream(s) {', '.join(others)}, which "
            "this version of the tap does not have: kept as they are."
        )
        if level == logging.WARNING:
            note += " No stream of this tap has a bookmark: it starts after "
            note += "start_after_call_id."
        notes.append((level, note))
    new_bookmarks = dict(bookmarks)
    for name in ours:
        if name in bookmarks:
            new_bookmarks[name] = _stream_state(name, bookmarks[name], projects, notes)
    return {**state, "bookmarks": new_bookmarks}, notes


def _stream_state(
    name: str,
    given: t.Any,  # noqa: ANN401 - any JSON value
    projects: list[str],
    notes: Notes,
) -> dict[str, t.Any]:
    if not isinstance(given, dict):
        msg = f"The state of stream '{name}' is {_kind(given)}, not an object."
        raise StateError(msg)
    stream: dict[str, t.Any] = dict(given)
    partitions = _partitions(stream.get("partitions", []), name, notes)
    if "replication_key_value" in stream:
        _check_replication_key(stream, f"The stream-level bookmark of '{name}'", notes)
        note = _adopt_stream_bookmark(name, stream, partitions, projects)
        notes.append((logging.INFO, note))
    stream["partitions"] = partitions
    if all(p.get("replication_key_value") is None for p in partitions):
        note = (
            f"The state of '{name}' holds no bookmark: it starts after "
            "start_after_call_id, and an append-only target gets those calls "
            "again. Remove the entry if that is meant."
        )
        notes.append((logging.WARNING, note))
    missing = [p for p in projects if _bookmark_of(partitions, p) is None]
    strangers = [
        str(p["context"]["project"])
        for p in partitions
        if p["context"]["project"] not in projects
    ]
    if missing and strangers:
        note = (
            f"The state of '{name}' has bookmarks for project(s) "
            f"{', '.join(strangers)}, which are not configured; project(s) "
            f"{', '.join(missing)} have none and start after start_after_call_id. "
            "Renamed a project? Rename it in the state too."
        )
        notes.append((logging.WARNING, note))
    return stream


def _partitions(value: t.Any, name: str, notes: Notes) -> list[dict[str, t.Any]]:  # noqa: ANN401
    if not isinstance(value, list):
        msg = f"The state's 'partitions' of stream '{name}' is {_kind(value)}, "
        msg += "not a list."
        raise StateError(msg)
    seen: set[str] = set()
    out = []
    for given in value:
        context = given.get("context") if isinstance(given, dict) else None
        if not isinstance(context, dict):
            msg = (
                f"A partition in the state is {_shown(given)} (stream '{name}'); "
                'each must be {"context": {"project": name}, "replication_key_value": '
                "callId}."
            )
            raise StateError(msg)
        if set(context) != {"project"} or not isinstance(context["project"], str):
            msg = (
                f"The state's partition context {_shown(context)} of '{name}' is not "
                '{"project": name}: this tap keeps one bookmark per project and '
                "cannot tell which project it is. Remove the other keys."
            )
            raise StateError(msg)
        project = context["project"]
        if project in seen:
            msg = f"The state of '{name}' has two partitions for project '{project}'; "
            raise StateError(msg + "keep one.")
        seen.add(project)
        partition = dict(given)
        what = f"The state's bookmark for project '{project}' (stream '{name}')"
        if "replication_key_value" in partition:
            _check_replication_key(partition, what, notes)
        if STUCK_KEY in partition:
            partition[STUCK_KEY] = _call_ids(partition[STUCK_KEY], STUCK_KEY, project)
        out.append(partition)
    return out


def _check_replication_key(entry: dict[str, t.Any], what: str, notes: Notes) -> None:
    key = entry.get("replication_key")
    if key is None:
        notes.append((logging.INFO, f"{what} has no replication_key: read as callId."))
        entry["replication_key"] = REPLICATION_KEY
    elif key != REPLICATION_KEY:
        msg = f"{what} in the state is for replication key {key!r}; "
        raise StateError(msg + "this tap's is 'callId'.")
    if entry.get("replication_key_value") is not None:
        entry["replication_key_value"] = call_id_value(
            entry["replication_key_value"], what
        )


def _bookmark_of(partitions: list[dict[str, t.Any]], project: str) -> t.Any:  # noqa: ANN401
    for partition in partitions:
        if partition["context"]["project"] == project:
            return partition.get("replication_key_value")
    return None


def _adopt_stream_bookmark(
    name: str,
    stream: dict[str, t.Any],
    partitions: list[dict[str, t.Any]],
    projects: list[str],
) -> str:
    """Move a stream-level bookmark into the one project's partition."""
    value = stream.pop("replication_key_value")
    stream.pop("replication_key", None)
    if len(projects) != 1:
        msg = (
            f"The state of '{name}' has a stream-level bookmark ({value!r}) but "
            f"{len(projects)} projects are configured: the tap cannot tell whose it "
            'is. Put it in the project\'s partition: {"context": {"project": name}, '
            "...}."
        )
        raise StateError(msg)
    project = projects[0]
    held = _bookmark_of(partitions, project)
    if held not in {None, value}:
        msg = (
            f"The state of '{name}' has a stream-level bookmark ({value!r}) and "
            f"another for project '{project}' ({held!r}); keep one."
        )
        raise StateError(msg)
    if held is None:
        partition = next(
            (p for p in partitions if p["context"]["project"] == project), None
        )
        if partition is None:
            partition = {"context": {"project": project}}
            partitions.append(partition)
        partition["replication_key"] = REPLICATION_KEY
        partition["replication_key_value"] = value
    return (
        f"The state's stream-level bookmark {value!r} of '{name}' is read as "
        f"project '{project}''s."
    )


def _call_ids(value: t.Any, key: str, project: str) -> list[int]:  # noqa: ANN401
    if not isinstance(value, list):
        msg = (
            f"The state's '{key}' of project '{project}' is {_shown(value)}; "
            "expected a list of callIds (integers >= 0)."
        )
        raise StateError(msg)
    what = f"An entry of the state's '{key}' of project '{project}'"
    return sorted({call_id_value(item, what) for item in value})


def now_text() -> str:
    """The time now, as the state keeps times (RFC 3339, UTC, seconds)."""
    return dt.datetime.now(dt.timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


class Partition:
    """One project's state in one stream: its bookmark and remembered calls.

    The one place that changes them; it marks the state changed, and the
    stream's walk writes the STATE (``streams/walk.py``).
    """

    def __init__(self, state: dict[str, t.Any], project: str, start_after: int) -> None:
        """Wrap the SDK's partition state dict of ``project``."""
        self.state = state
        self.project = project
        value = state.get("replication_key_value")
        what = f"The bookmark of project '{project}'"
        self.start = start_after if value in {None, ""} else call_id_value(value, what)
        self.changed = False

    @property
    def bookmark(self) -> int:
        """The callId every call up to which is emitted or remembered."""
        value = self.state.get("replication_key_value")
        return self.start if value is None else int(value)

    def advance(self, call_id: int) -> None:
        """Move the bookmark to ``call_id`` (never back)."""
        if call_id > self.bookmark or "replication_key_value" not in self.state:
            self.state["replication_key"] = REPLICATION_KEY
            self.state["replication_key_value"] = call_id
            self.changed = True

    def remembered(self) -> list[int]:
        """The remembered calls, in callId order."""
        return list(self.state.get(STUCK_KEY) or [])

    def details(self, call_id: int) -> dict[str, t.Any]:
        """When ``call_id`` was first remembered, how often asked, last answer."""
        found = (self.state.get(STUCK_DETAILS_KEY) or {}).get(str(call_id))
        return found if isinstance(found, dict) else {}

    def remember(self, call_id: int, why: str) -> None:
        """Remember ``call_id`` (stepped over, or its request failed)."""
        ids = set(self.remembered())
        if call_id not in ids:
            self.state[STUCK_KEY] = sorted({*ids, call_id})
            self._set_details(
                call_id, {"since": now_text(), "attempts": 0, "last": why}
            )

    def attempt(self, call_id: int, why: str) -> dict[str, t.Any]:
        """Count a run's attempt at a remembered call that is still not done."""
        details = {"since": now_text(), "attempts": 0, **self.details(call_id)}
        details["attempts"] = int(details.get("attempts") or 0) + 1
        details["last"] = why
        self._set_details(call_id, details)
        return details

    def forget(self, call_id: int, *, given_up: bool = False) -> None:
        """Forget a remembered call: emitted, finished, or given up."""
        left = [c for c in self.remembered() if c != call_id]
        if left:
            self.state[STUCK_KEY] = left
        else:
            self.state.pop(STUCK_KEY, None)
        details = dict(self.state.get(STUCK_DETAILS_KEY) or {})
        details.pop(str(call_id), None)
        if details:
            self.state[STUCK_DETAILS_KEY] = details
        else:
            self.state.pop(STUCK_DETAILS_KEY, None)
        if given_up:
            kept = [*(self.state.get(GIVEN_UP_KEY) or []), call_id]
            self.state[GIVEN_UP_KEY] = kept[-GIVEN_UP_KEPT:]
        self.changed = True

    def _set_details(self, call_id: int, details: dict[str, t.Any]) -> None:
        self.state[STUCK_DETAILS_KEY] = {
            **(self.state.get(STUCK_DETAILS_KEY) or {}),
            str(call_id): details,
        }
        self.changed = True
