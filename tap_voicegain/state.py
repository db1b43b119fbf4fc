"""The Singer state this tap reads: the shapes it accepts and what it keeps there.

A state the tap cannot read with certainty is refused before any request, with
a message naming the problem: starting again at callId 0 silently would send
every call twice to an appending target (README "State shapes accepted").
"""

from __future__ import annotations

import json
import logging
import typing as t

STREAMS = ("calls", "transcripts")  # each keeps a callId bookmark per project
REPLICATION_KEY = "callId"
# Calls stepped over while still processing, per partition, next to the
# bookmark: emitted by a later run once they finish (README "Stuck calls").
STUCK_KEY = "stuck_call_ids"
# Keys the SDK itself may leave at the stream level.
_SDK_STREAM_KEYS = frozenset(
    {
        "partitions",
        "replication_key",
        "replication_key_value",
        "progress_markers",
        "replication_key_signpost",
        "starting_replication_value",
    }
)
EXAMPLE = (
    '{"bookmarks": {"calls": {"partitions": [{"context": {"project": "default"}, '
    '"replication_key": "callId", "replication_key_value": 123}]}}}'
)
_SHOWN_MAX = 200  # characters of a bad value quoted in a message


class StateError(ValueError):
    """The state given to the tap cannot be read without guessing."""


def _shown(value: t.Any) -> str:  # noqa: ANN401
    text = json.dumps(value, default=str)
    return text if len(text) <= _SHOWN_MAX else text[:_SHOWN_MAX] + "..."


def _kind(value: t.Any) -> str:  # noqa: ANN401
    if value is None:
        return "null"
    return {dict: "an object", list: "a list", str: "a string", bool: "a boolean"}.get(
        type(value), "a number"
    )


def parse_state_text(text: str, source: str) -> dict[str, t.Any]:
    """The state in a ``--state`` file: a JSON object, else a clear error.

    Args:
        text: The file's content.
        source: The file's name, for messages.

    Raises:
        StateError: The file is not JSON, or its JSON is not an object.
    """
    try:
        value = json.loads(text)
    except ValueError as exc:
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


def normalize(
    state: dict[str, t.Any], projects: list[str]
) -> tuple[dict[str, t.Any], list[tuple[int, str]]]:
    """The state in the SDK's shape, and notes for the log.

    Honoured: Meltano's ``{"singer_state": ...}`` wrapper (what ``meltano state
    get`` prints) and a stream-level bookmark when one project is configured.
    Refused: anything else the tap would have to guess about.

    Args:
        state: The state as given.
        projects: The configured project names (the partitions).

    Raises:
        StateError: The state cannot be read without guessing.
    """
    notes: list[tuple[int, str]] = []
    if "singer_state" in state:
        if "bookmarks" in state:
            msg = "The state has both 'singer_state' and 'bookmarks'; keep one."
            raise StateError(msg)
        state = check_object(state["singer_state"], "The state's 'singer_state'")
        notes.append(
            (logging.INFO, "The state is Meltano's {'singer_state': ...}; read inside.")
        )
    bookmarks = state.get("bookmarks", {})
    if not isinstance(bookmarks, dict):
        msg = (
            f"The state's 'bookmarks' is {_kind(bookmarks)}, not an object of streams."
        )
        raise StateError(msg)
    others = sorted(set(bookmarks) - set(STREAMS))
    if others:
        msg = (
            f"The state has bookmarks for stream(s) {', '.join(map(repr, others))}; "
            f"this tap's streams are {', '.join(map(repr, STREAMS))}. Is it another "
            "tap's state?"
        )
        raise StateError(msg)
    new_bookmarks = dict(bookmarks)
    for name in STREAMS:
        if name in bookmarks:
            new_bookmarks[name] = _stream_state(name, bookmarks[name], projects, notes)
    new_state = dict(state)
    new_state["bookmarks"] = new_bookmarks
    return new_state, notes


def _stream_state(
    name: str,
    stream: t.Any,  # noqa: ANN401 - any JSON value
    projects: list[str],
    notes: list[tuple[int, str]],
) -> dict[str, t.Any]:
    if not isinstance(stream, dict):
        msg = f"The state of stream '{name}' is {_kind(stream)}, not an object."
        raise StateError(msg)
    unknown = sorted(set(stream) - _SDK_STREAM_KEYS)
    if unknown:
        msg = (
            f"The state of stream '{name}' has key(s) "
            f"{', '.join(map(repr, unknown))}, which this tap does not know. "
            f"Expected {EXAMPLE}"
        )
        raise StateError(msg)
    partitions = _partitions(stream.get("partitions", []), name)
    _check_replication_key(stream, f"The stream-level bookmark of '{name}'")
    if "replication_key_value" in stream:
        notes.append(
            (logging.INFO, _adopt_stream_bookmark(stream, partitions, projects))
        )
    stream["partitions"] = partitions
    if all(p.get("replication_key_value") is None for p in partitions):
        text = (
            f"The state of '{name}' holds no bookmark: it starts after "
            "start_after_call_id, and an append-only target gets those calls "
            "again. Remove the entry if that is meant."
        )
        notes.append((logging.WARNING, text))
    missing = [p for p in projects if not _bookmark_of(partitions, p)]
    strangers = [
        str(p["context"]["project"])
        for p in partitions
        if p["context"]["project"] not in projects
    ]
    if missing and strangers:
        text = (
            f"The state of '{name}' has bookmarks for project(s) "
            f"{', '.join(strangers)}, which are not configured; project(s) "
            f"{', '.join(missing)} have none and start after start_after_call_id. "
            "Renamed a project? Rename it in the state too."
        )
        notes.append((logging.WARNING, text))
    return stream


