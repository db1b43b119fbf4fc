"""BATCH output that holds what RECORD messages would hold.

The SDK's batch path (``Stream.get_batches``) writes records as they were
read: stream maps, flattening and column deselection, which the SCHEMA message
already reflects, are skipped. A user who nulled ``notes`` or deselected
``agent`` to keep personal data out of the warehouse would find it in the batch
files. Here each record goes through the same steps as on the RECORD path
before it reaches a batch file; what cannot be honoured is refused before any
request.
"""

from __future__ import annotations

import importlib
import typing as t

from singer_sdk.batch import Batcher
from singer_sdk.helpers._catalog import pop_deselected_record_properties
from singer_sdk.mapper import RemoveRecordTransform

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.streams import Stream


class BatchConfigError(ValueError):
    """A batch_config this tap cannot honour exactly."""


def check(stream: Stream, batch_config: BatchConfig) -> None:
    """Refuse what batch files cannot hold exactly as RECORD messages would.

    Raises:
        BatchConfigError: Stream maps that copy, split or remove the stream
            (the SDK writes one set of files for every output stream), or a
            ``parquet`` encoding without pyarrow installed.
    """
    maps = stream.stream_maps
    if len(maps) != 1 or isinstance(maps[0], RemoveRecordTransform):
        aliases = ", ".join(
            m.stream_alias for m in maps if not isinstance(m, RemoveRecordTransform)
        )
        msg = (
            f"batch_config cannot be combined with stream maps that copy, split or "
            f"remove the '{stream.name}' stream (output streams: {aliases or 'none'}): "
            "the SDK announces the same batch files for every output stream. Map "
            f"'{stream.name}' to one stream, or drop batch_config."
        )
        raise BatchConfigError(msg)
    if batch_config.encoding.format == "parquet":
        try:
            importlib.import_module("pyarrow.parquet")
        except ImportError:
            msg = (
                "batch_config asks for parquet files, which need pyarrow: install "
                "the tap with its parquet extra (pip install "
                "'tap-voicegain[parquet]'), or use the jsonl encoding."
            )
            raise BatchConfigError(msg) from None


class MappedBatches:
    """Batch files of one stream, records mapped as on the RECORD path."""

    def __init__(self, stream: Stream, batch_config: BatchConfig) -> None:
        """Check the combination first (``check``)."""
        check(stream, batch_config)
        self._stream = stream
        self._config = batch_config
        self._map = stream.stream_maps[0]

    def _mapped(
        self, records: Iterable[dict[str, t.Any]]
    ) -> Iterator[dict[str, t.Any]]:
        # The steps of Stream._generate_record_messages, in its order. Its type
        # conformance is skipped: the stream's level is NONE (records are typed).
        stream = self._stream
        for record in records:
            pop_deselected_record_properties(record, stream.schema, stream.mask)
            mapped = self._map.transform(record)
            if mapped is not None:  # a filter map may drop it
                yield mapped

    def write(
        self, records: Iterable[dict[str, t.Any]]
    ) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
        """Write ``records`` to batch files; yield each file's manifest."""
        batcher = Batcher(
            tap_name=self._stream.tap_name,
            stream_name=self._stream.name,
            batch_config=self._config,
        )
        for manifest in batcher.get_batches(records=self._mapped(records)):
            yield self._config.encoding, manifest
