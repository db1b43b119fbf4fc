"""Query parameters of ``GET /sa/call``: validation and result selection."""

from __future__ import annotations

import bisect
import re
import typing as t
from dataclasses import dataclass

from voicegain_sim.times import parse_rfc3339

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping, Sequence
    from datetime import datetime

MAX_PER_PAGE = 10_000
DEFAULT_PER_PAGE = 50
MAX_TIME_LENGTH = 32
FINISHED_PHASES = frozenset({"DONE", "ERROR"})
SORT_KEYS = frozenset({"time", "score", "documentId"})
_INTEGER = re.compile(r"[+-]?[0-9]+")
_BOOLEANS = {"true": True, "false": False}


class QueryError(ValueError):
    """A query parameter is invalid (the API answers 400)."""

    def __init__(self, *, param: str, problem: str) -> None:
        """Name the offending parameter(s) and what is wrong with it."""
        super().__init__(f"Invalid value for parameter '{param}': {problem}")
        self.param = param


@dataclass(frozen=True)
class Query:
    """A validated ``/sa/call`` query."""

    fmt: str = "json"
    consecutive: bool = False
    after_call_id: int | None = None
    from_time: datetime | None = None
    to_time: datetime | None = None
    aivr_app_ids: frozenset[str] = frozenset()
    agent_ids: frozenset[str] = frozenset()
    queue_ids: frozenset[str] = frozenset()
    page: int = 1
    per_page: int = DEFAULT_PER_PAGE
    sort: tuple[tuple[str, bool], ...] = (("documentId", False),)


def _first(params: Mapping[str, list[str]], name: str) -> str | None:
    values = [value for value in params.get(name, ()) if value.strip()]
    return values[0].strip() if values else None


def _many(params: Mapping[str, list[str]], name: str) -> list[str]:
    return [
        part.strip()
        for value in params.get(name, ())
        for part in value.split(",")
        if part.strip()
    ]


def flag_param(params: Mapping[str, list[str]], name: str) -> bool | None:
    """A boolean parameter (``true``/``false``, any case); ``None`` when absent.

    Raises:
        QueryError: Any other value.
    """
    text = _first(params, name)
    if text is None:
        return None
    if text.lower() not in _BOOLEANS:
        raise QueryError(param=name, problem="must be true or false")
    return _BOOLEANS[text.lower()]


def _integer(
    params: Mapping[str, list[str]], name: str, low: int, high: int | None
) -> int | None:
    text = _first(params, name)
    if text is None:
        return None
    bounds = f"must be {low}..{high}" if high is not None else f"must be >= {low}"
    if not _INTEGER.fullmatch(text):
        raise QueryError(param=name, problem=f"not an integer, {bounds}")
    value = int(text)
    if value < low or (high is not None and value > high):
        raise QueryError(param=name, problem=bounds)
    return value


def _time(params: Mapping[str, list[str]], name: str) -> datetime | None:
    text = _first(params, name)
    if text is None:
        return None
    if len(text) > MAX_TIME_LENGTH:
        raise QueryError(
            param=name, problem=f"longer than {MAX_TIME_LENGTH} characters"
        )
    try:
        moment = parse_rfc3339(text)
    except ValueError:
        moment = None
    if moment is None or moment.tzinfo is None or "T" not in text.upper():
        raise QueryError(param=name, problem="not an RFC 3339 date-time")
    return moment


def _sort(
    params: Mapping[str, list[str]], *, consecutive: bool
) -> tuple[tuple[str, bool], ...]:
    keys = _many(params, "sort_by")
    dirs = _many(params, "sort_dir")
    if consecutive and (keys or dirs):
        named = " and ".join(
            name for name, got in (("sort_by", keys), ("sort_dir", dirs)) if got
        )
        raise QueryError(
            param=named, problem="not allowed together with consecutive=true"
        )
    for key in keys:
        if key not in SORT_KEYS:
            raise QueryError(
                param="sort_by", problem="must be time, score or documentId"
            )
    for direction in dirs:
        if direction not in {"asc", "desc"}:
            raise QueryError(param="sort_dir", problem="must be asc or desc")
    keys = keys or ["documentId"]
    if len(dirs) > len(keys):
        raise QueryError(param="sort_dir", problem="more elements than sort_by")
    dirs += ["asc"] * (len(keys) - len(dirs))
    return tuple(
        (key, direction == "desc") for key, direction in zip(keys, dirs, strict=True)
    )


