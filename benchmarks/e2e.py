# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""End-to-end mode: ``meltano run tap-voicegain TARGET``, timed as a user runs it.

    make benchmark BENCHMARK_ARGS="--e2e --repeat 3"

On one pre-rendered simulator of ``--e2e-calls`` calls, each round runs, in
turn: target-postgres with the loader settings meltano.yml ships, target-postgres
with what those settings replace (the target's defaults), and target-jsonl. Every
run starts from no state (its own Meltano system database) into a fresh schema
or directory, and must load every call. Meltano is ``.venv-meltano`` (``make
meltano``); its plugins are installed once into a directory kept between
benchmarks. PostgreSQL is found like the e2e tests find it (``PGHOST``,
``PGPORT``, ``PGUSER``, ``PGPASSWORD``; default postgres@127.0.0.1:5432); a
scratch database is created and dropped.
"""

from __future__ import annotations

import contextlib
import json
import os
import secrets
import statistics
import subprocess
import sys
import tempfile
import time
import typing as t
from pathlib import Path

import report
from runs import HERE, Run, RunError
from simserver import TOKEN, SimulatorError, serve

if t.TYPE_CHECKING:
    import argparse
    from collections.abc import Callable, Iterator

REPO = HERE.parent
MELTANO = REPO / ".venv-meltano" / "bin" / "meltano"
# Plugins installed once, reused by later benchmarks (a `meltano install` takes
# minutes); delete the directory to reinstall.
SYS_DIR = Path(tempfile.gettempdir()) / "tap-voicegain-benchmark-meltano"
# What meltano.yml ships for target-postgres, and the target's own default.
TUNED_POSTGRES = {
    "TARGET_POSTGRES_VALIDATE_RECORDS": ("false", "true"),
    "TARGET_POSTGRES_USE_COPY": ("true", "false"),  # issue 22
}
# Issue 14: the shipped settings take at least 40 % off the pipeline's wall time.
SHIPPED_WALL_RATIO_TARGET = 0.6


def main(
    args: argparse.Namespace, workdir: Path, progress: Callable[[str], None]
) -> int:
    """Run the end-to-end rounds and print their report; 1 when a run failed."""
    started = time.monotonic()
    lines = [
        (
            f"tap-voicegain end-to-end benchmark: meltano run, {args.e2e_calls:,} "
            f"calls, per_page from meltano.yml, median of {args.repeat} "
            "interleaved round(s)"
        ),
        report.machine() + " (at start)",
    ]
    try:
        install(progress)
        with scratch_database() as (pg_env, conninfo):
            results = rounds(args, workdir, progress, pg_env, conninfo)
    except (RunError, SimulatorError, subprocess.CalledProcessError) as exc:
        print(f"benchmark failed: {exc}\n(logs kept in {workdir})", file=sys.stderr)
        return 1
    lines += ["", *table(args.e2e_calls, results)]
    base, tuned = results["target-postgres (defaults)"], results["target-postgres"]
    ratio = [m.wall_s / b.wall_s for m, b in zip(tuned, base, strict=True)]
    ok = statistics.median(ratio) <= SHIPPED_WALL_RATIO_TARGET
    lines += [
        "",
        "Targets (informational, never a failure):",
        (
            f"  [{'PASS' if ok else 'MISS'}] target-postgres: shipped settings' "
            f"wall <= {SHIPPED_WALL_RATIO_TARGET}x the defaults': "
            f"{statistics.median(ratio):.2f}x ({min(ratio):.2f}-{max(ratio):.2f})"
        ),
        "",
        f"{report.load()} at end; benchmark took {time.monotonic() - started:.0f} s",
    ]
    print("\n".join(lines))
    return 0


def install(progress: Callable[[str], None]) -> None:
    """``meltano install`` into :data:`SYS_DIR`, unless done before."""
    if not MELTANO.exists():
        msg = f"{MELTANO} is missing: run `make meltano` first"
        raise RunError(msg)
    stamp = SYS_DIR / ".installed"
    if stamp.exists():
        return
    progress(f"meltano install into {SYS_DIR} (once; takes a few minutes)")
    env = meltano_env({"MELTANO_SYS_DIR_ROOT": str(SYS_DIR)})
    subprocess.run(
        [str(MELTANO), "install"],
        cwd=REPO,
        env=env,
        check=True,
        capture_output=True,
    )
    stamp.touch()


@contextlib.contextmanager
def scratch_database() -> Iterator[tuple[dict[str, str], str]]:
    """A fresh PostgreSQL database: the target's settings and a connection string."""
    import psycopg  # noqa: PLC0415 - only this mode needs it

    host = os.environ.get("PGHOST") or "127.0.0.1"
    port = os.environ.get("PGPORT") or "5432"
    user = os.environ.get("PGUSER") or "postgres"
    password = os.environ.get("PGPASSWORD") or ""
    name = f"tap_voicegain_bench_{secrets.token_hex(4)}"

    def conninfo(dbname: str) -> str:
        return psycopg.conninfo.make_conninfo(
            host=host, port=port, user=user, dbname=dbname, password=password or None
        )

    try:
        admin = psycopg.connect(conninfo("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        msg = f"PostgreSQL is not reachable as {user}@{host}:{port}: {exc}"
        raise RunError(msg) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        try:
            yield (
                {
                    "TARGET_POSTGRES_HOST": host,
                    "TARGET_POSTGRES_PORT": port,
                    "TARGET_POSTGRES_USER": user,
                    # target-postgres insists on a password even under trust auth.
                    "TARGET_POSTGRES_PASSWORD": password or "unused-under-trust-auth",
                    "TARGET_POSTGRES_DATABASE": name,
                },
                conninfo(name),
            )
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def rounds(
    args: argparse.Namespace,
    workdir: Path,
    progress: Callable[[str], None],
    pg_env: dict[str, str],
    conninfo: str,
) -> dict[str, list[Run]]:
    """``--repeat`` rounds of every pipeline, interleaved."""
    import psycopg  # noqa: PLC0415

    results: dict[str, list[Run]] = {
        "target-postgres": [],
        "target-postgres (defaults)": [],
        "target-jsonl": [],
    }
    progress(f"starting the simulator with {args.e2e_calls:,} calls")
    log = workdir / "simulator-e2e.log"
    with serve(args.e2e_calls, log) as url, psycopg.connect(conninfo) as db:
        tap_env = {"TAP_VOICEGAIN_API_URL": url, "TAP_VOICEGAIN_JWT_TOKEN": TOKEN}
        for k in range(args.repeat + 1):  # round 0 warms the simulator, untimed
            for name, runs in results.items():
                where = workdir / f"{name.split()[0]}-{k}-{len(name)}"
                where.mkdir()
                env = {**tap_env, "MELTANO_DATABASE_URI": f"sqlite:///{where}/m.db"}
                target = name.split()[0]
                if target == "target-postgres":
                    schema = f"bench_{k}_{len(name)}"
                    env.update(pg_env, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=schema)
                    if "defaults" in name:
                        env.update(
                            {key: pair[1] for key, pair in TUNED_POSTGRES.items()}
                        )
                else:
                    env["TARGET_JSONL_DESTINATION_PATH"] = str(where)
                run = meltano_run(target, env, where / "meltano.log")
                loaded = (
                    count_rows(db, schema)
                    if target == "target-postgres"
                    else count_lines(where)
                )
                if loaded != args.e2e_calls:
                    msg = f"{name} loaded {loaded} calls, not {args.e2e_calls}"
                    raise RunError(msg)
                if k:
                    runs.append(run)
                progress(
                    f"{name} {k}/{args.repeat}{'' if k else ' (warm-up)'}: "
                    f"{run.wall_s:.1f} s wall, {run.cpu_s:.1f} s CPU"
                )
    return results


def meltano_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment minus what would steer Meltano, plus ``extra``."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_VOICEGAIN_", "TARGET_", "MELTANO_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env.update(extra)
    return env


def meltano_run(target: str, extra: dict[str, str], log: Path) -> Run:
    """``meltano run tap-voicegain TARGET`` under ``measure.py``."""
    env = meltano_env({"MELTANO_SYS_DIR_ROOT": str(SYS_DIR), **extra})
    command = [
        sys.executable,
        str(HERE / "measure.py"),
        "--stdout",
        str(log),
        "--stderr",
        str(log.with_suffix(".err")),
        "--",
        str(MELTANO),
        "run",
        "tap-voicegain",
        target,
    ]
    done = subprocess.run(command, cwd=REPO, env=env, capture_output=True, check=True)
    costs = json.loads(done.stdout)
    if costs["returncode"] != 0:
        msg = f"meltano run {target} exited {costs['returncode']}; see {log}"
        raise RunError(msg)
    return Run(costs["wall_s"], costs["cpu_s"], int(costs["maxrss_kb"]))


def count_rows(db: t.Any, schema: str) -> int:  # noqa: ANN401 - a psycopg connection
    """Rows of the calls table in ``schema``."""
    row = db.execute(f'SELECT count(*) FROM "{schema}".calls').fetchone()  # noqa: S608
    return int(row[0])


def count_lines(directory: Path) -> int:
    """Lines of the .jsonl files target-jsonl wrote into ``directory``."""
    return sum(
        len(path.read_bytes().splitlines()) for path in directory.glob("*.jsonl")
    )


def table(calls: int, results: dict[str, list[Run]]) -> list[str]:
    """One row per pipeline: wall median (min-max), calls/s, CPU, pair ratio."""
    header = (
        f"{'pipeline':<29}{'wall s':>8}{'min-max':>14}{'calls/s':>9}{'CPU s':>8}"
        f"{'peak RSS MB':>13}"
    )
    lines = [header]
    for name, runs in results.items():
        walls = [run.wall_s for run in runs]
        wall = statistics.median(walls)
        cpu = statistics.median(run.cpu_s for run in runs)
        rss = max(run.maxrss_kb for run in runs)
        lines.append(
            f"{name:<29}{wall:>8.2f}{f'{min(walls):.2f}-{max(walls):.2f}':>14}"
            f"{calls / wall:>9,.0f}{cpu:>8.2f}{report.mb(rss):>13.1f}"
        )
    lines.append(
        "(wall and CPU of the whole `meltano run`: Meltano, tap and target; the "
        "peak RSS is the largest process's)"
    )
    return lines
