"""The two ways the call list is read: the export pass and the refresh pass.

Export walks ``consecutive=true`` by ``afterCallId`` (keyset); refresh walks
documented parameters by ``page`` offsets (docs/design.md). Each pass owns a
:class:`Cursor`, which only the walk moves and the paginator reads.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

if t.TYPE_CHECKING:
    import requests

# The vendor's ProgressPhase values (README "Phases"): finished ones are emitted
# once; STOPPED never resumes but consecutive=true stops at it; every other
# phase (INPUT_READY ... PROCESSING, RECOMPUTING) is waited for.
FINISHED_PHASES = frozenset({"DONE", "ERROR", "STOPPED"})
LISTED_PHASES = frozenset({"DONE", "ERROR"})  # what consecutive=true lists


@dataclasses.dataclass
class Cursor:
    """Where a pass stands: what decides the next request."""

    after: int  # callId of the last call received
    per_page: int  # calls asked for per request
    full: int  # calls in a page that is not the last (the API may cap per_page)
    page_size: int = 0  # calls in the latest page
    page: int = 1  # the page asked for next (refresh: offsets)


class ExportPass:
    """Incremental export: finished calls after the bookmark, in callId order.

    A short page means a call still processing, the end, or a capped per_page.
    """

    moves_bookmark = True

    def __init__(self, start: int, per_page: int, full: int) -> None:
        """Read the calls after callId ``start``; ``full``: a full page's size."""
        self.cursor = Cursor(after=start, per_page=per_page, full=full)

    def params(self) -> dict[str, t.Any]:
        """Query parameters of the next request."""
        return {"consecutive": "true", "afterCallId": self.cursor.after, "page": 1}

    def keep(self, call: dict[str, t.Any]) -> bool:  # noqa: ARG002
        """Every call of an export page is emitted."""
        return True

    def take(self, calls: list[int]) -> None:
        """Move the cursor past a page's callIds."""
        self.cursor.page_size = len(calls)
        if calls:
            self.cursor.after = calls[-1]

    def token(self) -> int | None:
        """The next request's page token: afterCallId; None: the pass is done."""
        full = self.cursor.page_size >= self.cursor.full
        return self.cursor.after if full else None


class RefreshPass:
    """Re-read finished calls of the last days (QA reviews land late).

    Only calls up to ``bookmark`` the run did not emit itself (``skip``): each
    call at most once per run. Stops past the bookmark, or on an empty page.
    """

    moves_bookmark = False

    def __init__(
        self,
        bookmark: int,
        since: str,
        per_page: int,
        skip: t.Container[int] = frozenset(),
    ) -> None:
        """Re-read calls up to ``bookmark`` that started at or after ``since``."""
        self.bookmark = bookmark
        self.since = since
        self.skip = skip
        self.cursor = Cursor(after=-1, per_page=per_page, full=per_page)
        self.passed_bookmark = False

    def params(self) -> dict[str, t.Any]:
        """Query parameters of the next request (documented ones only)."""
        return {
            "fromTime": self.since,
            "sort_by": "documentId",
            "sort_dir": "asc",
            "page": self.cursor.page,
        }

    def keep(self, call: dict[str, t.Any]) -> bool:
        """A finished call exported before this run, met first in this pass."""
        call_id = call["callId"]
        if call_id <= self.cursor.after:
            return False  # a repeat: the offsets shifted
        self.cursor.after = call_id
        if call_id > self.bookmark:
            self.passed_bookmark = True
            return False
        return call_id not in self.skip and call.get("progressPhase") in FINISHED_PHASES

    def take(self, calls: list[int]) -> None:
        """Count a page; a short first page is the API's page size (offsets)."""
        cursor = self.cursor
        if cursor.page == 1 and 0 < len(calls) < cursor.per_page:
            cursor.per_page = cursor.full = len(calls)
        cursor.page_size = len(calls)

    def token(self) -> int | None:
        """The next page number; None past the bookmark, or after the last page."""
        cursor = self.cursor
        if (
            self.passed_bookmark
            or cursor.page_size < cursor.full
            or not cursor.page_size
        ):
            return None
        self.cursor.page += 1
        return self.cursor.page


Pass = t.Union[ExportPass, RefreshPass]  # noqa: UP007 - a runtime alias on 3.10


class PassPaginator(BaseAPIPaginator[int]):
    """The SDK's paginator, reading the cursor of the pass it was handed."""

    def __init__(self, current: Pass) -> None:
        """Start where the pass starts."""
        super().__init__(start_value=current.cursor.after)
        self._pass = current
        self._next: int | None = None

    @override
    def has_more(self, response: requests.Response) -> bool:
        self._next = self._pass.token()
        return self._next is not None

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return self._next
