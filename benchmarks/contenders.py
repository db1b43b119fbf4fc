# Copyright 2026 tap-voicegain contributors
# SPDX-License-Identifier: Apache-2.0
"""The pipelines compared by ``--scheduled`` and ``--backfill``: Meltano and dlt.

``MeltanoProject``: ``meltano run tap-voicegain target-postgres|target-duckdb``
in a snapshot of a checkout (the files as they are when the benchmark starts,
so edits made meanwhile change nothing), its plugins installed by ``meltano
install`` into a directory of the benchmark's own, exactly as the snapshot's
``meltano.yml`` says. A variant changes one thing in the snapshot (see
:data:`VARIANTS`). ``DltPipeline``: ``dlt_pipeline.py`` in benchmarks/.venv-dlt,
created on first use from ``requirements-dlt.txt``.

Each contender runs under ``measure.py`` (wall, CPU and peak RSS of the whole
process tree) and says how many calls it exported; the benchmark then counts
the rows in the destination.
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import shutil
import subprocess
import sys
import typing as t

import timeline
from runs import HERE, Run, RunError, _check_exported
from simserver import TOKEN

if t.TYPE_CHECKING:
    from pathlib import Path

REPO = HERE.parent
MELTANO = REPO / ".venv-meltano" / "bin" / "meltano"
DLT_VENV = HERE / ".venv-dlt"
DLT_REQUIREMENTS = HERE / "requirements-dlt.txt"
SNAPSHOT_IGNORE = shutil.ignore_patterns(
    ".git",
    ".venv*",
    ".meltano",
    "output",
    "dist",
    "build",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "*.duckdb",
    "*.duckdb.wal",
)
# What each --meltano-variants name changes in the snapshot, for issue 22:
VARIANTS = {
    # (a) bytecode: meltano.yml's top-level env gives uv UV_COMPILE_BYTECODE=1
    # when `meltano install` builds the plugin virtualenvs.
    "compiled": "plugin venvs compiled (meltano.yml env: UV_COMPILE_BYTECODE=1)",
    # (a) and the editable tap's own source, which uv does not compile.
    "compiled-src": "compiled, and the tap's source too (python -m compileall)",
    # (a) another way: meltano.yml's env clears PYTHONDONTWRITEBYTECODE for the
    # plugins, which then write their bytecode on their first run.
    "runtime-bytecode": "meltano.yml env: PYTHONDONTWRITEBYTECODE '' (plugins write)",
    # (b) pip_url without -e: Meltano then reuses its cached catalog.
    "cached-catalog": "extractor pip_url without its '-e' (catalog then cached)",
    # (c) target-postgres loads each batch with COPY instead of INSERT.
    "use-copy": "target-postgres use_copy: true",
}


def _clean_env(extra: dict[str, str]) -> dict[str, str]:
    """This environment minus what would steer Meltano, dlt or uv, plus ``extra``.

    ``make`` exports UV_COMPILE_BYTECODE for its own virtualenvs; a user who
    runs ``meltano install`` has no such variable, so neither does the benchmark.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_VOICEGAIN_", "TARGET_", "MELTANO_", "UV_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
        and not key.startswith(("DESTINATION__", "RUNTIME__", "NORMALIZE__", "LOAD__"))
    }
    env.update(extra)
    return env


def _slug(label: str) -> str:
    return "".join(c if c.isalnum() else "-" for c in label).strip("-")


@dataclasses.dataclass
class Outcome:
    """One measured pipeline run."""

    run: Run
    phases: dict[str, float] | None = None  # dlt: from its stamps
    trace: Path | None = None  # Meltano under strace: its log


@dataclasses.dataclass
class Slot:
    """Where one contender's run lands, and where its state lives."""

    schema: str  # PostgreSQL schema, or DuckDB dataset/schema
    state_dir: Path  # Meltano system database / dlt pipelines directory
    duckdb_file: Path


