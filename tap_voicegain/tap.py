"""The Voicegain tap: its settings, its streams, and how a run starts and ends."""

from __future__ import annotations

import contextlib
import copy
import functools
import gc
import io
import itertools
import json
import logging
import os
import signal
import sys
import threading
import typing as t
from pathlib import Path

from singer_sdk import Tap
from singer_sdk.exceptions import ConfigValidationError, MappingError
from typing_extensions import override

from tap_voicegain import errors, sdk, settings
from tap_voicegain import state as tap_state
from tap_voicegain.http.ratelimit import RateLimits
from tap_voicegain.http.redact import Redaction, held, redact
from tap_voicegain.sdk.batching import batch_config_of
from tap_voicegain.sdk.output import BufferedMsgSpecWriter
from tap_voicegain.settings import checks
from tap_voicegain.streams.calls import CallSegmentsStream, CallsStream
from tap_voicegain.streams.transcripts import TranscriptsStream
from tap_voicegain.streams.walk import CallListStream

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from types import FrameType

    from singer_sdk.streams import Stream

# After SIGTERM/SIGINT, how long the final STATE may wait for a target that
# does not read; then the tap ends without it (the last STATE written stands).
STOP_DEADLINE_SECONDS = 5.0
# Allocations between young-generation collections (Python's: 700); a page of
# 1,000 calls allocates some 50,000 containers, none in a cycle.
GC_GEN0_THRESHOLD = 50_000


@contextlib.contextmanager
def tuned_gc() -> Iterator[None]:
    """The cyclic GC set for an export run (docs/design.md), restored afterwards."""
    thresholds = gc.get_threshold()
    gc.freeze()
    gc.set_threshold(GC_GEN0_THRESHOLD, *thresholds[1:])
    try:
        yield
    finally:
        gc.set_threshold(*thresholds)
        gc.unfreeze()


