"""HTTP response values and the rendering of ``/sa/call`` result pages."""

from __future__ import annotations

import json
import math
import typing as t
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, urlencode

from voicegain_sim.csvfmt import render_csv

if t.TYPE_CHECKING:
    from collections.abc import Callable

    from voicegain_sim.prerender import Fragments
    from voicegain_sim.query import Query

JSON_TYPE = "application/json"
CSV_TYPE = "text/csv; charset=utf-8"
TEXT_TYPE = "text/plain; charset=utf-8"
_ENCODER = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
CALLID_MODES = frozenset({"string", "number", "mixed"})


@dataclass
class Response:
    """An HTTP response the handler writes out.

    Attributes:
        status: HTTP status code.
        body: Body bytes.
        content_type: ``Content-Type`` header value.
        headers: Further headers.
        page: Calls on the page, when the response is a result page.
        truncate: Send with chunked encoding and cut the body mid-chunk.
        trickle: ``(seconds, size)``: send the body ``size`` bytes at a time,
            one piece every ``seconds``.
        close: Close the connection after the response.
    """

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    page: list[dict[str, t.Any]] | None = None
    truncate: bool = False
    trickle: tuple[float, int] | None = None
    close: bool = False


def dump_json(value: object) -> bytes:
    """Compact UTF-8 JSON, non-ASCII kept as is."""
    return _ENCODER.encode(value).encode("utf-8")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """The API's JSON error: ``{"status": ..., "message": ...}``."""
    body = dump_json({"status": status, "message": message})
    return Response(status, body, headers=dict(headers or {}))


def link_header(base_url: str, raw_query: str, page: int, last: int) -> str:
    """RFC 5988 ``Link`` (first/prev/self/next/last); only ``page`` changes."""
    pairs = parse_qsl(raw_query, keep_blank_values=True)

    def url(number: int) -> str:
        changed: list[tuple[str, str]] = []
        placed = False
        for key, value in pairs:
            if key != "page":
                changed.append((key, value))
            elif not placed:
                changed.append((key, str(number)))
                placed = True
        if not placed:
            changed.append(("page", str(number)))
        return f"{base_url}?{urlencode(changed)}"

    rels = [("first", 1)]
    if page > 1:
        rels.append(("prev", page - 1))
    rels.append(("self", page))
    if page < last:
        rels.append(("next", page + 1))
    rels.append(("last", last))
    return ", ".join(f'<{url(number)}>; rel="{rel}"' for rel, number in rels)


def _with_callid(call: dict[str, t.Any], *, as_number: bool) -> dict[str, t.Any]:
    if not as_number or isinstance(call.get("callId"), int):
        return call
    copy = dict(call)
    copy["callId"] = int(call["callId"])
    return copy


def page_response(  # noqa: PLR0913
    result: list[dict[str, t.Any]],
    query: Query,
    *,
    base_url: str,
    raw_query: str,
    callid_as: str,
    csv_timezone: str,
    fragments: Fragments | None = None,
    per_page_cap: int | None = None,
    decorate: Callable[[dict[str, t.Any]], dict[str, t.Any]] | None = None,
) -> Response:
    """Render one page of a result list: 200 with ``X-Total-Count`` and ``Link``.

    ``per_page_cap`` bounds the page size whatever ``per_page`` asks.
    ``decorate`` turns each call into what the JSON shows (e.g. with its
    segments); a call it returns unchanged may come from ``fragments``.
    """
    total = len(result)
    size = query.per_page if per_page_cap is None else min(query.per_page, per_page_cap)
    start = (query.page - 1) * size
    page = result[start : start + size]
    if query.fmt == "csv":
        content_type = CSV_TYPE
        if fragments is not None:
            body = fragments.csv_page(page)
        else:
            body = render_csv(page, timezone=csv_timezone).encode("utf-8")
    else:
        content_type = JSON_TYPE
        forms = [
            callid_as == "number" or (callid_as == "mixed" and i % 2 == 1)
            for i in range(len(page))
        ]
        shown = page if decorate is None else [decorate(call) for call in page]
        if fragments is not None and all(
            a is b for a, b in zip(shown, page, strict=True)
        ):
            items = [
                fragments.json_item(call, as_number=form)
                for call, form in zip(page, forms, strict=True)
            ]
            body = b"[" + b",".join(items) + b"]"
        else:
            body = dump_json(
                [
                    _with_callid(call, as_number=form)
                    for call, form in zip(shown, forms, strict=True)
                ]
            )
    last = max(1, math.ceil(total / size))
    headers = {
        "X-Total-Count": str(total),
        "Link": link_header(base_url, raw_query, query.page, last),
    }
    return Response(200, body, content_type, headers, page=page)
