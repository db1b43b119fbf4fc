# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""Pipeline modes: the run users schedule, and a backfill, against dlt (issue 22).

    make benchmark BENCHMARK_ARGS="--scheduled --dlt"
    make benchmark BENCHMARK_ARGS="--backfill 20000 --dlt --destinations duckdb"

``--scheduled``: a simulator (``simlog.py``) holds ``--existing`` calls, which
every contender loads once, untimed (so each has its table and a bookmark at the
last call); then each round adds ``--new-calls`` calls (``POST /_sim/add``)
and every contender runs once, in ABBA order (ours, dlt / dlt, ours ...), and
must export exactly the new calls and hold every call in its table.
``--breakdown N`` then adds N traced rounds of the Meltano contenders
(``timeline.py``: where the seconds go), not counted in the table.

``--backfill N``: a simulator of N calls; each round every contender loads all
of them from no state into a fresh schema (or DuckDB file), in ABBA order.

Ratios are paired: a contender's run over dlt's run of the same round, median
and lowest..highest over the rounds. The load average is printed with each table.
"""

from __future__ import annotations

import dataclasses
import json
import shutil
import statistics
import time
import typing as t

import report
import requests
import timeline
from contenders import (
    Contender,
    DltPipeline,
    MeltanoProject,
    Outcome,
    Slot,
    count_duckdb,
)
from e2e import scratch_database
from runs import RunError
from simserver import TOKEN, LoggedSimulator, SimulatorError, serve_logged

if t.TYPE_CHECKING:
    import argparse
    from collections.abc import Iterable
    from pathlib import Path

Progress = t.Callable[[str], None]
# Issue 22's goals: wall time against dlt's.
SCHEDULED_DLT_TARGET = {"postgres": 1.0}
BACKFILL_DLT_TARGET = {"postgres": 0.7}


@dataclasses.dataclass
class Table:
    """Runs of one mode and destination, by contender."""

    title: str
    outcomes: dict[str, list[Outcome]]
    first_request: dict[str, list[float]]
    traced: dict[str, list[tuple[Outcome, dict[str, float]]]]
    notes: list[str]
    load_start: str
    load_end: str = ""


@dataclasses.dataclass(frozen=True)
class Bench:
    """What every mode works with: options, contenders, the scratch database."""

    args: argparse.Namespace
    workdir: Path
    progress: Progress
    contenders: list[Contender]
    pg_env: dict[str, str]
    db: t.Any  # a psycopg connection (autocommit)


def contenders_of(args: argparse.Namespace, workdir: Path) -> list[Contender]:
    """Ours (``--project``), ours before, the variants, and dlt, in that order."""
    found: list[Contender] = [MeltanoProject("ours", args.project, (), workdir)]
    if args.before:
        found.append(MeltanoProject("ours before", args.before, (), workdir))
    found += [
        MeltanoProject(f"ours +{name}", args.project, tuple(name.split("+")), workdir)
        for name in args.meltano_variants
    ]
    if args.dlt:
        found.append(DltPipeline())
    return found


def main(args: argparse.Namespace, workdir: Path, progress: Progress) -> int:
    """Run the scheduled and backfill modes asked for; print their tables."""
    import psycopg  # noqa: PLC0415 - only these modes need it

    started = time.monotonic()
    lines = [
        "tap-voicegain pipeline benchmark (issue 22)",
        report.machine() + " (at start)",
    ]
    tables: list[Table] = []
    charts: list[Path] = []
    try:
        contenders = contenders_of(args, workdir)
        for contender in contenders:
            contender.prepare(progress)
        with (
            scratch_database() as (pg_env, conninfo),
            psycopg.connect(conninfo, autocommit=True) as db,
        ):
            bench = Bench(args, workdir, progress, contenders, pg_env, db)
            for destination in args.destinations if args.scheduled else ():
                table = scheduled(bench, destination)
                tables.append(table)
                if table.traced:
                    charts.append(chart(bench, table, destination))
            tables += [
                backfill(bench, destination, size)
                for size in args.backfill
                for destination in args.destinations
            ]
    except (RunError, SimulatorError) as exc:
        print(f"benchmark failed: {exc}\n(logs kept in {workdir})")
        return 1
    for table in tables:
        lines += ["", *render(table)]
    if charts:
        lines += ["", *(f"chart: {path}" for path in charts)]
    lines += [
        "",
        (
            f"{report.load()} at end; benchmark took "
            f"{time.monotonic() - started:.0f} s; logs in {workdir}"
        ),
    ]
    print("\n".join(lines))
    # The plugin virtualenvs and snapshots are large; logs, traces, charts stay.
    for path in [*workdir.glob("meltano-*"), *workdir.glob("project-*")]:
        if path.is_dir():
            shutil.rmtree(path, ignore_errors=True)
    return 0


def ordered(contenders: list[Contender], k: int) -> Iterable[Contender]:
    """ABBA: the list in round 1, 3, ...; reversed in round 2, 4, ..."""
    return contenders if k % 2 else list(reversed(contenders))


def scheduled(bench: Bench, destination: str) -> Table:
    """The scheduled run: ``--new-calls`` more calls before every round."""
    args, workdir, progress = bench.args, bench.workdir, bench.progress
    contenders, pg_env, db = bench.contenders, bench.pg_env, bench.db
    table = Table(
        f"Scheduled run into {destination}: {args.existing:,} calls loaded before, "
        f"{args.new_calls} new calls per run, {args.repeat} interleaved (ABBA) rounds",
        {c.label: [] for c in contenders},
        {c.label: [] for c in contenders},
        {},
        [],
        report.load(),
    )
    progress(f"scheduled/{destination}: simulator with {args.existing:,} calls")
    log = workdir / f"simulator-scheduled-{destination}.log"
    with serve_logged(args.existing, log) as sim:
        slots = {c.label: c.slot(workdir, f"sched-{destination}") for c in contenders}
        total = args.existing
        for contender in contenders:  # the first load: untimed
            progress(
                f"scheduled/{destination}: {contender.label} loads the first {total:,}"
            )
            contender.run(destination, slots[contender.label], sim.url, pg_env, total)
            check_rows(contender, destination, slots[contender.label], db, total)
        for k in range(1, args.repeat + 1):
            sim.add(args.new_calls)
            total += args.new_calls
            for contender in ordered(contenders, k):
                outcome = contender.run(
                    destination, slots[contender.label], sim.url, pg_env, args.new_calls
                )
                check_rows(contender, destination, slots[contender.label], db, total)
                table.outcomes[contender.label].append(outcome)
                first = first_request(sim, outcome)
                if first is not None:
                    table.first_request[contender.label].append(first)
                progress(
                    f"scheduled/{destination} round {k}/{args.repeat} "
                    f"{contender.label}: {describe(outcome)}"
                )
        meltanos = [c for c in contenders if isinstance(c, MeltanoProject)]
        for k in range(1, args.breakdown + 1):
            sim.add(args.new_calls)
            total += args.new_calls
            for contender in ordered(meltanos, k):
                outcome = contender.run(
                    destination,
                    slots[contender.label],
                    sim.url,
                    pg_env,
                    args.new_calls,
                    trace=True,
                )
                check_rows(contender, destination, slots[contender.label], db, total)
                assert outcome.trace is not None  # noqa: S101 - trace=True
                phases = timeline.meltano_phases(
                    outcome.trace,
                    sim.request_times(outcome.run.started_at),
                    f"target-{destination}",
                )
                if phases is None:
                    table.notes.append(
                        f"{contender.label}: unreadable trace {outcome.trace}"
                    )
                    continue
                table.traced.setdefault(contender.label, []).append((outcome, phases))
                progress(
                    f"scheduled/{destination} traced {k}/{args.breakdown} "
                    f"{contender.label}: {describe(outcome)}"
                )
        if destination == "postgres":
            table.notes += same_rows(contenders, slots, db)
    table.load_end = report.load()
    return table


def backfill(bench: Bench, destination: str, size: int) -> Table:
    """A first load of ``size`` calls, from no state, ``--repeat`` ABBA rounds."""
    args, workdir, progress = bench.args, bench.workdir, bench.progress
    contenders, pg_env, db = bench.contenders, bench.pg_env, bench.db
    table = Table(
        f"Backfill of {size:,} calls into {destination}, from no state, "
        f"{args.repeat} interleaved (ABBA) rounds",
        {c.label: [] for c in contenders},
        {c.label: [] for c in contenders},
        {},
        [],
        report.load(),
    )
    progress(f"backfill {size:,}/{destination}: simulator with {size:,} calls")
    log = workdir / f"simulator-backfill-{size}-{destination}.log"
    with serve_logged(size, log) as sim:
        warm(sim.url, args.per_page)
        for k in range(1, args.repeat + 1):
            digests: dict[str, dict[str, str]] = {}
            for contender in ordered(contenders, k):
                slot = contender.slot(workdir, f"bf{size}-{destination}-{k}")
                outcome = contender.run(destination, slot, sim.url, pg_env, size)
                check_rows(contender, destination, slot, db, size)
                if destination == "postgres" and isinstance(contender, MeltanoProject):
                    digests[contender.label] = column_digests(db, slot.schema)
                drop(destination, slot, db)
                table.outcomes[contender.label].append(outcome)
                first = first_request(sim, outcome)
                if first is not None:
                    table.first_request[contender.label].append(first)
                progress(
                    f"backfill {size:,}/{destination} round {k}/{args.repeat} "
                    f"{contender.label}: {describe(outcome)}"
                )
            for note in compare_digests(digests):
                if f"round {k - 1}: {note}" not in table.notes:
                    table.notes.append(f"round {k}: {note}")
    table.load_end = report.load()
    return table


def warm(url: str, per_page: int) -> None:
    """Ask for every JSON page once, as the contenders will (the simulator caches)."""
    after = 0
    with requests.Session() as session:
        session.headers["Authorization"] = f"Bearer {TOKEN}"
        while True:
            params = {
                "format": "json",
                "consecutive": "true",
                "afterCallId": after,
                "page": 1,
                "per_page": per_page,
            }
            page = session.get(f"{url}/sa/call", params=params, timeout=120).json()
            if len(page) < per_page:
                return
            after = int(page[-1]["callId"])


def first_request(sim: LoggedSimulator, outcome: Outcome) -> float | None:
    """Seconds from a run's start to its first call-page request."""
    run = outcome.run
    times = [
        s for s in sim.request_times(run.started_at) if s <= run.started_at + run.wall_s
    ]
    return times[0] - run.started_at if times else None