class TapVoicegain(sdk.TapSeam, Tap):
    """Singer tap for Voicegain Speech Analytics call data."""

    name = "tap-voicegain"
    package_name = "tap-voicegain"
    # msgspec serialises records several times faster than the default writer.
    message_writer_class = BufferedMsgSpecWriter
    config_jsonschema = settings.config_schema()

    @override
    def __init__(self, *args: t.Any, **kwargs: t.Any) -> None:
        """Refuse a state that is not an object before the SDK reads it as none."""
        given = kwargs.get("state")
        if given is not None and not isinstance(given, (dict, str, os.PathLike)):
            tap_state.check_object(given)  # raises, naming what it is
        self._stopping = False
        self.redaction = Redaction(self)
        # The SDK installs its signal handlers here; the run puts these back.
        self._handlers = {
            number: signal.getsignal(number)
            for number in (signal.SIGINT, signal.SIGTERM)
            if threading.current_thread() is threading.main_thread()
        }
        super().__init__(*args, **kwargs)

    @functools.cached_property
    def rate_limits(self) -> RateLimits:
        """The run's rate limiters, shared by every stream (one per account)."""
        return RateLimits(self.config.get("max_requests_per_minute"), self.logger)

    @classmethod
    @override
    def invoke(  # type: ignore[override]
        cls,
        *,
        about: bool = False,
        about_format: str | None = None,
        config: t.Any = None,  # the SDK's _ConfigInput
        state: t.IO[str] | None = None,
        catalog: t.IO[str] | None = None,
    ) -> None:
        """Check the ``--state`` and ``--catalog`` files, then run as the SDK does.

        A state of ``null`` or ``[]`` is refused (the SDK reads it as none); a
        UserError ends the run with its message and exit code 1, no traceback.
        """
        try:
            with held(), tuned_gc():
                if state is not None:
                    text = state.read()
                    tap_state.parse_state_text(text, getattr(state, "name", "--state"))
                    state = io.StringIO(text)
                if catalog is not None:
                    text = catalog.read()
                    check_catalog(text, getattr(catalog, "name", "--catalog"))
                    catalog = io.StringIO(text)
                super().invoke(
                    about=about,
                    about_format=about_format,
                    config=config,
                    state=state,
                    catalog=catalog,
                )
        except (errors.UserError, ConfigValidationError, MappingError) as exc:
            logging.getLogger(cls.name).error("The run failed: %s", redact(str(exc)))  # noqa: TRY400
            raise SystemExit(1) from None

    @override
    def load_state(self, state: dict[str, t.Any]) -> None:
        """Read the state in the shapes README "State" lists (else StateError)."""
        given = tap_state.check_object(state)
        if given:
            names = [project.name for project in settings.projects(self.config)]
            streams = [stream.name for stream in STREAMS]  # type: ignore[misc]
            given, notes = tap_state.normalize(copy.deepcopy(given), names, streams)
            for level, note in notes:
                self.logger.log(level, note)
        super().load_state(given)

    @override
    def check_settings(self, found: list[str], *, raise_errors: bool) -> list[str]:
        """The schema's problems and ours; from here on, logs are redacted."""
        self.redaction.start(self.config)
        ours, warnings = checks.check_config(self.config)
        builtin: dict[str, t.Any] = {"properties": {}}
        self.append_builtin_config(builtin)
        known = [*self.config_jsonschema["properties"], *builtin["properties"]]
        warnings += checks.unknown_settings(self.config, known)
        for warning in warnings:
            self.logger.warning(warning)
        # The schema's messages quote values: a token of the wrong type included.
        found = [redact(checks.hide_token_values(m)) for m in [*found, *ours]]
        if found and raise_errors:
            raise ConfigValidationError(
                "Config validation failed: " + "; ".join(found), errors=found
            )
        return found

    @override  # type: ignore[misc]  # final for typing only
    def sync_all(self) -> None:
        """Sync every selected stream; then fail the run if a project failed.

        A failed project does not stop the others: its error is raised here,
        once every stream has written its STATE.
        """
        try:
            for stream in self.streams.values():
                if stream.selected:  # refused before any request, not after the SCHEMA
                    batch_config_of(stream, self.config)
            with sdk.one_error_line(self.streams.values()):
                super().sync_all()
        finally:
            self._flush()
            self._end_of_run()
        failed = [
            f"{stream.name} of project '{project}': {why}"
            for stream in self.streams.values()
            if isinstance(stream, CallListStream)
            for project, why in stream.failed_projects.items()
        ]
        if failed:
            msg = f"{len(failed)} project pass(es) failed: " + "; ".join(failed)
            raise errors.ProjectsFailedError(msg)

    def _end_of_run(self) -> None:
        """Leave the process as the run found it (a host may run the tap again)."""
        self.redaction.stop()
        for stream in self.streams.values():
            stream.requests_session.close()  # type: ignore[attr-defined]
        for number, handler in self._handlers.items():
            signal.signal(number, handler)

    @override
    def on_signal(self, signum: int) -> None:
        """SIGTERM/SIGINT: write the STATE of what was emitted; exit 128 + signal.

        A target that no longer reads must not keep the tap alive: an alarm ends
        the process after STOP_DEADLINE_SECONDS, without the STATE.
        """
        name = signal.Signals(signum).name
        if self._stopping:  # a second signal: the user means now
            os._exit(128 + signum)
        self._stopping = True
        self.logger.warning(
            "Stopped by %s; writing the STATE of what was emitted", name
        )
        for stream in self.streams.values():
            if isinstance(stream, CallListStream):
                stream.stopped(f"stopped by {name}")
        if hasattr(signal, "setitimer"):

            def give_up(_signum: int, _frame: FrameType | None) -> None:
                self.logger.error(
                    "Stopped by %s, but stdout was not read for %.0f s: ending "
                    "without a final STATE (the last STATE written stands)",
                    name,
                    STOP_DEADLINE_SECONDS,
                )
                logging.shutdown()
                os._exit(128 + signum)

            signal.signal(signal.SIGALRM, give_up)
            signal.setitimer(signal.ITIMER_REAL, STOP_DEADLINE_SECONDS)
        writer = self.message_writer
        if isinstance(writer, BufferedMsgSpecWriter):
            writer.when_idle(lambda: self._stop(signum, name))
        else:
            self._stop(signum, name)

    def _stop(self, signum: int, name: str) -> None:
        batching = any(
            isinstance(stream, CallListStream) and stream.record_writer.batching
            for stream in self.streams.values()
        )
        if batching:
            # The bookmark covers records still waiting for their batch file.
            self.logger.warning(
                "%s during a batch export: the last STATE, written after the last "
                "BATCH message, stands",
                name,
            )
        else:
            self.state_writer.write_state(self.state)
        self._flush()
        if hasattr(signal, "setitimer"):
            signal.setitimer(signal.ITIMER_REAL, 0)
        raise SystemExit(128 + signum)

    def _flush(self) -> None:
        if isinstance(self.message_writer, BufferedMsgSpecWriter):
            self.message_writer.flush()

    @override  # type: ignore[misc]  # final for typing only
    def run_sync_dry_run(
        self,
        dry_run_record_limit: int | None = 1,
        streams: t.Iterable[Stream] | None = None,
    ) -> bool:
        """``--test``: one record from each selected stream, not every stream's."""
        chosen = [s for s in (streams or self.streams.values()) if s.selected]
        return super().run_sync_dry_run(dry_run_record_limit, chosen)

    @override
    def setup_mapper(self) -> None:
        """Set up stream maps once the streams have mended their keys."""
        _ = self.streams
        super().setup_mapper()

    @override
    def discover_streams(self) -> t.Sequence[Stream]:
        """``calls``; ``call_segments`` and ``transcripts`` only on request."""
        return [stream(self) for stream in STREAMS]


