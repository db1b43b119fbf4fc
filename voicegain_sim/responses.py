# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""HTTP response values and the rendering of ``/sa/call`` result pages."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Final
from urllib.parse import parse_qsl, urlencode

from voicegain_sim.csvfmt import render_csv

if TYPE_CHECKING:
    from voicegain_sim.prerender import Fragments
    from voicegain_sim.query import Query

JSON_TYPE: Final[str] = "application/json"
CSV_TYPE: Final[str] = "text/csv; charset=utf-8"
_ENCODER: Final = json.JSONEncoder(ensure_ascii=False, separators=(",", ":"))
CALLID_MODES: Final[frozenset[str]] = frozenset({"string", "number", "mixed"})


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
    """

    status: int
    body: bytes
    content_type: str = JSON_TYPE
    headers: dict[str, str] = field(default_factory=dict)
    page: list[dict[str, Any]] | None = None
    truncate: bool = False


def dump_json(value: object) -> bytes:
    """Serialize to compact UTF-8 JSON, non-ASCII kept as is.

    Args:
        value: A JSON-compatible value.

    Returns:
        The JSON bytes.
    """
    return _ENCODER.encode(value).encode("utf-8")


def error_response(
    status: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    """Build the API's JSON error body ``{"status": ..., "message": ...}``.

    Args:
        status: HTTP status code.
        message: Human-readable message.
        headers: Further headers.

    Returns:
        The response.
    """
    body = dump_json({"status": status, "message": message})
    return Response(status, body, headers=dict(headers or {}))


def link_header(base_url: str, raw_query: str, page: int, last: int) -> str:
    """Build an RFC 5988 ``Link`` header for offset paging.

    Args:
        base_url: Scheme, host and path of the request.
        raw_query: The request's query string; only ``page`` is changed.
        page: The current page.
        last: The last page (at least 1).

    Returns:
        The header value with rel first/prev/self/next/last.
    """
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


def _with_callid(call: dict[str, Any], *, as_number: bool) -> dict[str, Any]:
    if not as_number or isinstance(call.get("callId"), int):
        return call
    copy = dict(call)
    copy["callId"] = int(call["callId"])
    return copy


def page_response(  # noqa: PLR0913
    result: list[dict[str, Any]],
    query: Query,
    *,
    base_url: str,
    raw_query: str,
    callid_as: str,
    csv_timezone: str,
    fragments: Fragments | None = None,
) -> Response:
    """Render one page of a result list.

    Args:
        result: The full, filtered (and cut) result list.
        query: The validated query (page, per_page, format).
        base_url: Scheme, host and path of the request, for ``Link``.
        raw_query: The request's query string, for ``Link``.
        callid_as: ``string``, ``number`` or ``mixed`` (alternating) callIds.
        csv_timezone: IANA zone for CSV times.
        fragments: Prerendered pieces to assemble the body from, if any.

    Returns:
        The 200 response with ``X-Total-Count`` and ``Link``.
    """
    total = len(result)
    start = (query.page - 1) * query.per_page
    page = result[start : start + query.per_page]
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
        if fragments is not None:
            items = [
                fragments.json_item(call, as_number=form)
                for call, form in zip(page, forms, strict=True)
            ]
            body = b"[" + b",".join(items) + b"]"
        else:
            body = dump_json(
                [
                    _with_callid(call, as_number=form)
                    for call, form in zip(page, forms, strict=True)
                ]
            )
    last = max(1, math.ceil(total / query.per_page))
    headers = {
        "X-Total-Count": str(total),
        "Link": link_header(base_url, raw_query, query.page, last),
    }
    return Response(200, body, content_type, headers, page=page)
