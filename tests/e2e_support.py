"""Helpers for the end-to-end tests: Meltano as a subprocess, PostgreSQL, logs.

The tests drive ``meltano run`` exactly as a user does, from the project root
with its ``meltano.yml``. Meltano lives in its own virtualenv (``.venv-meltano``,
made by ``make test``/``make demo``) so that its dependencies never meet the
tap's. A test session installs the plugins into its own system directory, and
each pipeline gets its own Meltano system database (where Meltano keeps state),
so tests neither see nor touch a user's ``.meltano/`` or state.
"""

from __future__ import annotations

import dataclasses
import json
import os
import re
import secrets
import subprocess
import time
import typing as t
from pathlib import Path

import pytest

from tests.helpers import bookmark  # noqa: F401 - e2e.bookmark, used by the e2e tests

REPO_ROOT = Path(__file__).resolve().parents[1]
MELTANO_VENV = REPO_ROOT / ".venv-meltano"
TOKEN = "e2e-token"  # the simulator's token, not a secret
ENVIRONMENT = "dev"  # meltano.yml's default_environment; state ids start with it
MELTANO_TIMEOUT = 600  # seconds for one meltano command; a run takes ~15 s here
REQUIRE_ENV = "TAP_VOICEGAIN_REQUIRE_POSTGRES"

_METRIC = re.compile(r"\btap-voicegain\s+METRIC: (\{.*\})\s*$")


def required() -> bool:
    """Whether end-to-end tests must run (CI) instead of skipping."""
    return os.environ.get(REQUIRE_ENV, "").strip().lower() not in {
        "",
        "0",
        "false",
        "no",
    }


def skip_or_fail(reason: str) -> t.NoReturn:
    """Skip with ``reason``, or fail when the environment requires e2e tests."""
    if required():
        pytest.fail(
            f"{reason} ({REQUIRE_ENV} is set, so this is a failure, not a skip)"
        )
    pytest.skip(reason)


def say(request: pytest.FixtureRequest, message: str) -> None:
    """Print a progress line to the terminal, past pytest's output capture."""
    plugins = request.config.pluginmanager
    reporter = plugins.get_plugin("terminalreporter")
    capture = plugins.get_plugin("capturemanager")
    if reporter is None or capture is None:
        return
    with capture.global_and_fixture_disabled():
        reporter.ensure_newline()
        reporter.write_line(f"[e2e] {message}")


# ---------------------------------------------------------------- Meltano


def meltano_executable() -> Path | None:
    """Meltano of ``.venv-meltano`` (or ``$TAP_VOICEGAIN_MELTANO``), if installed."""
    override = os.environ.get("TAP_VOICEGAIN_MELTANO")
    candidates = [Path(override)] if override else []
    candidates.append(MELTANO_VENV / "bin" / "meltano")
    for candidate in candidates:
        if candidate.is_file() and os.access(candidate, os.X_OK):
            return candidate
    return None


def base_env() -> dict[str, str]:
    """This process's environment without settings that would steer Meltano.

    A developer's shell may hold a real token or a target's password; the tests
    set every setting they rely on themselves.
    """
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_VOICEGAIN_", "TARGET_", "MELTANO_"))
        and key not in {"VIRTUAL_ENV", "PYTHONPATH"}
    }
    env["MELTANO_CLI_LOG_FORMAT"] = "uncolored"
    env["NO_COLOR"] = "1"
    return env


