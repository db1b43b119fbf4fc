"""The ``calls`` stream: every call of a project, exported by callId."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_voicegain import settings
from tap_voicegain.client import VoicegainStream
from tap_voicegain.records import CallNormalizer
from tap_voicegain.schema import calls_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    import requests
    from singer_sdk.helpers.types import Context


class PassProgress:
    """What one export pass has read so far; shared by stream and paginator."""

    def __init__(self, project: str, after_call_id: int, per_page: int) -> None:
        """Start a pass after ``after_call_id``."""
        self.project = project
        self.start = after_call_id
        self.last_call_id = after_call_id
        self.per_page = per_page
        self.pages = 0
        self.calls = 0
        self.page_size = 0  # records in the latest page


class AfterCallIdPaginator(BaseAPIPaginator[int]):
    """Keyset paging: each request asks for the calls after the last one received.

    The vendor's loop keeps ``afterCallId`` fixed and walks ``page``; offsets then
    shift whenever the result list changes between requests (a call finishing, a
    call expiring), which skips or repeats calls. Moving ``afterCallId`` to the
    last callId received and asking for page 1 reads the same calls in the same
    order and cannot skip any. A short page ends the pass: under
    ``consecutive=true`` it means the list was cut at a call still processing
    (or there are no more calls).
    """

    def __init__(self, progress: PassProgress) -> None:
        """Page through a pass, starting after ``progress.start``."""
        super().__init__(start_value=progress.start)
        self._progress = progress

    @override
    def has_more(self, response: requests.Response) -> bool:
        return self._progress.page_size >= self._progress.per_page

    @override
    def get_next(self, response: requests.Response) -> int | None:
        return self._progress.last_call_id


class CallsStream(VoicegainStream):
    """Calls of each configured project, in callId order."""

    name = "calls"
    path = "/sa/call"
    primary_keys = ("callId",)
    replication_key = "callId"
    # consecutive=true sorts by callId, so the bookmark can advance record by record
    # and an interrupted run resumes where it stopped.
    is_sorted = True
    check_sorted = True
    schema = calls_schema()
    # Records leave CallNormalizer already typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:  # noqa: ANN401
        """Set up the record normaliser."""
        super().__init__(*args, **kwargs)
        self.normalizer = CallNormalizer(
            csv_timezone=self.config.get("csv_timezone", "UTC"),
            keep_unknown=self.config.get("keep_unknown_fields", True),
        )
        self._progress = PassProgress(settings.DEFAULT_PROJECT, 0, 1)
        self._reported_fields: set[str] = set()

    @property
    @override
    def partitions(self) -> list[dict[str, t.Any]]:
        """One partition (and one bookmark) per project; never holds a token."""
        return [{"project": name} for name in self._projects]

    def starting_call_id(self, context: Context | None) -> int:
        """The bookmark of this project, else ``start_after_call_id``."""
        value = self.get_starting_replication_key_value(context)
        if value in {None, ""}:
            return int(self.config.get("start_after_call_id", 0))
        return int(t.cast("int | str", value))

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        project = self.use_project(context)
        self._progress = PassProgress(
            project,
            self.starting_call_id(context),
            int(self.config.get("per_page", settings.PER_PAGE_DEFAULT)),
        )
        yield from super().get_records(context)

    @override
    def get_new_paginator(self) -> AfterCallIdPaginator:
        return AfterCallIdPaginator(self._progress)

    @override
    def get_url_params(
        self, context: Context | None, next_page_token: int | None,
    ) -> dict[str, t.Any]:
        config = self.config
        params: dict[str, t.Any] = {
            "format": config.get("format", "json"),
            "consecutive": "true",
            "afterCallId": self._progress.start if next_page_token is None else next_page_token,
            "page": 1,
            "per_page": self._progress.per_page,
        }
        if config.get("from_time"):
            params["fromTime"] = config["from_time"]
        if config.get("to_time"):
            params["toTime"] = config["to_time"]
        for setting, param in (
            ("aivr_app_ids", "aivrAppId"),
            ("agent_ids", "agentId"),
            ("queue_ids", "queueId"),
        ):
            if config.get(setting):
                params[param] = list(config[setting])  # repeated keys, as the guide shows
        return params

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        progress = self._progress
        progress.page_size = 0
        after = progress.last_call_id
        for record in self._records_of(response):
            call_id = record["callId"]
            if call_id <= after:
                msg = (
                    f"page {progress.pages + 1} of the export after callId "
                    f"{progress.start}: callId {call_id} is not greater than "
                    f"{after}; the API did not return calls in callId order"
                )
                raise RuntimeError(msg)
            after = call_id
            progress.page_size += 1
            yield record
            # The SDK has written this record and moved the bookmark to it.
            progress.last_call_id = call_id
        progress.pages += 1
        progress.calls += progress.page_size
        if progress.page_size:
            # A STATE message after every page, not only every 10,000 records.
            self._write_state_message()
        self._report_unknown_fields()
        self.logger.info(
            "Project %s: page %d, %d calls (%d so far), up to callId %d",
            progress.project, progress.pages, progress.page_size, progress.calls,
            progress.last_call_id,
        )

    def _records_of(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        if self.config.get("format", "json") == "csv":
            return self.normalizer.iter_csv(response.text)
        return map(self.normalizer.from_json, response.json())

    def _report_unknown_fields(self) -> None:
        """Name the fields the schema does not know, once per run."""
        new = self.normalizer.unknown_fields - self._reported_fields
        if new:
            self._reported_fields |= new
            where = "kept in _extra" if self.normalizer.keep_unknown else "dropped"
            self.logger.warning(
                "The API sent fields this tap's schema does not know (%s): %s",
                where, ", ".join(sorted(new)),
            )
