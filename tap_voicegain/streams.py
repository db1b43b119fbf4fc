"""The ``calls`` stream: every call of each project, exported by callId."""

from __future__ import annotations

import datetime as dt
import typing as t

import msgspec
import requests
from singer_sdk.helpers.conform import TypeConformanceLevel
from singer_sdk.mapper import SameRecordTransform
from typing_extensions import override

from tap_voicegain import errors, settings
from tap_voicegain.client import VoicegainStream
from tap_voicegain.output import BufferedMsgSpecWriter
from tap_voicegain.passes import ExportPass, PassPaginator, RefreshPass
from tap_voicegain.progress import PassProgress
from tap_voicegain.records import CallNormalizer
from tap_voicegain.schema import calls_schema

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers.types import Context


class CallsStream(VoicegainStream):
    """Calls of each configured project, in callId order."""

    name = "calls"
    path = "/sa/call"
    replication_key = "callId"
    # consecutive=true sorts by callId, so the bookmark can advance record by record
    # and an interrupted run resumes where it stopped.
    is_sorted = True
    check_sorted = True
    schema = calls_schema()
    # Records leave CallNormalizer already typed and checked against this schema.
    TYPE_CONFORMANCE_LEVEL = TypeConformanceLevel.NONE

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Set up the record normaliser and the key."""
        super().__init__(*args, **kwargs)
        # One project: callId is unique. Several: nothing in the vendor's docs
        # promises one callId sequence across projects, so contextId joins the key
        # (README, "Several projects").
        self.primary_keys = (
            ("contextId", "callId") if self.config.get("projects") else ("callId",)
        )
        self.normalizer = CallNormalizer(
            csv_timezone=self.config.get("csv_timezone", "UTC"),
            keep_unknown=self.config.get("keep_unknown_fields", True),
        )
        self._pass = ExportPass(PassProgress(settings.DEFAULT_PROJECT, 0, 1))
        self._reported_fields: set[str] = set()
        self.failed_projects: dict[str, str] = {}
        self._direct_output: bool | None = None
        self._bookmark_state: dict[str, t.Any] | None = None
        self._context_ids = {
            name: settings.jwt_claims(project.token).get("contextId")
            for name, project in self._projects.items()
        }

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
        text = str(value)
        if type(value) is bool or not text.isdigit():
            project = (context or {}).get("project")
            msg = (
                f"the state's bookmark for project '{project}' is {value!r}; expected "
                "a callId (an integer >= 0). Fix or remove that state entry."
            )
            raise ValueError(msg)
        if type(value) is not int:
            # Store it back as a number: the SDK compares it with each record's.
            self.get_context_state(context)["replication_key_value"] = int(text)
        return int(text)

    # --- passes ---

    @override
    def get_records(self, context: Context | None) -> Iterable[dict[str, t.Any]]:
        project = self.use_project(context)
        per_page = int(self.config.get("per_page", settings.PER_PAGE_DEFAULT))
        try:
            progress = PassProgress(project, self.starting_call_id(context), per_page)
            yield from self._read_pass(ExportPass(progress), context)
            since = self._refresh_since()
            if since is not None:
                refresh = RefreshPass(
                    PassProgress(project, 0, per_page), progress.last_call_id, since
                )
                yield from self._read_pass(refresh, context)
        except Exception as exc:
            if len(self._projects) == 1:
                raise
            # Other projects go on; the run fails after the last one.
            self.failed_projects[project] = f"{type(exc).__name__}: {exc}"
            self.logger.error("Project %s failed: %s", project, exc)  # noqa: TRY400
        finally:
            writer = self._tap.message_writer
            if isinstance(writer, BufferedMsgSpecWriter):
                writer.flush()
        if project == list(self._projects)[-1] and self.failed_projects:
            # The last project is done: the others' STATE is out, now fail the run.
            self._write_state_message()
            listed = "; ".join(
                f"project '{name}': {why}" for name, why in self.failed_projects.items()
            )
            count = len(self.failed_projects)
            msg = f"{count} of the configured projects failed: {listed}"
            raise errors.ProjectsFailedError(msg)

    def _refresh_since(self) -> str | None:
        """``fromTime`` of the refresh pass: N days ago, or ``from_time`` if later."""
        days = int(self.config.get("refresh_window_days") or 0)
        if days <= 0:
            return None
        since = dt.datetime.now(dt.timezone.utc) - dt.timedelta(days=days)
        from_time = self.config.get("from_time")
        if from_time:
            # Compared as instants: the setting may carry any UTC offset.
            configured = dt.datetime.fromisoformat(
                str(from_time).replace("Z", "+00:00")
            )
            if configured.tzinfo is None:
                configured = configured.replace(tzinfo=dt.timezone.utc)
            if configured > since:
                return str(from_time)
        return since.strftime("%Y-%m-%dT%H:%M:%SZ")

    def _read_pass(
        self,
        current: ExportPass,
        context: Context | None,
    ) -> Iterable[dict[str, t.Any]]:
        self._pass = current
        self._bookmark_state = None
        progress = current.progress
        retries_before = self.retries
        try:
            yield from super().get_records(context)
            progress.ended_because = (
                self._why_the_pass_ended()
                if current.moves_bookmark
                else "the refresh window was read"
            )
        except Exception as exc:
            progress.ended_because = f"an error: {type(exc).__name__}"
            raise
        finally:
            label = "export" if current.moves_bookmark else "refresh"
            progress.log_summary(self.logger, self.retries - retries_before, label)

    @override
    def _increment_stream_state(
        self,
        latest_record: dict[str, t.Any],
        *,
        context: Context | None = None,
    ) -> None:
        # Overridden (private in the SDK): the refresh pass, which re-emits older
        # calls, never moves the bookmark; and the export pass sets it directly
        # on the partition's state, which the SDK does with much more work per
        # record. _read_page has already checked that callIds only increase.
        if self._pass.moves_bookmark:
            state = self._bookmark_state
            if state is None:
                state = self._bookmark_state = self.get_context_state(context)
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = latest_record["callId"]

    @override
    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        # Overridden (private in the SDK) for speed. With every column selected,
        # no stream map and no flattening, the record goes straight to the
        # writer: no per-record selection walk, conformance (records are typed
        # already) or message object. Otherwise the SDK's own path runs.
        if self._direct_output is None:
            self._direct_output = self._can_write_directly()
        if not self._direct_output:
            super()._write_record_message(record)
            return
        writer = t.cast("BufferedMsgSpecWriter", self._tap.message_writer)
        writer.write_record(self.name, record, self._stream_version)
        self.state_manager.is_flushed = False

    def _can_write_directly(self) -> bool:
        maps = self.stream_maps
        return (
            isinstance(self._tap.message_writer, BufferedMsgSpecWriter)
            and all(self.mask.values())
            and len(maps) == 1
            and type(maps[0]) is SameRecordTransform
            and maps[0].stream_alias == self.name
            and not maps[0].flattening_enabled
        )

    @override
    def generate_child_contexts(
        self,
        record: dict[str, t.Any],
        context: Context | None,
    ) -> Iterable[Context | None]:
        # No child streams: nothing to hand down, and no per-record work for it.
        if self.child_streams:  # pragma: no cover - the tap defines none
            yield from super().generate_child_contexts(record, context)

    # --- requests ---

    @override
    def get_new_paginator(self) -> PassPaginator:
        return PassPaginator(self._pass)

    @override
    def get_url_params(
        self,
        context: Context | None,
        next_page_token: int | None,
    ) -> dict[str, t.Any]:
        config = self.config
        token = self._pass.start_token() if next_page_token is None else next_page_token
        params: dict[str, t.Any] = {
            "format": config.get("format", "json"),
            **self._pass.params(token),
            "per_page": self._pass.progress.per_page,
        }
        if config.get("from_time") and "fromTime" not in params:
            params["fromTime"] = config["from_time"]
        if config.get("to_time"):
            params["toTime"] = config["to_time"]
        for setting, param in (
            ("aivr_app_ids", "aivrAppId"),
            ("agent_ids", "agentId"),
            ("queue_ids", "queueId"),
        ):
            if config.get(setting):
                params[param] = list(config[setting])  # repeated keys, as in the guide
        return params

    # --- answers ---

    @override
    def parse_response(self, response: requests.Response) -> Iterable[dict[str, t.Any]]:
        current = self._pass
        progress = current.progress
        page = self._read_page(response)  # whole page first: a bad page emits nothing
        context_id = self._context_ids.get(progress.project)
        remaining = response.headers.get("X-Total-Count", "")
        progress.page_done(len(page), int(remaining) if remaining.isdigit() else None)
        for record in page:
            progress.last_seen = record["callId"]
            if not current.keep(record):
                continue
            if record["contextId"] is None:
                record["contextId"] = context_id  # the token names its project
                if context_id is None and "contextId" in self.primary_keys:
                    msg = (
                        f"callId {record['callId']} of project '{progress.project}' "
                        "has no contextId, which is part of the key with projects"
                    )
                    raise errors.BadPageError(msg)
            yield record
            # The SDK has now written this record (and moved the bookmark to it).
            progress.last_call_id = record["callId"]
        if page and current.moves_bookmark:
            # A STATE message after every page, not only every 10,000 records.
            self._write_state_message()
        self._report_unknown_fields()
        if page:
            progress.log_page(self.logger)

    def _read_page(self, response: requests.Response) -> list[dict[str, t.Any]]:
        """Records of one page, checked: parsed, typed and in callId order."""
        progress = self._pass.progress
        where = (
            f"page {progress.pages + 1} of project '{progress.project}' "
            f"({errors.request_summary(getattr(response.request, 'url', None))})"
        )
        wanted = self.config.get("format", "json")
        content_type = response.headers.get("Content-Type", "").lower()
        try:
            if "html" in content_type or response.content[:64].lstrip()[:1] == b"<":
                msg = (
                    f"an HTML page ({content_type or 'no Content-Type'}) instead of "
                    f"{wanted.upper()}: is api_url the API (…/v1) and not a proxy or "
                    "login page?"
                )
                raise ValueError(msg)  # noqa: TRY301 - one handler names the page
            if wanted == "csv":
                page = list(self.normalizer.iter_csv(response.text))
            else:
                page = [
                    self.normalizer.from_json(i) for i in self._json_array(response)
                ]
        except ValueError as exc:
            msg = f"The Voicegain API answered {where} with {exc}"
            raise errors.BadPageError(msg) from exc
        after = progress.last_seen
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
            # msgspec straight from the bytes: several times faster than
            # response.json(), which decodes to text first.
            body = msgspec.json.decode(response.content)
        except msgspec.DecodeError as exc:
            msg = f"JSON that does not parse ({exc}; {len(response.content)} bytes)"
            raise ValueError(msg) from None
        if not isinstance(body, list):
            shown = errors.api_message(response)
            msg = f"a JSON {type(body).__name__} instead of an array of calls: {shown}"
            raise ValueError(msg)  # noqa: TRY004 - reported as a bad page
        return body

    def _why_the_pass_ended(self) -> str:
        """Ask once, without ``consecutive``, what follows the last call exported."""
        last = self._pass.progress.last_call_id
        params: dict[str, str | int] = {
            "format": "json",
            "afterCallId": last,
            "page": 1,
            "per_page": 1,
        }
        try:
            response = self.requests_session.get(
                self.get_url(None),
                params=params,
                headers=self.http_headers,
                auth=self.authenticator,
                timeout=self.timeout,
            )
            following = response.json() if response.ok else None
        except (requests.RequestException, ValueError):
            following = None
        if following == []:
            return "no more calls"
        if isinstance(following, list) and isinstance(following[0], dict):
            call_id, phase = (
                following[0].get("callId"),
                following[0].get("progressPhase"),
            )
            if str(call_id).isdigit() and int(str(call_id)) > last:
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
                where,
                ", ".join(sorted(new)),
            )
