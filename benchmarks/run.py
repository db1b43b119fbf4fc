# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Benchmark of tap-voicegain against a bare requests + json/csv loop.

Serves N realistic calls from the simulator (its own process, page bodies
pre-rendered and warmed by an untimed pass) and, on the same data, times the tap
(a real ``python -m tap_voicegain`` process, Singer output to /dev/null) and the
baseline (``baseline.py``: the same keyset requests, ``json.loads`` or
``csv.DictReader``, one compact JSON line per call to /dev/null), JSON and CSV.
Then it runs the tap once per format at each of ``--memory-sizes`` calls for its
peak RSS. See benchmarks/README.md.

    make benchmark
    .venv/bin/python benchmarks/run.py --calls 50000 --repeat 3

The targets are informational: the exit status is 0 whatever the times, and
non-zero only when something crashed or exported the wrong number of calls.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import e2e
import pipelines
import report
from contenders import VARIANTS
from runs import Run, RunError, Runs, Target, counted, measured
from simserver import SimulatorError, serve

if t.TYPE_CHECKING:
    from collections.abc import Sequence


HERE_ROOT = Path(__file__).resolve().parent.parent


def progress(text: str) -> None:
    """One progress line on stderr; the report goes to stdout."""
    print(f"... {text}", file=sys.stderr, flush=True)


def time_formats(args: argparse.Namespace, workdir: Path) -> dict[str, dict[str, Runs]]:
    """Tap, floor and baseline, each format, ``--repeat`` times, interleaved."""
    results: dict[str, dict[str, Runs]] = {}
    latency = f", {args.latency_ms:g} ms per request" if args.latency_ms else ""
    groups = [
        (args.calls, [fmt for fmt in args.formats if fmt != "transcripts"]),
        (args.transcript_calls, [fmt for fmt in args.formats if fmt == "transcripts"]),
    ]
    for calls, formats in groups:
        if not formats:
            continue
        progress(f"starting the simulator with {calls:,} calls{latency}")
        log_file = workdir / f"simulator-timing-{formats[0]}.log"
        with serve(calls, log_file, latency_ms=args.latency_ms) as url:
            for fmt in formats:
                results[fmt] = time_format(args, workdir, url, fmt, calls)
    return results


def time_format(
    args: argparse.Namespace, workdir: Path, url: str, fmt: str, calls: int
) -> dict[str, Runs]:
    """Every program on one format, ``--repeat`` interleaved rounds."""
    target = Target(url, fmt, args.per_page, workdir)
    programs = {"tap": target.tap_command()}
    if args.before:
        python = str(args.before / ".venv" / "bin" / "python")
        programs["tap before"] = target.tap_command(python=python)
    programs["floor"] = target.floor_command()
    if fmt != "transcripts":  # the bare json/csv loop has no transcripts
        programs["baseline"] = target.baseline_command()
    for variant in args.variants:
        programs[f"tap {variant}"] = target.tap_command(variant)
    log = workdir / f"{fmt}-%s.log"
    progress(f"{fmt}: untimed warm-up (tap, counting RECORDs; the loops)")
    # Every call has a record; a transcript only the DONE calls that have one.
    expected = None if fmt == "transcripts" else calls
    expected = counted(programs["tap"], Path(str(log) % "tap-count"), expected)
    for name in ("floor", "baseline"):
        if name in programs:
            measured(programs[name], Path(str(log) % f"{name}-warm"), expected)
    runs = {name: Runs() for name in programs}
    order = list(programs)
    for k in range(1, args.repeat + 1):  # interleaved (ABBA): drift hits all
        for name in order if k % 2 else reversed(order):
            where = Path(str(log) % f"{name.replace(' ', '-')}-{k}")
            run = measured(programs[name], where, expected)
            runs[name].runs.append(run)
            progress(f"{fmt} {name} {k}/{args.repeat}: {describe(run)}")
    return runs


