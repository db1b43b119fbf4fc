"""The six newer filters of ``GET /sa/call`` (opt-in: ``extra_filters=True``).

``sa_call_query`` of ``voicegain-speech`` 1.142.0 documents ``direction``,
``internalEndpoint``, ``userGroupIds``, ``voicemail``, ``recomputePhase`` and
``period``. Without the option they are ignored as they always were; with
it each is applied as its description says, after the time, agent, queue
and AIVR filters and before the ``consecutive`` cut, and a bad value is 400
``Invalid value for parameter '<name>': ...``:

* ``direction`` - one value, ``inbound`` or ``outbound`` (the model types it
  as a single string, not an array: two values, repeated or comma-joined,
  are 400); matches the call's ``direction``.
* ``internalEndpoint`` - array (repeated keys or comma-joined); matches the
  call's ``internalEndpoint`` exactly.
* ``userGroupIds`` - array of user-group ids. The call model has no group
  field: the simulator keeps a membership table, ``user_groups`` (group id ->
  member userIds; default :data:`voicegain_sim.vocab.USER_GROUPS`, settable),
  and a call matches when its agent's ``userId`` is in one of the groups, or
  its ``team`` (the model: "a UserGroup of the type Team") is one of the ids.
  Unknown ids match nothing (no error).
* ``voicemail`` - ``true``: only calls with a voicemail (``voicemailUuid``,
  ``voicemailDuration`` or ``voicemailTranscript``, which the model says are
  "present only if a voicemail was left"; see ``full_model``); ``false``:
  only calls without; anything else is 400.
* ``recomputePhase`` - array of ``requested``, ``queued``, ``processing``,
  ``completed``, ``error`` (another value is 400); matches the call's
  ``recomputePhase`` (calls without one never match).
* ``period`` - one of ``today``, ``last24hours``, ``thisWeek`` (from Monday),
  ``last7days``, ``thisMonth``, ``last30days``, ``thisYear``,
  ``last365days``: calls whose ``startTime`` lies between the period's start
  and now; "today", "this week" and so on begin at midnight in the
  simulator's ``csv_timezone`` (the project's zone). With ``fromTime``/
  ``toTime`` the intersection. "Now" is the simulator's ``now`` (a datetime or
  a callable; default: the real clock).
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import datetime, timedelta, timezone

from voicegain_sim.query import QueryError, flag_param
from voicegain_sim.times import parse_rfc3339

if t.TYPE_CHECKING:
    from collections.abc import Callable, Mapping
    from zoneinfo import ZoneInfo

DIRECTIONS = frozenset({"inbound", "outbound"})
RECOMPUTE_PHASES = frozenset(
    {"requested", "queued", "processing", "completed", "error"}
)
PERIODS = (
    "today",
    "last24hours",
    "thisWeek",
    "last7days",
    "thisMonth",
    "last30days",
    "thisYear",
    "last365days",
)
_ROLLING = {
    "last24hours": timedelta(hours=24),
    "last7days": timedelta(days=7),
    "last30days": timedelta(days=30),
    "last365days": timedelta(days=365),
}
_VOICEMAIL_FIELDS = ("voicemailUuid", "voicemailDuration", "voicemailTranscript")
Clock = t.Union[datetime, "Callable[[], datetime]", None]


def _values(params: Mapping[str, list[str]], name: str) -> list[str]:
    return [
        part.strip()
        for value in params.get(name, ())
        for part in value.split(",")
        if part.strip()
    ]


@dataclass(frozen=True)
class Filters:
    """The six filters of one request (``None``/empty: not asked)."""

    direction: str | None = None
    internal_endpoints: frozenset[str] = frozenset()
    user_group_ids: frozenset[str] = frozenset()
    voicemail: bool | None = None
    recompute_phases: frozenset[str] = frozenset()
    period: str | None = None

    @property
    def asked(self) -> bool:
        """Whether any of the six was given."""
        return self != Filters()


def parse_filters(params: Mapping[str, list[str]]) -> Filters:
    """Read and check the six filters.

    Raises:
        QueryError: A bad value; the message names the parameter.
    """
    directions = _values(params, "direction")
    if len(directions) > 1 or (directions and directions[0] not in DIRECTIONS):
        raise QueryError(param="direction", problem="must be inbound or outbound")
    phases = _values(params, "recomputePhase")
    unknown = sorted(set(phases) - RECOMPUTE_PHASES)
    if unknown:
        allowed = ", ".join(sorted(RECOMPUTE_PHASES))
        raise QueryError(param="recomputePhase", problem=f"must be some of {allowed}")
    periods = _values(params, "period")
    if len(periods) > 1 or (periods and periods[0] not in PERIODS):
        raise QueryError(param="period", problem=f"must be one of {', '.join(PERIODS)}")
    return Filters(
        direction=directions[0] if directions else None,
        internal_endpoints=frozenset(_values(params, "internalEndpoint")),
        user_group_ids=frozenset(_values(params, "userGroupIds")),
        voicemail=flag_param(params, "voicemail"),
        recompute_phases=frozenset(phases),
        period=periods[0] if periods else None,
    )


def read_clock(clock: Clock) -> datetime:
    """The simulator's "now" (aware, UTC when naive)."""
    moment = clock() if callable(clock) else clock
    if moment is None:
        return datetime.now(timezone.utc)
    return moment if moment.tzinfo else moment.replace(tzinfo=timezone.utc)