def check_rows(
    contender: Contender,
    destination: str,
    slot: Slot,
    db: t.Any,  # noqa: ANN401 - a psycopg connection
    expected: int,
) -> None:
    """The destination holds ``expected`` calls, or the run failed."""
    if destination == "postgres":
        found = db.execute(f'SELECT count(*) FROM "{slot.schema}".calls').fetchone()[0]  # noqa: S608
    else:
        found = count_duckdb(
            contender.duckdb_python(), slot.duckdb_file, contender.duckdb_table(slot)
        )
    if found != expected:
        msg = f"{contender.label} holds {found} calls in {destination}, not {expected}"
        raise RunError(msg)


def drop(destination: str, slot: Slot, db: t.Any) -> None:  # noqa: ANN401
    """Remove what a backfill round loaded (schema, dlt's staging schema, file)."""
    if destination == "postgres":
        for schema in (slot.schema, f"{slot.schema}_staging"):
            db.execute(f'DROP SCHEMA IF EXISTS "{schema}" CASCADE')
    for path in slot.duckdb_file.parent.glob(f"{slot.duckdb_file.name}*"):
        path.unlink()


def column_digests(db: t.Any, schema: str) -> dict[str, str]:  # noqa: ANN401
    """Per column of ``calls`` (no _sdc_*): its type and the MD5 of its values.

    Values in callId order; per column, so checkouts whose tables differ by a
    column added are compared over the columns both have.
    """
    columns = db.execute(
        "SELECT column_name, udt_name FROM information_schema.columns "
        "WHERE table_schema = %s AND table_name = 'calls' "
        "AND column_name NOT LIKE '\\_sdc%%' ORDER BY column_name",
        (schema,),
    ).fetchall()
    sums = ", ".join(
        f"""md5(string_agg(coalesce(to_jsonb(c."{name}")::text, 'null'),
            E'\\n' ORDER BY c."callId"))"""
        for name, _ in columns
    )
    row = db.execute(f'SELECT {sums} FROM "{schema}".calls c').fetchone()  # noqa: S608
    return {name: f"{udt}:{md5}" for (name, udt), md5 in zip(columns, row, strict=True)}