def measure_memory(
    args: argparse.Namespace, workdir: Path
) -> dict[str, dict[int, int]]:
    """Peak RSS (KiB) of one tap run per format at each size."""
    formats = [fmt for fmt in args.formats if fmt != "transcripts"]
    peaks: dict[str, dict[int, int]] = {fmt: {} for fmt in formats}
    if not formats:
        return peaks
    for size in args.memory_sizes:
        progress(f"starting the simulator with {size:,} calls")
        log = workdir / f"simulator-{size}.log"
        with serve(size, log, latency_ms=args.latency_ms) as url:
            for fmt in formats:
                command = Target(url, fmt, args.per_page, workdir).tap_command()
                run = measured(command, workdir / f"{fmt}-tap-{size}.log", size)
                peaks[fmt][size] = run.maxrss_kb
                progress(f"{fmt} tap, {size:,} calls: {describe(run)}")
    return peaks


def describe(run: Run) -> str:
    """Short summary of one run for the progress lines."""
    return (
        f"{run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, "
        f"{report.mb(run.maxrss_kb):.1f} MB peak RSS"
    )


def int_list(text: str) -> list[int]:
    return [int(item) for item in text.split(",") if item]


def format_list(text: str) -> list[str]:
    formats = [item.strip().lower() for item in text.split(",") if item.strip()]
    if not formats or set(formats) - {"json", "csv", "transcripts"}:
        msg = f"formats are json, csv and/or transcripts, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return formats


def destination_list(text: str) -> list[str]:
    found = [item.strip().lower() for item in text.split(",") if item.strip()]
    if not found or set(found) - {"postgres", "duckdb"}:
        msg = f"destinations are postgres and/or duckdb, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return found


def meltano_variant_list(text: str) -> list[str]:
    found = [item.strip() for item in text.split(",") if item.strip()]
    for item in found:
        if set(item.split("+")) - set(VARIANTS):
            msg = f"variants are {', '.join(VARIANTS)} (joined by +), not {item!r}"
            raise argparse.ArgumentTypeError(msg)
    return found


def checkout(text: str) -> Path:
    root = Path(text).resolve()
    if not (root / "meltano.yml").is_file():
        msg = f"{root} is not a checkout of tap-voicegain (no meltano.yml)"
        raise argparse.ArgumentTypeError(msg)
    return root


def variant_list(text: str) -> list[str]:
    variants = [item.strip() for item in text.split(",") if item.strip()]
    if set(variants) - {"default-gc", "no-prefetch"}:
        msg = f"variants are default-gc and/or no-prefetch, not {text!r}"
        raise argparse.ArgumentTypeError(msg)
    return variants


