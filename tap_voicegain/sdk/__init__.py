"""The seam to the Singer SDK: the one place that names its private parts.

Each use is listed in ``docs/sdk-seam.md`` with the test that guards it, and
enabled only on the SDK series those tests cover (:data:`COVERED_SDK_SERIES`).
"""

from __future__ import annotations

import contextlib
import json
import logging
import typing as t
from importlib import metadata

from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.helpers._classproperty import classproperty
from singer_sdk.mapper import RemoveRecordTransform, SameRecordTransform

from tap_voicegain import errors
from tap_voicegain.sdk import batching, envconfig
from tap_voicegain.sdk.output import BufferedMsgSpecWriter

if t.TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Iterable, Iterator

    import requests
    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.helpers.types import Context
    from singer_sdk.streams import RESTStream, Stream

# SDK releases whose RECORD and STATE messages the golden test compares with
# the SDK's own path (tests/test_record_writer.py).
COVERED_SDK_SERIES = ("0.54.",)


def sdk_covered(version: str | None = None) -> bool:
    """Whether the installed singer-sdk is one the golden test covers."""
    if version is None:
        try:
            version = metadata.version("singer-sdk")
        except metadata.PackageNotFoundError:  # pragma: no cover - a broken install
            return False
    return version.startswith(COVERED_SDK_SERIES)


class RecordWriter:
    """The one way a record leaves the tap: mapped, then a RECORD or a batch row.

    Mapping is the SDK's; when it changes nothing, records are written as they
    are (docs/design.md).
    """

    def __init__(self, stream: Stream, writer: object) -> None:
        """Write ``stream``'s records with the tap's message ``writer``."""
        self._stream = stream
        self._writer = writer
        self._identity: bool | None = None
        self.extracted_at: dt.datetime | None = None  # set by the walk, per page
        self.batching = False  # records go to batch files (get_batches), not here

    @property
    def identity(self) -> bool:
        """True when mapping changes nothing and records are written as they are."""
        if self._identity is None:
            stream = self._stream
            maps = stream.stream_maps
            self._identity = (
                sdk_covered()
                and isinstance(self._writer, BufferedMsgSpecWriter)
                and all(stream.mask.values())
                and len(maps) == 1
                and type(maps[0]) is SameRecordTransform
                and maps[0].stream_alias == stream.name
                and not maps[0].flattening_enabled
            )
        return self._identity

    def mapped(
        self, record: dict[str, t.Any]
    ) -> Iterator[tuple[str, dict[str, t.Any]]]:
        """``(output stream, record)`` for each record the maps make of ``record``."""
        stream = self._stream
        if self.identity:
            yield stream.name, record
            return
        pop_deselected_record_properties(record, stream.schema, stream.mask)
        for stream_map in stream.stream_maps:
            if isinstance(stream_map, RemoveRecordTransform):
                continue
            try:
                out = stream_map.transform(record)
            except Exception as exc:  # noqa: BLE001 - any error of a user's expression
                maps = (stream.config.get("stream_maps") or {}).get(stream.name)
                msg = (
                    f"The stream map of '{stream.name}' failed on callId "
                    f"{record.get('callId')}: {type(exc).__name__}: {exc}; stream_maps "
                    f"for '{stream.name}': {json.dumps(maps, default=str)[:300]}"
                )
                raise errors.StreamMapError(msg) from None
            if out is not None:  # a filter map may drop it
                yield stream_map.stream_alias, out

    def write(self, record: dict[str, t.Any]) -> None:
        """Write ``record``: a RECORD message per output stream."""
        stream = self._stream
        writer = t.cast("BufferedMsgSpecWriter", self._writer)
        version = stream._stream_version  # noqa: SLF001
        for alias, out in self.mapped(record):
            writer.write_record(alias, out, version, self.extracted_at)
        stream.state_manager.is_flushed = False


class StreamSeam:
    """The SDK's private per-record hooks of a stream, overridden here only.

    Records go through :class:`RecordWriter`, the walk moves the bookmark, and a
    prefetched page is taken instead of sent.
    """

    record_writer: RecordWriter

    def _write_record_message(self, record: dict[str, t.Any]) -> None:
        self.record_writer.write(record)

    def _increment_stream_state(
        self, latest_record: dict[str, t.Any], *, context: Context | None = None
    ) -> None:
        """The walk moves the bookmark (``streams/walk.py``)."""

    def _request(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        return self.send_page(prepared_request, context)

    def get_batches(
        self, batch_config: BatchConfig, context: Context | None = None
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Batch files holding what RECORD messages would (maps, selection)."""
        stream = t.cast("Stream", self)
        self.record_writer.batching = True
        try:
            records = stream._sync_records(context, write_messages=False)  # noqa: SLF001
            yield from batching.batches(
                stream, batch_config, self.record_writer, records
            )
        finally:
            self.record_writer.batching = False

    def send_page(
        self, prepared_request: requests.PreparedRequest, context: Context | None
    ) -> requests.Response:
        """One attempt at a page request, as the SDK sends it (auth, metric, checks)."""
        return super()._request(prepared_request, context)  # type: ignore[misc, no-any-return]


class _NoSyncErrorLine(logging.Filter):
    """Drops the SDK's "An unhandled error occurred while syncing" line."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.msg != "An unhandled error occurred while syncing '%s'"


@contextlib.contextmanager
def one_error_line(streams: Iterable[Stream]) -> Iterator[None]:
    """While the run lasts, a failure is one line, not the SDK's and the tap's."""
    quiet = _NoSyncErrorLine()
    loggers = [stream.logger for stream in streams]
    for logger in loggers:
        logger.addFilter(quiet)
    try:
        yield
    finally:
        for logger in loggers:
            logger.removeFilter(quiet)


def write_state(stream: Stream) -> None:
    """Write a STATE message now (the SDK skips it when nothing changed)."""
    stream.state_manager.is_flushed = False
    stream._write_state_message()  # noqa: SLF001


def request_metric(
    stream: RESTStream[t.Any],
    endpoint: str,
    response: requests.Response,
    context: Context | None,
) -> None:
    """The SDK's ``http_request_duration`` metric for a request the tap sent itself."""
    stream._write_request_duration_log(  # noqa: SLF001
        endpoint=endpoint, response=response, context=context, extra_tags=None
    )


class TapSeam:
    """The SDK's private hooks of a tap (settings, signals, environment), here only."""

    @classproperty
    def _env_var_config(cls) -> dict[str, t.Any]:  # noqa: N805
        schema = cls.config_jsonschema  # type: ignore[attr-defined]
        cls.append_builtin_config(schema)  # type: ignore[attr-defined]
        return envconfig.parse_env(schema, cls._env_var_prefix)  # type: ignore[attr-defined]

    def _validate_config(self, *, raise_errors: bool = True) -> list[str]:
        found = super()._validate_config(raise_errors=False)  # type: ignore[misc]
        return self.check_settings(
            t.cast("list[str]", found), raise_errors=raise_errors
        )

    def check_settings(self, found: list[str], *, raise_errors: bool) -> list[str]:
        """Add the tap's own checks to the schema's ``found`` problems."""
        raise NotImplementedError

    def _handle_termination(self, signum: int, _frame: object) -> None:
        self.on_signal(signum)

    def on_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT arrived."""
        raise NotImplementedError