@dataclasses.dataclass
class MeltanoResult:
    """One finished meltano command."""

    args: list[str]
    returncode: int
    output: str
    seconds: float

    def check(self) -> MeltanoResult:
        """Raise with the log's tail when the command failed."""
        if self.returncode != 0:
            tail = "\n".join(self.output.splitlines()[-60:])
            msg = f"meltano {' '.join(self.args)} exited {self.returncode}:\n{tail}"
            raise AssertionError(msg)
        return self

    def tap_metrics(self, metric: str) -> list[dict[str, t.Any]]:
        """The tap's METRIC log points named ``metric``."""
        found = []
        for line in self.output.splitlines():
            match = _METRIC.search(line)
            if match:
                point = json.loads(match.group(1))
                if point.get("metric") == metric:
                    found.append(point)
        return found

    @property
    def records_emitted(self) -> int:
        """RECORD messages the tap wrote, from its record_count metrics."""
        points = self.tap_metrics("record_count")
        if not points:
            msg = "the tap logged no record_count metric; is its log level above info?"
            raise AssertionError(msg)
        return sum(int(p["value"]) for p in points)


@dataclasses.dataclass(frozen=True)
class MeltanoHome:
    """Meltano's executable and the ``.meltano`` system directory the tests use.

    The tests keep their own system directory (``MELTANO_SYS_DIR_ROOT``) per
    test session: Meltano writes each plugin's run files to one fixed place in
    it (``run/tap-voicegain/state.json``, ...), so two sessions, or a session and
    a user's own ``meltano run``, sharing the project's ``.meltano/`` would
    overwrite each other's files.
    """

    meltano: Path
    sys_dir: Path

    def plugin_python(self, plugin_type: str, name: str) -> Path:
        """Python of a plugin's virtualenv."""
        return self.sys_dir / plugin_type / name / "venv" / "bin" / "python"


_installed: dict[MeltanoHome, float] = {}


def meltano_home(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
) -> MeltanoHome:
    """Meltano with every plugin installed, once per test session.

    ``meltano install`` puts the plugins' virtualenvs (the tap from the work
    tree, ``pip_url: -e .``) into this session's system directory.
    """
    found = meltano_executable()
    if found is None:
        skip_or_fail(
            f"Meltano is not installed in {MELTANO_VENV}; `make test` installs it"
        )
    home = MeltanoHome(found, tmp_path_factory.getbasetemp() / "meltano-sys")
    if home not in _installed:
        say(request, f"meltano install into {home.sys_dir} (once per session) ...")
        started = time.monotonic()
        env = base_env()
        env["MELTANO_SYS_DIR_ROOT"] = str(home.sys_dir)
        proc = subprocess.run(
            [str(found), "install"],
            cwd=REPO_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=MELTANO_TIMEOUT,
            check=False,
        )
        if proc.returncode != 0:
            msg = f"meltano install failed ({proc.returncode}):\n{proc.stdout}"
            raise AssertionError(msg)
        _installed[home] = time.monotonic() - started
        say(request, f"meltano install done ({_installed[home]:.0f} s)")
    return home


@dataclasses.dataclass
class Pipeline:
    """A Meltano project run with its own system database and settings."""

    home: MeltanoHome
    workdir: Path
    env: dict[str, str] = dataclasses.field(default_factory=dict)

    def __post_init__(self) -> None:
        """Give the pipeline its own Meltano system database (its state)."""
        self.workdir.mkdir(parents=True, exist_ok=True)
        self.system_db = self.workdir / "meltano.db"
        self.runs = 0

    def environ(self, extra: dict[str, str] | None = None) -> dict[str, str]:
        """The environment of a meltano command of this pipeline."""
        env = base_env()
        env["MELTANO_SYS_DIR_ROOT"] = str(self.home.sys_dir)
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{self.system_db}"
        env.update(self.env)
        env.update(extra or {})
        return env

    def meltano_cmd(
        self, *args: str, extra_env: dict[str, str] | None = None
    ) -> MeltanoResult:
        """Run ``meltano ARGS`` in the project root; the log is kept in workdir."""
        started = time.monotonic()
        proc = subprocess.run(
            [str(self.home.meltano), *args],
            cwd=REPO_ROOT,
            env=self.environ(extra_env),
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            timeout=MELTANO_TIMEOUT,
            check=False,
        )
        self.runs += 1
        (self.workdir / f"meltano-{self.runs:02d}.log").write_text(proc.stdout)
        return MeltanoResult(
            list(args), proc.returncode, proc.stdout, time.monotonic() - started
        )

    def run(
        self,
        tap: str,
        target: str,
        *flags: str,
        extra_env: dict[str, str] | None = None,
    ) -> MeltanoResult:
        """``meltano run [FLAGS] TAP TARGET``, which must succeed."""
        return self.meltano_cmd("run", *flags, tap, target, extra_env=extra_env).check()

    def state(self, tap: str, target: str) -> dict[str, t.Any]:
        """The Singer state Meltano saved for ``tap`` -> ``target``."""
        state_id = f"{ENVIRONMENT}:{tap}-to-{target}"
        result = self.meltano_cmd("state", "get", state_id).check()
        lines = [line for line in result.output.splitlines() if line.startswith("{")]
        if not lines:
            msg = f"no state for {state_id}:\n{result.output}"
            raise AssertionError(msg)
        return t.cast("dict[str, t.Any]", json.loads(lines[-1]))