def add_pipeline_args(parser: argparse.ArgumentParser) -> None:
    """The options of the pipeline modes (``--scheduled``, ``--backfill``)."""
    pipeline = parser.add_argument_group(
        "pipeline modes (pipelines.py; need `make meltano` and PostgreSQL)"
    )
    pipeline.add_argument(
        "--scheduled",
        action="store_true",
        help="instead: the scheduled run, meltano run tap-voicegain target-... "
        "on --new-calls new calls, as meltano.yml ships it",
    )
    pipeline.add_argument(
        "--backfill",
        type=int_list,
        default=[],
        metavar="N[,N]",
        help="instead (or also): a first load of N calls, e.g. 20000,100000",
    )
    pipeline.add_argument(
        "--dlt",
        action="store_true",
        help="pair every run with dlt's (benchmarks/.venv-dlt)",
    )
    pipeline.add_argument(
        "--destinations",
        type=destination_list,
        default=["postgres", "duckdb"],
        help="postgres,duckdb",
    )
    pipeline.add_argument(
        "--project",
        type=checkout,
        default=HERE_ROOT,
        metavar="ROOT",
        help="the checkout whose meltano.yml is 'ours' (default: this one)",
    )
    pipeline.add_argument(
        "--meltano-variants",
        type=meltano_variant_list,
        default=[],
        help="also run ours changed: "
        + "; ".join(f"{k}: {v}" for k, v in VARIANTS.items())
        + " (combine with +, e.g. compiled-src+cached-catalog)",
    )
    pipeline.add_argument(
        "--existing", type=int, default=10_000, help="calls loaded before"
    )
    pipeline.add_argument(
        "--new-calls", type=int, default=250, help="calls per scheduled run"
    )
    pipeline.add_argument(
        "--breakdown",
        type=int,
        default=3,
        help="traced scheduled runs (strace) for where the seconds go; 0: none",
    )
    pipeline.add_argument(
        "--chart-dir", type=Path, default=None, help="where the SVG charts go"
    )


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    """The command line (see ``--help``)."""
    parser = argparse.ArgumentParser(
        description="Time tap-voicegain against a bare requests + json/csv loop.",
    )
    parser.add_argument("--calls", type=int, default=50_000, help="calls to time")
    parser.add_argument("--per-page", type=int, default=1000, help="calls per page")
    parser.add_argument(
        "--repeat",
        type=int,
        default=None,
        help="interleaved rounds; median reported (default 3; pipeline modes 4)",
    )
    parser.add_argument(
        "--memory-sizes",
        type=int_list,
        default=[20_000, 200_000],
        help="comma-separated call counts for the peak RSS runs",
    )
    parser.add_argument("--skip-memory", action="store_true", help="no RSS runs")
    parser.add_argument(
        "--latency-ms",
        type=float,
        default=0.0,
        help="the simulator waits this long before each answer (a real API: "
        "150-400 ms per 1,000-call page); the memory runs too",
    )
    parser.add_argument(
        "--variants",
        type=variant_list,
        default=[],
        help="also time the tap with these measures off: default-gc,no-prefetch",
    )
    parser.add_argument(
        "--e2e",
        action="store_true",
        help="instead: meltano run tap-voicegain into target-postgres and "
        "target-jsonl, shipped loader settings against the targets' defaults "
        "(e2e.py; needs `make meltano` and PostgreSQL)",
    )
    parser.add_argument(
        "--e2e-calls", type=int, default=10_000, help="calls per end-to-end run"
    )
    parser.add_argument(
        "--formats",
        type=format_list,
        default=["json", "csv"],
        help="json,csv,transcripts (tap, msgspec floor and baseline)",
    )
    parser.add_argument(
        "--transcript-calls",
        type=int,
        default=3000,
        help="calls of the transcripts format's simulator (one request each)",
    )
    parser.add_argument(
        "--before",
        type=checkout,
        default=None,
        metavar="ROOT",
        help="also run the checkout at ROOT (its .venv; in pipeline modes its "
        "meltano.yml), paired with this one, e.g. /work/bench-before",
    )
    add_pipeline_args(parser)
    args = parser.parse_args(argv)
    pipeline_mode = args.scheduled or bool(args.backfill)
    if args.repeat is None:
        args.repeat = 4 if pipeline_mode else 3
    if args.calls < 1 or args.repeat < 1 or args.per_page < 1:
        parser.error("--calls, --repeat and --per-page must be at least 1")
    sizes = args.memory_sizes
    if not args.skip_memory and (len(sizes) < 2 or min(sizes) < 1):
        parser.error("--memory-sizes needs at least two positive sizes")
    args.memory_sizes = sorted(set(args.memory_sizes))
    return args


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print the report; 1 when a run crashed."""
    args = parse_args(argv)
    workdir = Path(tempfile.mkdtemp(prefix="tap-voicegain-benchmark-"))
    started = time.monotonic()
    if args.e2e:
        return e2e.main(args, workdir, progress)
    if args.scheduled or args.backfill:
        return pipelines.main(args, workdir, progress)
    latency = f", {args.latency_ms:g} ms per request" if args.latency_ms else ""
    before = f", before = {args.before}" if args.before else ""
    title = (
        f"tap-voicegain benchmark{before}: {args.calls:,} calls, per_page "
        f"{args.per_page}{latency}, median of {args.repeat} interleaved run(s)"
    )
    lines = [title, report.machine() + " (at start)"]
    try:
        results = time_formats(args, workdir)
        peaks = {} if args.skip_memory else measure_memory(args, workdir)
    except (RunError, SimulatorError) as exc:
        print(f"benchmark failed: {exc}\n(logs kept in {workdir})", file=sys.stderr)
        return 1
    shutil.rmtree(workdir, ignore_errors=True)
    lines += ["", *report.timing_table(args.calls, results)]
    if "transcripts" in results:
        lines.append(
            f"(transcripts: {args.transcript_calls:,} calls, one request each)"
        )
    if peaks:
        lines += ["", "Peak RSS of the tap by export size (one run each):"]
        lines += report.memory_table(peaks)
    lines += ["", "Targets (informational, never a failure):"]
    lines += report.targets(results, peaks, args.latency_ms)
    lines += [
        "",
        f"{report.load()} at end; benchmark took {time.monotonic() - started:.0f} s",
    ]
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    sys.exit(main())
