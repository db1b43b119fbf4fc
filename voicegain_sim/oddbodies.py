"""Bodies of odd 200 answers that injected faults send instead of the real one.

Each function takes the fault's options and the real response and returns
the faulty one; :mod:`voicegain_sim.faults` lists them as fault kinds.
"""

from __future__ import annotations

import json
import typing as t

from voicegain_sim.responses import JSON_TYPE, Response, dump_json

if t.TYPE_CHECKING:
    from collections.abc import Mapping

DEFAULT_DEPTH = 1_000
DEFAULT_BAD_CALLID = "abc"


def json_value(opts: Mapping[str, t.Any], real: Response) -> Response:
    """``value`` (any JSON value; default ``null``) as a JSON body, status ``code``."""
    return Response(
        int(opts.get("code", 200)),
        dump_json(opts.get("value")),
        JSON_TYPE,
        real.headers,
    )


def deep(opts: Mapping[str, t.Any], real: Response) -> Response:
    """A JSON body nested ``depth`` levels: ``[[[...]]]`` or ``{"a":{"a":...}}``."""
    depth = max(1, int(opts.get("depth", DEFAULT_DEPTH)))
    if opts.get("as_object"):
        body = b'{"a":' * depth + b"{}" + b"}" * depth
    else:
        body = b"[" * depth + b"]" * depth
    return Response(200, body, JSON_TYPE, real.headers)


def _edit_call(real: Response, edit: t.Callable[[dict[str, t.Any]], None]) -> Response:
    """The real JSON answer with ``edit`` applied to the call (or the first one)."""
    try:
        value = json.loads(real.body)
    except ValueError:  # not JSON (CSV, an error page): nothing to edit
        return real
    target = value[0] if isinstance(value, list) and value else value
    if isinstance(target, dict):
        edit(target)
    return Response(real.status, dump_json(value), JSON_TYPE, real.headers)


def no_callid(_opts: Mapping[str, t.Any], real: Response) -> Response:
    """The real call (first call of a page) without its ``callId``."""
    return _edit_call(real, lambda call: call.pop("callId", None))


def bad_callid(opts: Mapping[str, t.Any], real: Response) -> Response:
    """The real call (first call of a page) with ``callId`` set to ``value``.

    ``value`` defaults to ``"abc"``; any JSON value works (``None``, ``1.5``,
    ``True``, ``"-5"``, ``"10024.0"``, ``10**30``).
    """
    value = opts.get("value", DEFAULT_BAD_CALLID)

    def edit(call: dict[str, t.Any]) -> None:
        call["callId"] = value

    return _edit_call(real, edit)