def compare_digests(digests: dict[str, dict[str, str]]) -> list[str]:
    """Notes on the Meltano contenders' tables: same rows, or which columns differ."""
    if len(digests) < 2:
        return []
    common = set.intersection(*(set(d) for d in digests.values()))
    differ = sorted(c for c in common if len({d[c] for d in digests.values()}) > 1)
    notes = [
        f"rows DIFFER in {len(differ)} column(s): {', '.join(differ)}"
        if differ
        else f"rows identical in the {len(common)} columns every Meltano contender "
        "has (values and types, _sdc_* left out)"
    ]
    for label, found in digests.items():
        if set(found) - common:
            notes.append(
                f"columns only {label} has: {', '.join(sorted(set(found) - common))}"
            )
    return notes


def same_rows(
    contenders: list[Contender],
    slots: dict[str, Slot],
    db: t.Any,  # noqa: ANN401
) -> list[str]:
    """Whether the Meltano contenders' tables hold the same rows."""
    return compare_digests(
        {
            c.label: column_digests(db, slots[c.label].schema)
            for c in contenders
            if isinstance(c, MeltanoProject)
        }
    )


def describe(outcome: Outcome) -> str:
    """Short summary of one run for the progress lines."""
    run = outcome.run
    return (
        f"{run.wall_s:.2f} s wall, {run.cpu_s:.2f} s CPU, "
        f"{report.mb(run.maxrss_kb):.0f} MB peak RSS"
    )


