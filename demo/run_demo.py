# ruff: noqa: INP001, S310, S603, S608, T201
"""``make demo``: the whole pipeline on this machine, no Voicegain token needed.

1. starts the Voicegain API simulator on a free loopback port, with a few
   thousand realistic calls;
2. ``meltano install`` (the plugins' virtualenvs under ``.meltano/``);
3. ``meltano run tap-voicegain target-duckdb`` with the opt-in
   ``call_segments`` and ``transcripts`` streams selected too, and prints what
   landed: one call's segments and one conversation included;
4. asks the simulator for new calls (``POST /_sim/add``), runs again and shows
   that only the new calls moved;
5. stops the simulator, whatever happened.

Everything the demo writes is in ``output/demo/`` (its DuckDB file, its own
Meltano state database, the logs), so it never touches the state of your own
``meltano run``. Run it with the project's virtualenv:
``.venv/bin/python demo/run_demo.py [--calls 3000] [--add 250]``.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import re
import shutil
import subprocess
import sys
import time
import typing as t
import urllib.request
from pathlib import Path

from voicegain_sim.launch import LaunchError, launched

if t.TYPE_CHECKING:
    from collections.abc import Iterator, Sequence

ROOT = Path(__file__).resolve().parents[1]
WORKDIR = ROOT / "output" / "demo"
TOKEN = "demo-token"  # noqa: S105 - the simulator's token, not a secret
TAP, TARGET = "tap-voicegain", "target-duckdb"
# meltano.yml selects calls.* only; the demo opts in to segments and transcripts
# (one request per call), as a project would with its own `select`.
SELECT = '["calls.*", "call_segments.*", "transcripts.*"]'
TRANSCRIPT_ENDPOINT = "/sa/{saSessionId}/transcript"
STATE_ID = f"dev:{TAP}-to-{TARGET}"  # meltano.yml's default environment is dev
SCHEMA = "voicegain"  # target-duckdb's default_target_schema in meltano.yml

_PAGE = re.compile(
    r"tap-voicegain\s+(Project \S+: (?:page |\d+ transcripts from |transcripts: ).*?)"
    r"\s*$"
)
_LOADING = re.compile(r"target-duckdb\s+Loading (\d+) rows into")
_METRIC = re.compile(r"\btap-voicegain\s+METRIC: (\{.*\})\s*$")
_INSTALL = re.compile(r"meltano\s+(Install(?:ing|ed) .*)$")


class DemoError(Exception):
    """A step of the demo failed; the message says which and where to look."""


def say(text: str = "") -> None:
    """Print a line at once (make's output is not a terminal)."""
    print(text, flush=True)


def heading(text: str) -> None:
    """Print a step's title."""
    say()
    say(f"== {text}")


# ------------------------------------------------------------- simulator


@contextlib.contextmanager
def simulator(calls: int, seed: int) -> Iterator[str]:
    """Run ``python -m voicegain_sim`` on a free port; yield its URL."""
    args = ["--calls", str(calls), "--token", TOKEN, "--seed", str(seed), "--segments"]
    try:
        with launched(args, log=WORKDIR / "simulator.log", cwd=ROOT) as sim:
            say(f"   {sim.banner} [pid {sim.pid}]")
            try:
                yield sim.url
            finally:
                say(f"   stopping the simulator (pid {sim.pid})")
    except LaunchError as exc:
        raise DemoError(str(exc)) from exc


def add_calls(api_url: str, count: int) -> dict[str, t.Any]:
    """Ask the simulator for ``count`` new finished calls."""
    root = api_url.removesuffix("/v1")
    request = urllib.request.Request(f"{root}/_sim/add?count={count}", method="POST")
    # The URL is the simulator's own http://127.0.0.1 address.
    with urllib.request.urlopen(request, timeout=30) as response:
        return t.cast("dict[str, t.Any]", json.load(response))


# ---------------------------------------------------------------- meltano


def meltano_env(api_url: str) -> dict[str, str]:
    """The demo's settings; none from your shell, so the demo is repeatable."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("TAP_VOICEGAIN_", "TARGET_", "MELTANO_"))
    }
    env.update(
        {
            "MELTANO_DATABASE_URI": f"sqlite:///{WORKDIR / 'meltano.db'}",
            "MELTANO_CLI_LOG_FORMAT": "uncolored",
            "NO_COLOR": "1",
            "TAP_VOICEGAIN_API_URL": api_url,
            "TAP_VOICEGAIN_JWT_TOKEN": TOKEN,
            "TAP_VOICEGAIN__SELECT": SELECT,
            "TARGET_DUCKDB_FILEPATH": str(WORKDIR / "demo.duckdb"),
        }
    )
    return env


def meltano(
    binary: Path,
    args: Sequence[str],
    env: dict[str, str],
    log_name: str,
    show: t.Callable[[str], str | None],
) -> str:
    """Run meltano, show the lines ``show`` picks, keep the full log; return it."""
    log_path = WORKDIR / log_name
    lines: list[str] = []
    with log_path.open("w") as log:
        proc = subprocess.Popen(
            [str(binary), *args],
            cwd=ROOT,
            env=env,
            text=True,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
        )
        assert proc.stdout is not None  # noqa: S101
        for line in proc.stdout:
            log.write(line)
            lines.append(line)
            shown = show(line)
            if shown:
                say(f"   {shown}")
        code = proc.wait()
    if code != 0:
        tail = "".join(lines[-25:])
        msg = f"meltano {' '.join(args)} exited {code}; full log: {log_path}\n{tail}"
        raise DemoError(msg)
    return "".join(lines)


def show_install(line: str) -> str | None:
    """Pick meltano install's progress lines."""
    match = _INSTALL.search(line)
    return match.group(1) if match else _show_problem(line)


def show_run(line: str) -> str | None:
    """Pick a run's progress lines: pages read, rows loaded, state saved."""
    if match := _PAGE.search(line):
        return f"tap-voicegain: {match.group(1)}"
    if match := _LOADING.search(line):
        return f"target-duckdb: loading {match.group(1)} rows"
    if "Incremental state has been updated" in line:
        return "meltano: state saved"
    return _show_problem(line)


def _show_problem(line: str) -> str | None:
    if re.search(r"\[(error|critical)\s*\]", line) or "Traceback" in line:
        return line.rstrip()
    return None


def metric_points(log: str) -> list[dict[str, t.Any]]:
    """The tap's METRIC points of a run."""
    points = []
    for line in log.splitlines():
        match = _METRIC.search(line)
        if match:
            points.append(json.loads(match.group(1)))
    return points


def records_sent(log: str, stream: str = "calls") -> int:
    """Records of ``stream`` the tap sent in a run, from its record_count metrics."""
    return sum(
        int(point["value"])
        for point in metric_points(log)
        if point.get("metric") == "record_count"
        and point.get("tags", {}).get("stream") == stream
    )


def transcript_figures(log: str) -> tuple[int, int, float]:
    """Transcripts sent, transcript requests made, and the stream's seconds."""
    points = metric_points(log)
    requests = sum(
        1
        for point in points
        if point.get("metric") == "http_request_duration"
        and point.get("tags", {}).get("endpoint") == TRANSCRIPT_ENDPOINT
    )
    seconds = sum(
        float(point["value"])
        for point in points
        if point.get("metric") == "sync_duration"
        and point.get("tags", {}).get("stream") == "transcripts"
    )
    return records_sent(log, "transcripts"), requests, seconds


def bookmark(binary: Path, env: dict[str, str]) -> int | None:
    """The callId bookmark Meltano saved for the demo's pipeline."""
    proc = subprocess.run(
        [str(binary), "state", "get", STATE_ID],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=False,
        timeout=120,
    )
    lines = [line for line in proc.stdout.splitlines() if line.startswith("{")]
    if proc.returncode != 0 or not lines:
        return None
    state = json.loads(lines[-1]).get("singer_state", {})
    for part in state.get("bookmarks", {}).get("calls", {}).get("partitions", []):
        value = part.get("replication_key_value")
        if value is not None:
            return int(value)
    return None


# ---------------------------------------------------------------- summary


def summarise(database: Path) -> dict[str, t.Any]:
    """Print what landed in DuckDB; return the numbers the demo checks."""
    import duckdb  # noqa: PLC0415 - from the project's test group (make install)

    table = f"{SCHEMA}.calls"
    with duckdb.connect(str(database), read_only=True) as con:
        count, first, last, since, until = con.execute(
            f"SELECT count(*), min(callid), max(callid), min(starttime), max(starttime)"
            f" FROM {table}",
        ).fetchone()
        phases = con.execute(
            f"SELECT direction, progressphase, count(*) FROM {table}"
            " GROUP BY ALL ORDER BY 1, 3 DESC",
        ).fetchall()
        sentiment = con.execute(
            f"SELECT direction, avg(sentiment), count(sentiment) FROM {table}"
            " GROUP BY ALL ORDER BY 1",
        ).fetchall()
        overall = con.execute(f"SELECT avg(sentiment) FROM {table}").fetchone()[0]
        score = con.execute(
            f"SELECT avg(score), count(score) FROM {table}",
        ).fetchone()
        tags = con.execute(
            "SELECT tag, count(*) FROM (SELECT unnest(CAST(tags AS VARCHAR[])) AS tag"
            f" FROM {table}) GROUP BY tag ORDER BY 2 DESC, 1 LIMIT 5",
        ).fetchall()
    say(f"   What landed in {database.relative_to(ROOT)}, table {table}:")
    say(f"     calls loaded        {count} (callId {first} .. {last})")
    say(
        f"     calls started       {since:%Y-%m-%d %H:%M} .. {until:%Y-%m-%d %H:%M} UTC"
    )
    say("     by direction and progress phase:")
    for direction, phase, n in phases:
        say(f"       {direction or '-':<10} {phase or '-':<8} {n:>6}")
    by_direction = ", ".join(
        f"{d} {avg:+.2f}" for d, avg, _ in sentiment if avg is not None
    )
    say(f"     average sentiment   {overall:+.3f} ({by_direction})")
    if score[1]:
        say(f"     average QA score    {score[0]:.1f} over {score[1]} reviewed calls")
    say("     top tags            " + ", ".join(f"{tag} {n}" for tag, n in tags))
    with duckdb.connect(str(database), read_only=True) as con:
        transcripts, expected = con.execute(
            f"SELECT (SELECT count(*) FROM {SCHEMA}.transcripts), (SELECT count(*)"
            f" FROM {table} WHERE progressphase = 'DONE' AND sasessionid IS NOT NULL)",
        ).fetchone()
    say(
        f"     transcripts         {transcripts} (of {expected} finished calls with "
        "a Speech Analytics session)"
    )
    return {
        "count": count,
        "last": last,
        "transcripts": transcripts,
        "expected_transcripts": expected,
    }


def show_conversation(database: Path) -> None:
    """Print one call's conversation from DuckDB, joined to its call on callId."""
    import duckdb  # noqa: PLC0415 - from the project's test group (make install)

    with duckdb.connect(str(database), read_only=True) as con:
        row = con.execute(
            f"SELECT t.callid, c.direction, c.starttime, t.sectioncount, t.wordcount,"
            f" t.text FROM {SCHEMA}.transcripts t JOIN {SCHEMA}.calls c"
            " USING (callid) ORDER BY abs(t.sectioncount - 4), t.callid LIMIT 1",
        ).fetchone()
    if row is None:
        return
    call_id, direction, started, sections, words, text = row
    say(
        f"   One conversation (callId {call_id}, {direction}, {started:%Y-%m-%d %H:%M}"
        f" UTC; {sections} sections, {words} words), from {SCHEMA}.transcripts:"
    )
    for line in str(text).splitlines():
        say(f"     {line}")


def show_segments(database: Path) -> None:
    """Print one transferred call's segments, joined to its call on callId."""
    import duckdb  # noqa: PLC0415 - from the project's test group (make install)

    with duckdb.connect(str(database), read_only=True) as con:
        total, calls = con.execute(
            f"SELECT count(*), count(DISTINCT callid) FROM {SCHEMA}.call_segments"
        ).fetchone()
        rows = con.execute(
            f"SELECT s.callid, s.segmentseq, s.type, s.duration,"
            f" json_extract_string(s.agent, '$.name'),"
            f" json_extract_string(s.queue, '$.name'), s.score, s.transferdesttype"
            f" FROM {SCHEMA}.call_segments s JOIN {SCHEMA}.calls c USING (callid)"
            f" WHERE s.callid = (SELECT callid FROM {SCHEMA}.call_segments"
            "   GROUP BY callid ORDER BY count(DISTINCT type) DESC, count(*) DESC,"
            "   callid LIMIT 1) ORDER BY s.segmentseq",
        ).fetchall()
    say(f"     call segments       {total} (of {calls} calls)")
    if not rows:
        return
    say(f"   One call's segments (callId {rows[0][0]}), from {SCHEMA}.call_segments:")
    for _, seq, kind, seconds, agent, queue, score, transfer in rows:
        say(
            f"     {seq}. {kind:<6} {seconds or 0:>6.1f} s  agent {agent or '-':<18}"
            f" queue {queue or '-':<26} score {score if score is not None else '-'}"
            f"{f'  -> {transfer}' if transfer else ''}"
        )


def _check_transcripts(summary: dict[str, t.Any]) -> None:
    if summary["transcripts"] != summary["expected_transcripts"]:
        msg = (
            f"{summary['transcripts']} transcripts in DuckDB for "
            f"{summary['expected_transcripts']} finished calls with a session"
        )
        raise DemoError(msg)


# ------------------------------------------------------------------- main


def pipeline_run(binary: Path, env: dict[str, str], number: int) -> int:
    """``meltano run tap-voicegain target-duckdb``; returns the calls the tap sent."""
    started = time.monotonic()
    log = meltano(
        binary, ["run", TAP, TARGET], env, f"meltano-run-{number}.log", show_run
    )
    sent = records_sent(log)
    transcripts, requests, seconds = transcript_figures(log)
    say(f"   done in {time.monotonic() - started:.0f} s: the tap sent {sent} calls")
    say(
        f"   and {transcripts} transcripts from {requests} transcript requests in "
        f"{seconds:.0f} s (one request per finished call; at the API's default "
        f"2,000 requests/hour that is {requests / 2000:.1f} h)"
    )
    return sent


def run_demo(args: argparse.Namespace) -> None:
    """All steps; raises DemoError when one fails."""
    binary = Path(args.meltano)
    if not binary.is_file():
        msg = f"Meltano is not at {binary}; `make demo` installs it into .venv-meltano"
        raise DemoError(msg)
    if WORKDIR.exists():
        shutil.rmtree(WORKDIR)
    WORKDIR.mkdir(parents=True)
    database = WORKDIR / "demo.duckdb"
    started = time.monotonic()

    heading(f"1/5 Starting the Voicegain API simulator ({args.calls} calls, loopback)")
    with simulator(args.calls, args.seed) as api_url:
        env = meltano_env(api_url)

        heading(
            "2/5 meltano install (plugins under .meltano/; a minute the first time)"
        )
        meltano(binary, ["install"], env, "meltano-install.log", show_install)

        heading(f"3/5 meltano run {TAP} {TARGET}")
        first_sent = pipeline_run(binary, env, 1)
        first = summarise(database)
        show_segments(database)
        show_conversation(database)
        mark1 = bookmark(binary, env)
        say(f"     bookmark            callId {mark1} (Meltano state {STATE_ID})")
        if first["count"] != first_sent:
            msg = f"{first_sent} calls sent but {first['count']} rows in DuckDB"
            raise DemoError(msg)
        _check_transcripts(first)

        heading(f"4/5 New calls arrive (POST /_sim/add?count={args.add}); run again")
        added = add_calls(api_url, args.add)
        say(
            f"   the simulator added {added['added']} finished calls, "
            f"up to callId {added['last_call_id']}"
        )
        second_sent = pipeline_run(binary, env, 2)
        second = summarise(database)
        _check_transcripts(second)
        mark2 = bookmark(binary, env)
        say(f"     bookmark            callId {mark1} -> {mark2}")
        if second_sent != args.add or second["count"] != first["count"] + args.add:
            msg = (
                f"expected exactly the {args.add} new calls to move; "
                f"{second_sent} were sent and the table has {second['count']} rows"
            )
            raise DemoError(msg)
        say(
            f"   Only the new calls moved: {second_sent} sent, "
            f"{first['count']} -> {second['count']} rows, none sent twice."
        )

        heading("5/5 Stopping the simulator")
    rel = database.relative_to(ROOT)
    say()
    say(f"Demo finished in {time.monotonic() - started:.0f} s. Look around:")
    say(f"  {rel}   the DuckDB database, e.g.")
    say(
        f"      .venv/bin/python -c \"import duckdb; duckdb.connect('{rel}', "
        "read_only=True).sql('FROM voicegain.calls LIMIT 5').show()\""
    )
    say(
        f"      .venv/bin/python -c \"import duckdb; print(duckdb.connect('{rel}', "
        "read_only=True).execute('SELECT text FROM voicegain.transcripts LIMIT 1')"
        '.fetchone()[0])"'
    )
    say(f"  {rel.parent}/*.log    what meltano and the simulator printed")
    say("  README.md             the real API, and loading into PostgreSQL")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; 0 on success, 1 when a step failed."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--calls", type=int, default=3000, help="calls to start with")
    parser.add_argument("--add", type=int, default=250, help="calls added before run 2")
    parser.add_argument("--seed", type=int, default=0, help="simulator data seed")
    parser.add_argument(
        "--meltano",
        default=str(ROOT / ".venv-meltano" / "bin" / "meltano"),
        help="meltano executable (default: .venv-meltano/bin/meltano)",
    )
    args = parser.parse_args(argv)
    try:
        run_demo(args)
    except DemoError as exc:
        say()
        say(f"DEMO FAILED: {exc}")
        return 1
    except KeyboardInterrupt:
        say()
        say("Demo interrupted.")
        return 130
    return 0


if __name__ == "__main__":
    sys.exit(main())