STREAMS: tuple[type[CallListStream], ...] = (
    CallsStream,
    CallSegmentsStream,
    TranscriptsStream,
)


def main() -> None:
    """The command line: the ``--config`` files checked, then the SDK's CLI.

    The SDK reads them while it parses the arguments, before any hook of the
    tap, and ends in a traceback for a file it cannot read.
    """
    args = sys.argv[1:]
    paths = [b for a, b in itertools.pairwise(args) if a == "--config"]
    paths += [a.partition("=")[2] for a in args if a.startswith("--config=")]
    try:
        check_config_files(paths)
    except errors.ConfigFileError as exc:
        sys.stderr.write(f"The run failed: {exc}\n")
        raise SystemExit(1) from None
    TapVoicegain.cli()


def check_config_files(paths: list[str]) -> None:
    """Each file a JSON object, else a ConfigFileError naming it (never its text)."""
    for path in paths:
        if path == "ENV":
            continue
        try:
            value = json.loads(Path(path).read_text(encoding="utf-8"))
        except OSError as exc:
            problem = f"cannot be read ({exc.strerror or type(exc).__name__})"
        except (ValueError, RecursionError) as exc:
            problem = f"is not JSON ({exc})"
        else:
            if isinstance(value, dict):
                continue
            problem = f"is a JSON {type(value).__name__}, not an object of settings"
        msg = f"The config file {path} {problem}; see config.sample.json"
        raise errors.ConfigFileError(msg)


def check_catalog(text: str, source: str) -> None:
    """A ``--catalog`` file the SDK can read, else a CatalogError naming the problem."""
    try:
        value = json.loads(text)
    except (ValueError, RecursionError) as exc:
        msg = f"The catalog file {source} is not JSON ({exc})"
        raise errors.CatalogError(msg) from None
    streams = value.get("streams") if isinstance(value, dict) else None
    problem = None
    if not isinstance(streams, list):
        problem = 'it is not an object with a list of "streams"'
    else:
        for entry in streams:
            if not isinstance(entry, dict) or not entry.get("tap_stream_id"):
                problem = "a stream entry has no tap_stream_id"
            elif not isinstance(entry.get("schema"), dict):
                problem = f"stream '{entry['tap_stream_id']}' has no schema object"
    if problem:
        msg = (
            f"The catalog file {source} cannot be read: {problem}. Write one with "
            "tap-voicegain --config ... --discover > catalog.json"
        )
        raise errors.CatalogError(msg)