def _ratio(mine: list[Outcome], theirs: list[Outcome] | None, cost: str) -> str:
    """Paired ratio of ``cost`` (wall_s, cpu_s): median (lowest..highest)."""
    if not theirs or mine is theirs:
        return "-"
    ratios = [
        getattr(a.run, cost) / getattr(b.run, cost)
        for a, b in zip(mine, theirs, strict=True)
    ]
    return f"{statistics.median(ratios):.2f}x ({min(ratios):.2f}..{max(ratios):.2f})"


def render(table: Table) -> list[str]:
    """The table: each contender's wall, CPU, RSS, first request, paired ratios."""
    lines = [table.title, f"({table.load_start} at start, {table.load_end} at end)"]
    width = max(len(label) for label in [*table.outcomes, "contender"]) + 2
    header = (
        f"{'contender':<{width}}{'wall s':>7}{'min-max':>13}{'CPU s':>7}{'RSS MB':>8}"
        f"{'1st req s':>10}{'wall / dlt':>20}{'CPU / dlt':>20}{'wall / ours':>20}"
        f"{'CPU / ours':>20}"
    )
    lines.append(header)
    dlt = table.outcomes.get("dlt")
    ours = table.outcomes["ours"]
    for label, outcomes in table.outcomes.items():
        walls = [o.run.wall_s for o in outcomes]
        cpu = statistics.median(o.run.cpu_s for o in outcomes)
        rss = max(o.run.maxrss_kb for o in outcomes)
        firsts = table.first_request[label]
        first = f"{statistics.median(firsts):.2f}" if firsts else "-"
        ratios = "".join(
            f"{_ratio(outcomes, other, cost):>20}"
            for other in (dlt, ours)
            for cost in ("wall_s", "cpu_s")
        )
        lines.append(
            f"{label:<{width}}{statistics.median(walls):>7.2f}"
            f"{f'{min(walls):.2f}-{max(walls):.2f}':>13}{cpu:>7.2f}"
            f"{report.mb(rss):>8.0f}{first:>10}{ratios}"
        )
    lines.append(
        "(wall, CPU: the whole run, every process (CPU: user + system, less "
        "sensitive to other load than wall); RSS: the largest process's peak; "
        "1st req: start -> first call page asked for)"
    )
    if table.traced:
        lines += [
            "",
            "Where the seconds go (median of the traced runs; dlt: its timed runs):",
        ]
        rows = breakdown_rows(table)
        names = list(dict.fromkeys(name for phases in rows.values() for name in phases))
        for label, phases in rows.items():
            cells = ", ".join(
                f"{name} {phases[name]:.2f}" for name in names if name in phases
            )
            lines.append(f"  {label}: {cells}")
        for label, traced in table.traced.items():
            walls = [o.run.wall_s for o, _ in traced]
            runs = [int(p["discovery runs"]) for _, p in traced]
            untraced = statistics.median(o.run.wall_s for o in table.outcomes[label])
            lines.append(
                f"  {label}: traced wall {statistics.median(walls):.2f} s "
                f"(untraced {untraced:.2f} s); catalog discovery ran in "
                f"{sum(1 for n in runs if n)}/{len(runs)} runs"
            )
        lines += timeline.ascii_bars(rows)
    lines += [f"note: {note}" for note in table.notes]
    return lines


def breakdown_rows(table: Table) -> dict[str, dict[str, float]]:
    """Median phases of each traced contender, and of dlt's timed runs."""
    rows = {
        label: timeline.median_phases([phases for _, phases in traced])
        for label, traced in table.traced.items()
    }
    dlt = [o.phases for o in table.outcomes.get("dlt", []) if o.phases]
    if dlt:
        rows["dlt"] = timeline.median_phases(dlt)
    return rows


def chart(bench: Bench, table: Table, destination: str) -> Path:
    """The breakdown of one scheduled table as an SVG file; its path."""
    args = bench.args
    folder = args.chart_dir or bench.workdir
    path = folder / f"scheduled-{destination}.svg"
    path.parent.mkdir(parents=True, exist_ok=True)
    title = (
        f"meltano run tap-voicegain target-{destination}: {args.new_calls} new calls, "
        "seconds by phase (median)"
    )
    rows = breakdown_rows(table)
    path.write_text(timeline.svg_chart(rows, title))
    # The figures too, to draw the chart again (timeline.svg_chart) for the docs.
    path.with_suffix(".json").write_text(json.dumps({"title": title, "rows": rows}))
    return path