class MeltanoProject:
    """``meltano run tap-voicegain TARGET`` in a snapshot of a checkout."""

    kind = "meltano"

    def __init__(
        self, label: str, source: Path, variants: tuple[str, ...], workdir: Path
    ) -> None:
        """Snapshot ``source`` (a checkout's root) with ``variants`` applied, later."""
        self.label = label
        self.source = source
        self.variants = variants
        slug = _slug(label)
        self.root = workdir / f"project-{slug}"
        self.sys_dir = workdir / f"meltano-{slug}"
        self.template_db = workdir / f"meltano-{slug}-template.db"

    def prepare(self, progress: t.Callable[[str], None]) -> None:
        """Snapshot, apply the variants, ``meltano install``, migrate a system DB."""
        if not MELTANO.exists():
            msg = f"{MELTANO} is missing: run `make meltano` first"
            raise RunError(msg)
        shutil.copytree(self.source, self.root, ignore=SNAPSHOT_IGNORE)
        self._apply_variants()
        progress(f"{self.label}: meltano install (snapshot of {self.source})")
        env = _clean_env({"MELTANO_SYS_DIR_ROOT": str(self.sys_dir)})
        self._meltano(["install"], env)
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{self.template_db}"
        self._meltano(["state", "list"], env)  # creates the system database

    def _meltano(self, args: list[str], env: dict[str, str]) -> None:
        done = subprocess.run(
            [str(MELTANO), *args],
            cwd=self.root,
            env=env,
            capture_output=True,
            check=False,
        )
        if done.returncode:
            tail = done.stderr.decode(errors="replace")[-3000:]
            msg = f"{self.label}: meltano {' '.join(args)} failed:\n{tail}"
            raise RunError(msg)

    def _apply_variants(self) -> None:
        if not self.variants:
            return  # meltano.yml exactly as shipped
        import yaml  # noqa: PLC0415 - only variants rewrite the file

        path = self.root / "meltano.yml"
        project = yaml.safe_load(path.read_text())
        plugins = project["plugins"]
        tap = next(p for p in plugins["extractors"] if p["name"] == "tap-voicegain")
        postgres = next(p for p in plugins["loaders"] if p["name"] == "target-postgres")
        if {"compiled", "compiled-src"} & set(self.variants):
            project.setdefault("env", {})["UV_COMPILE_BYTECODE"] = "1"
        if "runtime-bytecode" in self.variants:
            project.setdefault("env", {})["PYTHONDONTWRITEBYTECODE"] = ""
        if "compiled-src" in self.variants:
            subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "compileall",
                    "-q",
                    str(self.root / "tap_voicegain"),
                ],
                check=True,
            )
        if "cached-catalog" in self.variants:  # the rest (constraints) stays
            tap["pip_url"] = str(tap["pip_url"]).removeprefix("-e ").lstrip()
        if "use-copy" in self.variants:
            postgres.setdefault("config", {})["use_copy"] = True
        path.write_text(yaml.safe_dump(project, sort_keys=False))

    def slot(self, workdir: Path, name: str) -> Slot:
        """A fresh place to load into, with a fresh (migrated) system database."""
        where = workdir / f"{_slug(self.label)}-{name}"
        where.mkdir(parents=True)
        shutil.copyfile(self.template_db, where / "meltano.db")
        return Slot(
            f"{_slug(self.label)}_{name}".replace("-", "_"),
            where,
            where / "warehouse.duckdb",
        )

    def run(  # noqa: PLR0913
        self,
        destination: str,
        slot: Slot,
        url: str,
        pg_env: dict[str, str],
        expected: int,
        *,
        trace: bool = False,
    ) -> Outcome:
        """One ``meltano run``, measured; checks the exported count."""
        target = f"target-{destination}"
        env = _clean_env(
            {
                "MELTANO_SYS_DIR_ROOT": str(self.sys_dir),
                "MELTANO_DATABASE_URI": f"sqlite:///{slot.state_dir / 'meltano.db'}",
                "TAP_VOICEGAIN_API_URL": url,
                "TAP_VOICEGAIN_JWT_TOKEN": TOKEN,
            }
        )
        if destination == "postgres":
            env.update(pg_env, TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA=slot.schema)
        else:
            env["TARGET_DUCKDB_FILEPATH"] = str(slot.duckdb_file)
        log = slot.state_dir / f"run-{len(list(slot.state_dir.glob('run-*.log')))}.log"
        command = [str(MELTANO), "run", "tap-voicegain", target]
        strace_log = log.with_suffix(".strace")
        if trace:
            if timeline.STRACE is None:
                msg = "--breakdown needs strace"
                raise RunError(msg)
            command = [
                timeline.STRACE,
                *timeline.STRACE_ARGS,
                "-o",
                str(strace_log),
                *command,
            ]
        run = _measured(command, log, env, cwd=self.root)
        _check_exported(command, log, expected)
        return Outcome(run, trace=strace_log if trace else None)

    def duckdb_python(self) -> Path:
        """The interpreter that has target-duckdb's duckdb (to count its rows)."""
        return self.sys_dir / "loaders" / "target-duckdb" / "venv" / "bin" / "python"

    def duckdb_table(self, slot: Slot) -> str:  # noqa: ARG002
        """The calls table in the DuckDB file (meltano.yml's target schema)."""
        return "voicegain.calls"


