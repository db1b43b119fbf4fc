"""The two ways a project is read: the export pass and the refresh pass.

Both walk the calls by key (keyset paging): each request asks for the calls
after the last one received (``afterCallId`` moves, ``page`` stays 1). The
vendor's loop keeps ``afterCallId`` fixed and walks ``page``; offsets then shift
whenever the result list changes between requests (a call finishing, expiring
or being deleted), which skips or repeats calls. A short page ends a pass.

Each pass owns a :class:`Cursor`, which only the stream moves (with the page
it decoded and the records it wrote) and the paginator reads.
"""

from __future__ import annotations

import dataclasses
import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

if t.TYPE_CHECKING:
    import requests

FINISHED_PHASES = frozenset({"DONE", "ERROR"})


@dataclasses.dataclass
class Cursor:
    """Where a pass stands: what decides the next request."""

    after: int  # afterCallId of the next request
    per_page: int
    emitted: int = 0  # callId of the last record written (the export's bookmark)
    page_size: int = 0  # calls in the latest page

    def __post_init__(self) -> None:
        """Nothing emitted yet: the bookmark is where the pass starts."""
        self.emitted = self.after


class ExportPass:
    """Incremental export: finished calls after the bookmark, in callId order.

    ``consecutive=true`` cuts the list at the first call still processing, so
    a short page means that call, or the end of the list.
    """

    label = "export"
    moves_bookmark = True

    def __init__(self, start: int, per_page: int) -> None:
        """Read the calls after callId ``start``."""
        self.start = start
        self.cursor = Cursor(after=start, per_page=per_page)

    def params(self) -> dict[str, t.Any]:
        """Query parameters of the next request."""
        return {"consecutive": "true", "afterCallId": self.cursor.after, "page": 1}

    def keep(self, record: dict[str, t.Any]) -> bool:  # noqa: ARG002
        """Every call of an export page is emitted."""
        return True

    def take(self, page: list[dict[str, t.Any]]) -> None:
        """Move the cursor past a decoded page."""
        self.cursor.page_size = len(page)
        if page:
            self.cursor.after = page[-1]["callId"]

    def has_more(self) -> bool:
        """A full page: there may be more."""
        return self.cursor.page_size >= self.cursor.per_page


class RefreshPass:
    """Re-read finished calls of the last days (QA reviews land late).

    The bookmark stays where the export left it; calls after it, or not
    finished, are left to the export pass, so the refresh re-emits only calls
    the export has emitted once. Without ``consecutive`` the list is not cut at
    unfinished calls; sorted by documentId (= callId) it is walked by key and
    the walk stops once past the bookmark.
    """

    label = "refresh"
    moves_bookmark = False

    def __init__(
        self,
        bookmark: int,
        since: str,
        per_page: int,
        skip: frozenset[int] = frozenset(),
    ) -> None:
        """Re-read calls up to ``bookmark`` that started at or after ``since``.

        ``skip``: stuck calls the export stepped over; a later run's first pass
        emits them once they finish, so the refresh leaves them alone.
        """
        self.start = 0
        self.bookmark = bookmark
        self.skip = skip
        self.since = since
        self.cursor = Cursor(after=0, per_page=per_page)
        self.passed_bookmark = False

    def params(self) -> dict[str, t.Any]:
        """Query parameters of the next request."""
        return {
            "afterCallId": self.cursor.after,
            "page": 1,
            "sort_by": "documentId",
            "sort_dir": "asc",
            "fromTime": self.since,
        }

    def keep(self, record: dict[str, t.Any]) -> bool:
        """Finished calls the export has already emitted."""
        if record["callId"] > self.bookmark:
            self.passed_bookmark = True
            return False
        if record["callId"] in self.skip:
            return False
        return record.get("progressPhase") in FINISHED_PHASES

    def take(self, page: list[dict[str, t.Any]]) -> None:
        """Move the cursor past a decoded page."""
        self.cursor.page_size = len(page)
        if page:
            self.cursor.after = page[-1]["callId"]

    def has_more(self) -> bool:
        """A full page that has not passed the bookmark."""
        full = self.cursor.page_size >= self.cursor.per_page
        return full and not self.passed_bookmark


Pass = t.Union[ExportPass, RefreshPass]  # noqa: UP007 - a runtime alias on 3.10


class PassPaginator(BaseAPIPaginator[int]):
    """The SDK's paginator, reading the cursor of the pass it was handed."""

    def __init__(self, current: Pass) -> None:
        """Start where the pass starts."""
        super().__init__(start_value=current.cursor.after)
        self._pass = current

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self._pass.has_more()

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return self._pass.cursor.after
