"""The two ways the stream reads a project: the export pass and the refresh pass."""

from __future__ import annotations

import typing as t

from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

if t.TYPE_CHECKING:
    import requests

    from tap_voicegain.progress import PassProgress

FINISHED_PHASES = frozenset({"DONE", "ERROR"})


class ExportPass:
    """Incremental export: calls after the bookmark, in callId order.

    Keyset paging: each request asks for the calls after the last one received
    (``afterCallId`` moves, ``page`` stays 1). The vendor's loop keeps
    ``afterCallId`` fixed and walks ``page``; offsets then shift whenever the
    result list changes between requests (a call finishing, a call expiring),
    which skips or repeats calls. A short page ends the pass: under
    ``consecutive=true`` it means the list was cut at a call still processing,
    or that there are no more calls.
    """

    moves_bookmark = True

    def __init__(self, progress: PassProgress) -> None:
        """Read after ``progress.start``."""
        self.progress = progress

    def start_token(self) -> int:
        """The first ``afterCallId``."""
        return self.progress.start

    def params(self, token: int) -> dict[str, t.Any]:
        """Query parameters of the request for ``token``."""
        return {"consecutive": "true", "afterCallId": token, "page": 1}

    def keep(self, record: dict[str, t.Any]) -> bool:  # noqa: ARG002
        """Every call of an export page is emitted."""
        return True

    def has_more(self) -> bool:
        """A full page: there may be more."""
        return self.progress.page_size >= self.progress.per_page

    def next_token(self, token: int) -> int:  # noqa: ARG002
        """Continue after the last call received."""
        return self.progress.last_call_id


class RefreshPass(ExportPass):
    """Re-read calls of the last days (QA reviews land late); the bookmark stays.

    Calls newer than the bookmark, or not finished, are left to the export pass:
    the refresh emits only calls the export pass has already emitted once.
    """

    moves_bookmark = False

    def __init__(self, progress: PassProgress, bookmark: int, since: str) -> None:
        """Re-read calls up to ``bookmark`` that started at or after ``since``."""
        super().__init__(progress)
        self.bookmark = bookmark
        self.since = since
        self.passed_bookmark = False

    @override
    def start_token(self) -> int:
        return 1

    @override
    def params(self, token: int) -> dict[str, t.Any]:
        # Without consecutive the list is not cut at unfinished calls; sorted by
        # documentId (= callId) so the walk can stop once past the bookmark.
        return {
            "page": token,
            "sort_by": "documentId",
            "sort_dir": "asc",
            "fromTime": self.since,
        }

    @override
    def keep(self, record: dict[str, t.Any]) -> bool:
        if record["callId"] > self.bookmark:
            self.passed_bookmark = True
            return False
        return record.get("progressPhase") in FINISHED_PHASES

    @override
    def has_more(self) -> bool:
        return super().has_more() and not self.passed_bookmark

    @override
    def next_token(self, token: int) -> int:
        return token + 1


class PassPaginator(BaseAPIPaginator[int]):
    """The SDK's paginator, driven by the pass being read."""

    def __init__(self, current: ExportPass) -> None:
        """Start at the pass's first token."""
        super().__init__(start_value=current.start_token())
        self._pass = current

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self._pass.has_more()

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return self._pass.next_token(self.current_value)