class DltPipeline:
    """``dlt_pipeline.py`` in benchmarks/.venv-dlt."""

    kind = "dlt"
    label = "dlt"

    def prepare(self, progress: t.Callable[[str], None]) -> None:
        """Create benchmarks/.venv-dlt from requirements-dlt.txt, once."""
        ensure_dlt_venv(progress)

    def slot(self, workdir: Path, name: str) -> Slot:
        """A fresh pipelines directory and dataset."""
        where = workdir / f"dlt-{name}"
        where.mkdir(parents=True)
        return Slot(f"dlt_{name}".replace("-", "_"), where, where / "warehouse.duckdb")

    def run(  # noqa: PLR0913
        self,
        destination: str,
        slot: Slot,
        url: str,
        pg_env: dict[str, str],
        expected: int,
        *,
        trace: bool = False,  # noqa: ARG002 - its phases come from its stamps
    ) -> Outcome:
        """One pipeline process, measured; checks the exported count."""
        if destination == "postgres":
            credentials = (
                f"postgresql://{pg_env['TARGET_POSTGRES_USER']}:"
                f"{pg_env['TARGET_POSTGRES_PASSWORD']}@{pg_env['TARGET_POSTGRES_HOST']}:"
                f"{pg_env['TARGET_POSTGRES_PORT']}/{pg_env['TARGET_POSTGRES_DATABASE']}"
            )
        else:
            credentials = str(slot.duckdb_file)
        log = slot.state_dir / f"run-{len(list(slot.state_dir.glob('run-*.log')))}.log"
        stamps = log.with_suffix(".stamps.json")
        command = [
            str(DLT_VENV / "bin" / "python"),
            str(HERE / "dlt_pipeline.py"),
            "--url",
            url,
            "--token",
            TOKEN,
            "--destination",
            destination,
            "--credentials",
            credentials,
            "--dataset",
            slot.schema,
            "--pipelines-dir",
            str(slot.state_dir / "pipelines"),
            "--stamps",
            str(stamps),
        ]
        run = _measured(command, log, _clean_env({}), cwd=slot.state_dir)
        _check_exported(command[:2], log, expected)
        marks = json.loads(stamps.read_text())
        marks["process_started"] = run.started_at
        phases = timeline.dlt_phases(marks, run.started_at + run.wall_s)
        return Outcome(run, phases=phases)

    def duckdb_python(self) -> Path:
        """dlt's interpreter (its duckdb wrote the file)."""
        return DLT_VENV / "bin" / "python"

    def duckdb_table(self, slot: Slot) -> str:
        """The calls table in the DuckDB file (the dataset is the schema)."""
        return f"{slot.schema}.calls"


Contender = MeltanoProject | DltPipeline


def _measured(command: list[str], log: Path, env: dict[str, str], cwd: Path) -> Run:
    wrapper = [
        sys.executable,
        str(HERE / "measure.py"),
        "--stdout",
        str(log),
        "--stderr",
        str(log),
        "--",
        *command,
    ]
    done = subprocess.run(wrapper, cwd=cwd, env=env, capture_output=True, check=True)
    costs = json.loads(done.stdout)
    if costs["returncode"] != 0:
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-20:])
        msg = f"{' '.join(command[:4])} exited {costs['returncode']}; {log}:\n{tail}"
        raise RunError(msg)
    return Run(
        costs["wall_s"], costs["cpu_s"], int(costs["maxrss_kb"]), costs["started_at"]
    )


def ensure_dlt_venv(progress: t.Callable[[str], None]) -> Path:
    """benchmarks/.venv-dlt with requirements-dlt.txt installed (anew if changed)."""
    digest = hashlib.sha256(DLT_REQUIREMENTS.read_bytes()).hexdigest()[:16]
    stamp = DLT_VENV / f".requirements-{digest}"
    if stamp.exists():
        return DLT_VENV
    progress(f"creating {DLT_VENV} from {DLT_REQUIREMENTS.name} (once)")
    if DLT_VENV.exists():
        shutil.rmtree(DLT_VENV)
    base = getattr(sys, "_base_executable", sys.executable)
    subprocess.run([base, "-m", "venv", str(DLT_VENV)], check=True)
    # pip compiles bytecode as it installs, whatever PYTHONDONTWRITEBYTECODE says.
    done = subprocess.run(
        [
            str(DLT_VENV / "bin" / "python"),
            "-m",
            "pip",
            "install",
            "--quiet",
            "-r",
            str(DLT_REQUIREMENTS),
        ],
        capture_output=True,
        check=False,
    )
    if done.returncode:
        tail = done.stderr.decode(errors="replace")[-3000:]
        msg = f"pip install -r {DLT_REQUIREMENTS} failed:\n{tail}"
        raise RunError(msg)
    stamp.touch()
    return DLT_VENV


def count_duckdb(python: Path, path: Path, table: str) -> int:
    """Rows of ``table`` in a DuckDB file, read by the duckdb that wrote it."""
    code = (
        "import duckdb, sys; c = duckdb.connect(sys.argv[1], read_only=True); "
        "print(c.execute(f'select count(*) from {sys.argv[2]}').fetchone()[0])"
    )
    done = subprocess.run(
        [str(python), "-c", code, str(path), table], capture_output=True, check=True
    )
    return int(done.stdout)
