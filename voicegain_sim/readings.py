"""Readings of what the vendor's documents leave open, each one opt-in.

The guide and the API reference leave some behaviour of ``GET /sa/call``
unsaid; an API that picks either side reads its documents just as
faithfully. Each reading is a :class:`VoicegainSimulator` keyword and a
settable attribute (setting one drops prerendered bodies); the default is
what the simulator always did.

* ``after_call_id_reading`` - ``honoured`` (default): ``afterCallId`` keeps
  calls with a higher callId whatever else is asked. ``ignored``: it is
  applied only with ``consecutive=true`` (the only use the guide documents);
  otherwise the list is the whole filtered list, sorted per
  ``sort_by``/``sort_dir`` (default ``documentId`` ascending), paged by offset.
* ``per_page_cap`` - ``None`` (default) or N: a page never holds more than N
  calls, whatever ``per_page`` asks. Offsets are computed with the capped size
  (page 2 starts at call N+1), ``X-Total-Count`` stays the full count, the
  ``Link`` header's ``last`` is counted in capped pages (its URLs keep the
  ``per_page`` that was asked; only ``page`` changes).
* ``empty_answer`` - how a page with no calls (nothing matches, or a page past
  the end) is answered: ``array`` (default; ``[]``, CSV header only), ``204``
  (no body, no ``Content-Type``), ``empty`` (200 with an empty body) or
  ``null`` (200 JSON ``null``; CSV keeps the header-only answer). The
  ``X-Total-Count`` and ``Link`` headers are sent in every form.
* ``billing_reading`` - ``stored`` (default): a call's ``billing`` (see
  ``full_model``) is in every answer that shows the call. ``on_request``:
  as the vendor's text says, ``billing`` comes only from
  ``GET /sa/call/{callId}?inclBilling=true`` (``sa_call_get``; ``sa_call_query``
  has no such parameter); there a value other than ``true``/``false`` is 400.
* ``refuse_reversed_times`` - ``False`` (default): ``fromTime`` after
  ``toTime`` selects nothing. ``True``: 400 ``Invalid value for parameter
  'fromTime': later than 'toTime'``.
"""

from __future__ import annotations

import dataclasses
import typing as t
from collections.abc import Iterable, Mapping
from datetime import datetime

from voicegain_sim.query import QueryError
from voicegain_sim.responses import JSON_TYPE, Response

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from voicegain_sim.filters import Clock
    from voicegain_sim.query import Query

AFTER_CALL_ID_READINGS = frozenset({"honoured", "ignored"})
EMPTY_ANSWERS = frozenset({"array", "204", "empty", "null"})
BILLING_READINGS = frozenset({"stored", "on_request"})

_T = t.TypeVar("_T")


class _Owner(t.Protocol):
    def drop_cached(self) -> None: ...


class Option(t.Generic[_T]):
    """A settable simulator option: checked when set; cached bodies dropped."""

    def __init__(self, check: Callable[[object], _T]) -> None:
        """Check (and normalise) each value with ``check``; it raises ``ValueError``."""
        self._check = check
        self._name = ""

    def __set_name__(self, owner: type, name: str) -> None:
        """Store the value under ``_<name>``."""
        self._name = f"_{name}"

    @t.overload
    def __get__(self, obj: None, objtype: type | None = None) -> Option[_T]: ...
    @t.overload
    def __get__(self, obj: object, objtype: type | None = None) -> _T: ...
    def __get__(self, obj: object, objtype: type | None = None) -> _T | Option[_T]:
        """The option's value (the descriptor itself on the class)."""
        if obj is None:
            return self
        value: _T = getattr(obj, self._name)
        return value

    def __set__(self, obj: _Owner, value: object) -> None:
        """Check and set the value; answers cached under the old one are dropped."""
        setattr(obj, self._name, self._check(value))
        obj.drop_cached()


def one_of(name: str, allowed: frozenset[str]) -> Callable[[object], str]:
    """A check that accepts only the strings in ``allowed``."""

    def check(value: object) -> str:
        if not isinstance(value, str) or value not in allowed:
            msg = f"{name} must be one of {sorted(allowed)}, got {value!r}"
            raise ValueError(msg)
        return value

    return check


def flag(name: str) -> Callable[[object], bool]:
    """A check that accepts only ``True`` and ``False``."""

    def check(value: object) -> bool:
        if not isinstance(value, bool):
            msg = f"{name} must be True or False, got {value!r}"
            raise ValueError(msg)  # noqa: TRY004 - one error type for every bad option
        return value

    return check


def page_cap(value: object) -> int | None:
    """Check ``per_page_cap``: ``None`` or an integer >= 1.

    Raises:
        ValueError: Anything else.
    """
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        msg = f"per_page_cap must be None or an integer >= 1, got {value!r}"
        raise ValueError(msg)
    return value


def group_table(value: object) -> dict[str, frozenset[str]]:
    """Check ``user_groups``: a mapping of group id -> member userIds.

    Raises:
        ValueError: Not such a mapping.
    """
    if not isinstance(value, Mapping) or not all(
        isinstance(group, str)
        and not isinstance(members, str)
        and isinstance(members, Iterable)
        for group, members in value.items()
    ):
        msg = "user_groups must map group ids to lists of userIds"
        raise ValueError(msg)
    return {
        str(group): frozenset(map(str, members)) for group, members in value.items()
    }


def clock_value(value: object) -> Clock:
    """Check ``now``: ``None``, a datetime, or a callable returning one.

    Raises:
        ValueError: Anything else.
    """
    if value is None or isinstance(value, datetime) or callable(value):
        return t.cast("Clock", value)
    msg = f"now must be None, a datetime or a callable, got {value!r}"
    raise ValueError(msg)


def read_after_call_id(query: Query, reading: str) -> Query:
    """The query as an API with this ``afterCallId`` reading applies it."""
    if reading == "ignored" and not query.consecutive:
        return dataclasses.replace(query, after_call_id=None)
    return query


def check_time_order(query: Query) -> None:
    """Refuse ``fromTime`` later than ``toTime``.

    Raises:
        QueryError: The window is reversed.
    """
    low, high = query.from_time, query.to_time
    if low is not None and high is not None and low > high:
        raise QueryError(param="fromTime", problem="later than 'toTime'")


def empty_page(fmt: str, style: str, page: Response) -> Response:
    """An empty page answered in ``style``; ``page`` is the ``array`` form."""
    if style == "204":
        return Response(204, b"", "", page.headers, page=[])
    if style == "empty":
        return Response(200, b"", page.content_type, page.headers, page=[])
    if style == "null" and fmt == "json":
        return Response(200, b"null", JSON_TYPE, page.headers, page=[])
    return page
