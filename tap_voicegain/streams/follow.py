"""What follows a short page of the export: the first call after the bookmark.

Asked with ``afterCallId`` without ``consecutive``; an API that ignores that
(its documents do not promise it) is searched by page offsets instead.
"""

from __future__ import annotations

import typing as t

from tap_voicegain import errors

if t.TYPE_CHECKING:
    from tap_voicegain.streams.walk import CallListStream, ProjectRun, Records

# Requests at most to find the call after the bookmark by page offsets (40: a
# list of about 2**20 pages).
SEARCH_REQUESTS = 40
# A last "what follows" request is not worth waiting this long for the rate limit.
DIAGNOSIS_WAIT_MAX = 5.0


def rate_limited(stream: CallListStream) -> bool:
    """Whether the next request would wait too long for the rate limit."""
    return stream.limiter().waiting() > DIAGNOSIS_WAIT_MAX


def what_follows(stream: CallListStream, last: int, run: ProjectRun) -> Records | None:
    """The first call after ``last`` under the filters, finished or not.

    ``[]`` when there is none; None when the API could not say.
    """
    if rate_limited(stream):
        return None
    base = {
        "format": "json",
        **stream.settings.filter_params(),
        **({"inclSegments": "true"} if stream.incl_segments else {}),
    }
    if not stream.after_ignored:
        found = _list(
            stream, run, {**base, "afterCallId": last, "page": 1, "per_page": 1}
        )
        if found is None or all(call["callId"] > last for call in found):
            return found
        stream.after_ignored = True
        stream.logger.info(
            "The API ignores afterCallId without consecutive=true: the calls "
            "after %d are found among the newest calls instead",
            last,
        )
    return _first_after(stream, last, run, base)


def _first_after(
    stream: CallListStream, last: int, run: ProjectRun, base: dict[str, t.Any]
) -> Records | None:
    """The first call after ``last``, by page offsets: 1, 2, 4, ..., then halved.

    The list is sorted by documentId (= callId); a first page shorter than asked
    is the API's page size, so offsets agree.
    """
    params = {**base, "sort_by": "documentId", "sort_dir": "asc"}
    per_page = run.full
    pages: dict[int, Records] = {}

    def past(number: int) -> bool | None:
        """Whether page ``number`` reaches past ``last``; None: no answer."""
        nonlocal per_page
        if number not in pages:
            found = _list(stream, run, {**params, "page": number, "per_page": per_page})
            if found is None:
                return None
            if number == 1 and 0 < len(found) < per_page:
                per_page = len(found)  # offsets now count in the API's pages
            pages[number] = found
        return not pages[number] or pages[number][-1]["callId"] > last

    low, high = 0, 1  # every call of page `low` is at most `last`
    while not (reached := past(high)):
        if reached is None or len(pages) >= SEARCH_REQUESTS:
            return None
        low, high = high, high * 2
    while high - low > 1 and len(pages) < SEARCH_REQUESTS:
        middle = (low + high) // 2
        if (reached := past(middle)) is None:
            return None
        low, high = (low, middle) if reached else (middle, high)
    after = [call for call in pages[high] if call["callId"] > last]
    return [min(after, key=lambda call: call["callId"])] if after else []


def _list(
    stream: CallListStream, run: ProjectRun, params: dict[str, t.Any]
) -> Records | None:
    """One request of the call list outside the passes; None if it failed."""
    url = stream.get_url(run.context)
    try:
        response = stream.send_one(
            url, params, stream.path, lambda _: False, per_call=False
        )
        stream.validate_response(response)
        return stream.reader.page(response.content, "json")
    except (errors.CallRequestError, errors.NotTheExportError, ValueError):
        return None
