"""One page of the call list: decoded, typed and checked before anything is emitted.

Both formats are decoded alike, from the body's bytes: UTF-8 (what the API
sends; ``requests`` would read a ``text/csv`` without a charset as ISO-8859-1
and turn every accent into mojibake), a leading byte order mark dropped (it
would rename the first CSV column), and bytes that are not UTF-8 are an error
naming the page and the byte offset, never U+FFFD in a record.
"""

from __future__ import annotations

import typing as t

import msgspec

from tap_voicegain import errors

if t.TYPE_CHECKING:
    import requests

    from tap_voicegain.records import CallNormalizer


def read_page(
    response: requests.Response,
    *,
    wanted: str,
    normalizer: CallNormalizer,
    after: int,
    where: str,
) -> list[dict[str, t.Any]]:
    """Records of one page, in callId order, each after ``after``.

    Args:
        response: The API's 200 answer.
        wanted: The format asked for, ``json`` or ``csv``.
        normalizer: Turns JSON objects or CSV rows into records.
        after: The callId every record of the page must follow.
        where: Names the page in messages ("page 3 of project 'x' (GET ...)").

    Raises:
        BadPageError: The body is not the export asked for, a value does not
            fit its column, or the calls are out of order.
    """
    try:
        page = _decode(response, wanted, normalizer)
    except ValueError as exc:
        msg = f"The Voicegain API answered {where} with {exc}"
        raise errors.BadPageError(msg) from exc
    for record in page:
        if record["callId"] <= after:
            msg = (
                f"The Voicegain API answered {where} with callId "
                f"{record['callId']} after {after}: calls are not in callId order"
            )
            raise errors.BadPageError(msg)
        after = record["callId"]
    return page


def _decode(
    response: requests.Response, wanted: str, normalizer: CallNormalizer
) -> list[dict[str, t.Any]]:
    content_type = response.headers.get("Content-Type", "").lower()
    if "html" in content_type or response.content[:64].lstrip()[:1] == b"<":
        msg = (
            f"an HTML page ({content_type or 'no Content-Type'}) instead of "
            f"{wanted.upper()}: is api_url the API (…/v1) and not a proxy or "
            "login page?"
        )
        raise ValueError(msg)
    body = response.content
    if body[:3] == BOM:
        body = body[3:]
    if wanted == "csv":
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError as exc:
            raise ValueError(_not_utf8(exc, response)) from None
        return list(normalizer.iter_csv(text))
    records = normalizer.from_json_page(body)  # None: the page needs the long way
    if records is not None:
        return records
    return [normalizer.from_json(item) for item in _json_array(body, response)]


BOM = b"\xef\xbb\xbf"  # UTF-8 byte order mark


def _not_utf8(exc: UnicodeDecodeError, response: requests.Response) -> str:
    # The offset counts from the body's first byte, byte order mark included.
    offset = exc.start + (3 if response.content[:3] == BOM else 0)
    content_type = response.headers.get("Content-Type") or "no Content-Type"
    return (
        f"bytes that are not UTF-8 at byte offset {offset} of "
        f"{len(response.content)} ({content_type})"
    )


def _json_array(body: bytes, response: requests.Response) -> list[t.Any]:
    try:
        # msgspec straight from the bytes: several times faster than
        # response.json(), which decodes to text first.
        decoded = msgspec.json.decode(body)
    except (msgspec.DecodeError, UnicodeDecodeError) as exc:
        # Bytes that are not UTF-8 come out as UnicodeDecodeError (msgspec
        # <= 0.22, offset into the string) or DecodeError (0.23): either way
        # Python's own decoder finds the offset into the body.
        try:
            body.decode("utf-8")
        except UnicodeDecodeError as not_utf8:
            raise ValueError(_not_utf8(not_utf8, response)) from None
        msg = f"JSON that does not parse ({exc}; {len(response.content)} bytes)"
        raise ValueError(msg) from None
    if not isinstance(decoded, list):
        shown = errors.api_message(response)
        msg = f"a JSON {type(decoded).__name__} instead of an array of calls: {shown}"
        raise ValueError(msg)  # noqa: TRY004 - reported as a bad page
    return decoded