def _partitions(value: t.Any, name: str) -> list[dict[str, t.Any]]:  # noqa: ANN401
    if not isinstance(value, list):
        msg = f"The state's 'partitions' of stream '{name}' is {_kind(value)}"
        msg += ", not a list."
        raise StateError(msg)
    seen: set[str] = set()
    for partition in value:
        context = partition.get("context") if isinstance(partition, dict) else None
        if not isinstance(context, dict):
            msg = (
                f"A partition in the state is {_shown(partition)}; each one must be "
                '{"context": {"project": name}, "replication_key_value": callId}.'
            )
            raise StateError(msg)
        if set(context) != {"project"} or not isinstance(context["project"], str):
            msg = (
                f"The state's partition context {_shown(context)} is not "
                '{"project": name}: this tap keeps one bookmark per project and '
                "cannot tell which project it is. Remove the other keys."
            )
            raise StateError(msg)
        project = context["project"]
        if project in seen:
            msg = f"The state has two partitions for project '{project}'; keep one."
            raise StateError(msg)
        seen.add(project)
        _check_replication_key(partition, f"The bookmark of project '{project}'")
        if STUCK_KEY in partition:
            partition[STUCK_KEY] = _stuck_ids(partition[STUCK_KEY], project)
    return value


def _check_replication_key(state: dict[str, t.Any], what: str) -> None:
    key = state.get("replication_key", REPLICATION_KEY)
    if key != REPLICATION_KEY:
        msg = f"{what} in the state is for replication key {key!r}"
        msg += "; this tap's is 'callId'."
        raise StateError(msg)


def _bookmark_of(partitions: list[dict[str, t.Any]], project: str) -> t.Any:  # noqa: ANN401
    for partition in partitions:
        if partition["context"]["project"] == project:
            return partition.get("replication_key_value")
    return None


def _adopt_stream_bookmark(
    stream: dict[str, t.Any], partitions: list[dict[str, t.Any]], projects: list[str]
) -> str:
    """Move a stream-level bookmark into the one project's partition."""
    value = stream.pop("replication_key_value")
    stream.pop("replication_key", None)
    if len(projects) != 1:
        msg = (
            f"The state has a stream-level bookmark ({value!r}) but {len(projects)} "
            "projects are configured: the tap cannot tell whose it is. Put it in the "
            'project\'s partition: {"context": {"project": name}, ...}.'
        )
        raise StateError(msg)
    project = projects[0]
    held = _bookmark_of(partitions, project)
    if held not in {None, value}:
        msg = (
            f"The state has a stream-level bookmark ({value!r}) and another for "
            f"project '{project}' ({held!r}); keep one."
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
        f"The state's stream-level bookmark {value!r} is read as project '{project}''s."
    )


def _stuck_ids(value: t.Any, project: str) -> list[int]:  # noqa: ANN401
    if isinstance(value, list) and all(_is_call_id(item) for item in value):
        return sorted({int(item) for item in value})
    msg = (
        f"The state's '{STUCK_KEY}' of project '{project}' is {_shown(value)}; "
        "expected a list of callIds (integers >= 0)."
    )
    raise StateError(msg)


def _is_call_id(value: t.Any) -> bool:  # noqa: ANN401
    if type(value) is int:
        return value >= 0
    return isinstance(value, str) and value.isascii() and value.isdigit()


def stuck_ids(partition_state: dict[str, t.Any]) -> list[int]:
    """The stuck calls remembered for a partition, in callId order."""
    return list(partition_state.get(STUCK_KEY) or [])


def remember_stuck(partition_state: dict[str, t.Any], call_id: int) -> None:
    """Remember a call stepped over while still processing."""
    partition_state[STUCK_KEY] = sorted({*stuck_ids(partition_state), call_id})


def forget_stuck(partition_state: dict[str, t.Any], call_id: int) -> None:
    """Forget a stuck call: emitted, or gone from the API."""
    left = [c for c in stuck_ids(partition_state) if c != call_id]
    if left:
        partition_state[STUCK_KEY] = left
    else:
        partition_state.pop(STUCK_KEY, None)