def period_start(period: str, now: datetime, zone: ZoneInfo) -> datetime:
    """When ``period`` began, seen from ``now`` in the project's ``zone``."""
    if period in _ROLLING:
        return now - _ROLLING[period]
    local = now.astimezone(zone)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    if period == "thisWeek":
        midnight -= timedelta(days=local.weekday())
    elif period == "thisMonth":
        midnight = midnight.replace(day=1)
    elif period == "thisYear":
        midnight = midnight.replace(month=1, day=1)
    # Midnight of that day in the zone, whatever its offset on that day.
    return datetime(
        midnight.year, midnight.month, midnight.day, tzinfo=zone
    ).astimezone(timezone.utc)


def apply_filters(
    calls: list[dict[str, t.Any]],
    filters: Filters,
    *,
    groups: Mapping[str, frozenset[str]],
    now: datetime,
    zone: ZoneInfo,
) -> list[dict[str, t.Any]]:
    """The calls that pass every filter asked."""
    if filters.direction is not None:
        calls = [c for c in calls if c.get("direction") == filters.direction]
    if filters.internal_endpoints:
        wanted = filters.internal_endpoints
        calls = [c for c in calls if str(c.get("internalEndpoint")) in wanted]
    if filters.user_group_ids:
        members = frozenset().union(
            *(groups.get(group, frozenset()) for group in filters.user_group_ids)
        )
        calls = [
            c
            for c in calls
            if _user_id(c) in members or c.get("team") in filters.user_group_ids
        ]
    if filters.voicemail is not None:
        calls = [c for c in calls if _has_voicemail(c) == filters.voicemail]
    if filters.recompute_phases:
        phases = filters.recompute_phases
        calls = [c for c in calls if c.get("recomputePhase") in phases]
    if filters.period is not None:
        low = period_start(filters.period, now, zone)
        calls = [c for c in calls if low <= _start(c) <= now]
    return calls


def _user_id(call: Mapping[str, t.Any]) -> str | None:
    agent = call.get("agent")
    return str(agent.get("userId")) if isinstance(agent, dict) else None


def _has_voicemail(call: Mapping[str, t.Any]) -> bool:
    return any(call.get(key) is not None for key in _VOICEMAIL_FIELDS)


def _start(call: Mapping[str, t.Any]) -> datetime:
    return parse_rfc3339(str(call["startTime"]))
