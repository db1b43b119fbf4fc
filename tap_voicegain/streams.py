"""The ``calls`` stream: every call of a project, exported by callId."""

from __future__ import annotations

import typing as t

from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.pagination import BaseAPIPaginator
from typing_extensions import override

from tap_voicegain import errors, settings
from tap_voicegain.client import VoicegainStream
from tap_voicegain.progress import PassProgress
from tap_voicegain.records import CallNormalizer
from tap_voicegain.schema import calls_schema

import requests

if t.TYPE_CHECKING:
    from collections.abc import Iterable
    from singer_sdk.helpers.types import Context


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
        progress = PassProgress(
            project,
            self.starting_call_id(context),
            int(self.config.get("per_page", settings.PER_PAGE_DEFAULT)),
        )
        self._progress = progress
        retries_before = self.retries
        try:
            yield from super().get_records(context)
            progress.ended_because = self._why_the_pass_ended()
        except Exception as exc:
            progress.ended_because = f"an error: {type(exc).__name__}"
            raise
        finally:
            progress.log_summary(self.logger, self.retries - retries_before)

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
        page = self._read_page(response)  # whole page first: a bad page emits nothing
        remaining = response.headers.get("X-Total-Count", "")
        progress.page_done(len(page), int(remaining) if remaining.isdigit() else None)
        for record in page:
            yield record
            # The SDK has now written this record and moved the bookmark to it.
            progress.last_call_id = record["callId"]
        if page:
            # A STATE message after every page, not only every 10,000 records.
            self._write_state_message()
        self._report_unknown_fields()
        progress.log_page(self.logger)

    def _read_page(self, response: requests.Response) -> list[dict[str, t.Any]]:
        """Records of one page, checked: parsed, typed and in callId order."""
        progress = self._progress
        where = (
            f"page {progress.pages + 1} of project '{progress.project}' "
            f"(afterCallId={progress.last_call_id})"
        )
        wanted = self.config.get("format", "json")
        content_type = response.headers.get("Content-Type", "").lower()
        try:
            if "html" in content_type or response.text.lstrip()[:1] == "<":
                msg = (
                    f"an HTML page ({content_type or 'no Content-Type'}) instead of "
                    f"{wanted.upper()}: is api_url the API (…/v1) and not a proxy or "
                    "login page?"
                )
                raise ValueError(msg)  # noqa: TRY301 - one handler names the page
            if wanted == "csv":
                page = list(self.normalizer.iter_csv(response.text))
            else:
                page = [self.normalizer.from_json(item) for item in self._json_array(response)]
        except ValueError as exc:
            msg = f"The Voicegain API answered {where} with {exc}"
            raise errors.BadPageError(msg) from exc
        after = progress.last_call_id
        for record in page:
            if record["callId"] <= after:
                msg = (
                    f"The Voicegain API answered {where} with callId "
                    f"{record['callId']} after {after}: calls are not in callId order"
                )
                raise errors.BadPageError(msg)
            after = record["callId"]
        return page

    @staticmethod
    def _json_array(response: requests.Response) -> list[t.Any]:
        try:
            body = response.json()
        except ValueError as exc:
            msg = f"JSON that does not parse ({exc}; {len(response.content)} bytes)"
            raise ValueError(msg) from None
        if not isinstance(body, list):
            shown = errors.api_message(response)
            msg = f"a JSON {type(body).__name__} instead of an array of calls: {shown}"
            raise ValueError(msg)  # noqa: TRY004 - reported as a bad page
        return body

    def _why_the_pass_ended(self) -> str:
        """Ask once, without ``consecutive``, what follows the last call exported."""
        progress = self._progress
        params = {
            "format": "json", "afterCallId": progress.last_call_id,
            "page": 1, "per_page": 1,
        }
        try:
            response = self.requests_session.get(
                self.get_url(None), params=params, headers=self.http_headers,
                auth=self.authenticator, timeout=self.timeout,
            )
            following = response.json() if response.ok else None
        except (requests.RequestException, ValueError):
            following = None
        if following == []:
            return "no more calls"
        if isinstance(following, list) and isinstance(following[0], dict):
            call_id, phase = following[0].get("callId"), following[0].get("progressPhase")
            if str(call_id).isdigit() and int(call_id) > progress.last_call_id:
                return f"a call still processing at callId {call_id} ({phase})"
        return "a short page (no more calls, or a call still processing)"

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