def tap_env(api_url: str) -> dict[str, str]:
    """Settings pointing the tap at a simulator."""
    return {
        "TAP_VOICEGAIN_API_URL": api_url,
        "TAP_VOICEGAIN_JWT_TOKEN": TOKEN,
        "TAP_VOICEGAIN_PER_PAGE": "500",  # several pages per run
        # The simulated calls are from 2024: a call "still processing" there
        # holds the export (as a recent one would) instead of being stuck.
        "TAP_VOICEGAIN_MAX_PROCESSING_HOURS": "10000000",
    }


def package_version(python: Path, distribution: str) -> str:
    """Version of ``distribution`` installed for ``python``."""
    code = f"from importlib.metadata import version; print(version({distribution!r}))"
    proc = subprocess.run(
        [str(python), "-c", code],
        capture_output=True,
        text=True,
        check=True,
        timeout=60,
    )
    return proc.stdout.strip()


# ------------------------------------------------------------- PostgreSQL


@dataclasses.dataclass(frozen=True)
class PgServer:
    """Where the e2e tests find PostgreSQL (libpq variables, else the defaults)."""

    host: str = dataclasses.field(
        default_factory=lambda: os.environ.get("PGHOST") or "127.0.0.1"
    )
    port: int = dataclasses.field(
        default_factory=lambda: int(os.environ.get("PGPORT") or 5432)
    )
    user: str = dataclasses.field(
        default_factory=lambda: os.environ.get("PGUSER") or "postgres"
    )
    password: str = dataclasses.field(
        default_factory=lambda: os.environ.get("PGPASSWORD") or "",
        repr=False,
    )

    def conninfo(self, dbname: str) -> str:
        """A libpq connection string for ``dbname``."""
        import psycopg.conninfo  # noqa: PLC0415 - only the PostgreSQL tests need it

        params: dict[str, t.Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": dbname,
            "connect_timeout": 5,
        }
        if self.password:
            params["password"] = self.password
        return psycopg.conninfo.make_conninfo(**params)

    def target_env(self, dbname: str, schema: str) -> dict[str, str]:
        """target-postgres settings for ``dbname``/``schema``."""
        return {
            "TARGET_POSTGRES_HOST": self.host,
            "TARGET_POSTGRES_PORT": str(self.port),
            "TARGET_POSTGRES_USER": self.user,
            # target-postgres insists on a password even under trust auth.
            "TARGET_POSTGRES_PASSWORD": self.password or "unused-under-trust-auth",
            "TARGET_POSTGRES_DATABASE": dbname,
            "TARGET_POSTGRES_DEFAULT_TARGET_SCHEMA": schema,
        }


def scratch_database_name() -> str:
    """A fresh database name for one test session."""
    return f"tap_voicegain_e2e_{secrets.token_hex(4)}"
