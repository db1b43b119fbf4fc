"""BATCH output that holds what RECORD messages would hold (docs/design.md).

Each record is mapped by the stream's ``RecordWriter`` before it reaches a
batch file; what cannot be honoured is refused before any request.
"""

from __future__ import annotations

import importlib
import tempfile
import typing as t
from pathlib import Path
from urllib.parse import urlsplit

from singer_sdk.batch import Batcher
from singer_sdk.mapper import RemoveRecordTransform

from tap_voicegain.errors import BatchConfigError

if t.TYPE_CHECKING:
    from collections.abc import Iterable, Iterator

    from singer_sdk.helpers._batch import BaseBatchFileEncoding, BatchConfig
    from singer_sdk.streams import Stream

    from tap_voicegain.sdk import RecordWriter


def batch_config_of(
    stream: Stream, config: t.Mapping[str, t.Any]
) -> BatchConfig | None:
    """The stream's batch_config, checked (BatchConfigError); None without one."""
    raw = config.get("batch_config")
    if not raw:
        return None
    storage = raw.get("storage") if isinstance(raw, dict) else None
    if not isinstance(storage, dict) or not storage.get("root"):
        msg = (
            "batch_config.storage.root is missing: give the folder batch files go "
            'to, e.g. {"encoding": {"format": "jsonl", "compression": "gzip"}, '
            '"storage": {"root": "file:///var/data/batches"}}'
        )
        raise BatchConfigError(msg)
    _check_storage(str(storage["root"]), storage.get("prefix"))
    try:
        batch_config = stream.get_batch_config(config)
    except (TypeError, KeyError, ValueError) as exc:
        msg = f"batch_config is not one the SDK reads ({type(exc).__name__}: {exc})"
        raise BatchConfigError(msg) from None
    if batch_config is not None:
        check(stream, batch_config)
    return batch_config


def _check_storage(root: str, prefix: t.Any) -> None:  # noqa: ANN401
    parts = urlsplit(root)
    if parts.scheme not in {"", "file"}:
        module = {"s3": "s3fs", "gs": "gcsfs", "gcs": "gcsfs", "az": "adlfs"}.get(
            parts.scheme
        )
        try:
            importlib.import_module(module or parts.scheme)
        except ImportError:
            msg = (
                f"batch_config.storage.root {root!r}: the '{parts.scheme}' storage "
                f"needs the {module or parts.scheme!r} package, which is not "
                "installed; install it beside the tap, or use a local folder "
                "(file:///...)"
            )
            raise BatchConfigError(msg) from None
        return
    folder = Path(parts.path if parts.scheme else root)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        with tempfile.TemporaryFile(dir=folder):
            pass
    except OSError as exc:
        msg = f"batch_config.storage.root {root!r} cannot be written: {exc.strerror}"
        raise BatchConfigError(msg) from None
    if prefix is not None and (
        not isinstance(prefix, str)
        or "/" in prefix
        or "\\" in prefix
        or prefix.startswith(".")
    ):
        msg = (
            f"batch_config.storage.prefix {prefix!r} must be a plain file name "
            "prefix (no folders, no leading dot): batch files stay inside the root"
        )
        raise BatchConfigError(msg)


def check(stream: Stream, batch_config: BatchConfig) -> None:
    """Refuse what batch files cannot hold exactly as RECORD messages would.

    Stream maps that copy, split or remove the stream (the SDK writes one set of
    files for every output stream), or parquet without pyarrow.
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


def batches(
    stream: Stream,
    batch_config: BatchConfig,
    writer: RecordWriter,
    records: Iterable[dict[str, t.Any]],
) -> Iterator[tuple[BaseBatchFileEncoding, list[str]]]:
    """Write ``records``, mapped by ``writer``, to batch files; yield manifests."""
    check(stream, batch_config)
    batcher = Batcher(
        tap_name=stream.tap_name, stream_name=stream.name, batch_config=batch_config
    )
    mapped = (out for record in records for _, out in writer.mapped(record))
    for manifest in batcher.get_batches(records=mapped):
        yield batch_config.encoding, manifest