def parse_query(params: Mapping[str, list[str]], accept: str | None = None) -> Query:
    """Validate query parameters; unknown parameters are ignored.

    ``accept`` (the ``Accept`` header) decides the format when ``format`` is absent.

    Raises:
        QueryError: A parameter is invalid; its message names the parameter.
    """
    fmt = _first(params, "format")
    if fmt is None:
        fmt = "csv" if accept and "text/csv" in accept.lower() else "json"
    elif fmt not in {"json", "csv"}:
        raise QueryError(param="format", problem="must be json or csv")
    consecutive_text = _first(params, "consecutive")
    consecutive = False
    if consecutive_text is not None:
        if consecutive_text.lower() not in _BOOLEANS:
            raise QueryError(param="consecutive", problem="must be true or false")
        consecutive = _BOOLEANS[consecutive_text.lower()]
    return Query(
        fmt=fmt,
        consecutive=consecutive,
        after_call_id=_integer(params, "afterCallId", 0, None),
        from_time=_time(params, "fromTime"),
        to_time=_time(params, "toTime"),
        aivr_app_ids=frozenset(_many(params, "aivrAppId")),
        agent_ids=frozenset(_many(params, "agentId")),
        queue_ids=frozenset(_many(params, "queueId")),
        page=_integer(params, "page", 1, None) or 1,
        per_page=_integer(params, "per_page", 1, MAX_PER_PAGE) or DEFAULT_PER_PAGE,
        sort=_sort(params, consecutive=consecutive),
    )


def _nested_id(call: dict[str, t.Any], parent: str, key: str) -> str | None:
    nested = call.get(parent)
    return str(nested.get(key)) if isinstance(nested, dict) else None


def _start(call: dict[str, t.Any]) -> datetime:
    return parse_rfc3339(str(call["startTime"]))


def _score_key(call: dict[str, t.Any]) -> tuple[int, float]:
    score = call.get("score")
    return (0, 0.0) if score is None else (1, float(score))


_SORT_FUNCS: dict[str, Callable[[dict[str, t.Any]], t.Any]] = {
    "time": _start,
    "score": _score_key,
    "documentId": lambda call: int(call["callId"]),
}


class CallIndex:
    """A project's calls ordered by integer ``callId``, for fast selection."""

    def __init__(self, calls: Sequence[dict[str, t.Any]]) -> None:
        """Index the calls, given in any order."""
        pairs = sorted(
            ((int(call["callId"]), call) for call in calls), key=lambda p: p[0]
        )
        self.ids = [call_id for call_id, _ in pairs]
        self.calls = [call for _, call in pairs]

    def select(
        self,
        query: Query,
        narrow: Callable[[list[dict[str, t.Any]]], list[dict[str, t.Any]]]
        | None = None,
    ) -> list[dict[str, t.Any]]:
        """The full (unpaged) result list of a query.

        With ``consecutive`` in callId order and cut at the first call not
        DONE/ERROR, otherwise sorted per ``query.sort``. ``narrow`` (further
        filters) runs after the query's own filters, before the cut.
        """
        calls = self.calls
        if query.after_call_id is not None:
            calls = calls[bisect.bisect_right(self.ids, query.after_call_id) :]
        calls = _filter(calls, query)
        if narrow is not None:
            calls = narrow(calls)
        if query.consecutive:
            for position, call in enumerate(calls):
                if call.get("progressPhase") not in FINISHED_PHASES:
                    return calls[:position]
            return list(calls)
        result = list(calls)
        if query.sort != (("documentId", False),):
            for key, descending in reversed(query.sort):
                result.sort(key=_SORT_FUNCS[key], reverse=descending)
        return result


def _filter(calls: list[dict[str, t.Any]], query: Query) -> list[dict[str, t.Any]]:
    """Apply the time, agent, queue and AIVR app filters."""
    low, high = query.from_time, query.to_time
    if low is not None:
        calls = [call for call in calls if _start(call) >= low]
    if high is not None:
        calls = [call for call in calls if _start(call) <= high]
    if query.agent_ids:
        calls = [
            c for c in calls if _nested_id(c, "agent", "agentId") in query.agent_ids
        ]
    if query.queue_ids:
        calls = [
            c for c in calls if _nested_id(c, "queue", "queueId") in query.queue_ids
        ]
    if query.aivr_app_ids:
        calls = [c for c in calls if c.get("aivrAppId") in query.aivr_app_ids]
    return calls
