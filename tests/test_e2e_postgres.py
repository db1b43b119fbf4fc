"""End to end: ``meltano run tap-voicegain target-postgres`` into a real PostgreSQL.

Each test session creates a scratch database (``tap_voicegain_e2e_<random>``)
and drops it at the end. Without a reachable PostgreSQL these tests skip, and
say so in pytest's summary; with ``TAP_VOICEGAIN_REQUIRE_POSTGRES=1`` (set by
``.ci/run``) they fail instead.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import typing as t
from decimal import Decimal

import pytest

from tests import e2e_support as e2e
from tests.oracle import exported
from tests.transcript_support import expected_text, with_transcript
from voicegain_sim import VoicegainSimulator, make_calls

if t.TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

    import psycopg

pytestmark = pytest.mark.e2e

TAP, TARGET = "tap-voicegain", "target-postgres"


# -------------------------------------------------------------- fixtures


@pytest.fixture(scope="module")
def pg(request: pytest.FixtureRequest) -> Iterator[tuple[e2e.PgServer, str]]:
    """A scratch database on the PostgreSQL server, dropped afterwards."""
    try:
        import psycopg  # noqa: PLC0415 - a missing driver is reported below
    except ImportError as exc:
        e2e.skip_or_fail(f"psycopg is not installed ({exc}); `make test` installs it")
    server = e2e.PgServer()
    where = f"{server.user}@{server.host}:{server.port}"
    try:
        admin = psycopg.connect(server.conninfo("postgres"), autocommit=True)
    except psycopg.OperationalError as exc:
        why = " ".join(str(exc).split())
        e2e.skip_or_fail(
            f"PostgreSQL is not reachable as {where} ({why}); the end-to-end tests "
            "into PostgreSQL did not run. Start PostgreSQL or point PGHOST/PGPORT/"
            "PGUSER/PGPASSWORD at one (.ci/run starts the machine's cluster)",
        )
    name = e2e.scratch_database_name()
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
        e2e.say(request, f"PostgreSQL {where}: scratch database {name}")
        try:
            yield server, name
        finally:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
            e2e.say(request, f"PostgreSQL: dropped {name}")


@pytest.fixture(scope="module")
def meltano(request: pytest.FixtureRequest, tmp_path_factory) -> e2e.MeltanoHome:
    return e2e.meltano_home(request, tmp_path_factory)


class Scenario(t.NamedTuple):
    """A simulator, a pipeline into its own schema, and a connection to it."""

    sim: VoicegainSimulator
    pipeline: e2e.Pipeline
    db: psycopg.Connection[t.Any]
    schema: str

    def rows(self, columns: str = '"callId"') -> list[tuple[t.Any, ...]]:
        query = f'SELECT {columns} FROM "{self.schema}".calls ORDER BY "callId"'  # noqa: S608
        return self.db.execute(query).fetchall()

    def value(self, column: str, call_id: int) -> t.Any:
        query = f'SELECT {column} FROM "{self.schema}".calls WHERE "callId" = %s'  # noqa: S608
        row = self.db.execute(query, (call_id,)).fetchone()
        assert row is not None, f"no row for callId {call_id}"
        return row[0]

    def run(self, *flags: str, **env: str) -> e2e.MeltanoResult:
        return self.pipeline.run(TAP, TARGET, *flags, extra_env=env)


@pytest.fixture
def new_scenario(
    request: pytest.FixtureRequest,
    pg: tuple[e2e.PgServer, str],
    meltano: e2e.MeltanoHome,
    tmp_path: Path,
) -> Iterator[t.Callable[..., Scenario]]:
    """Per test: a fresh simulator, target schema and Meltano state."""
    import psycopg  # noqa: PLC0415

    server, dbname = pg
    schema = f"calls_{request.node.name.removeprefix('test_')[:40]}"
    with contextlib.ExitStack() as stack:

        def start(count: int, processing_at: tuple[int, ...] = ()) -> Scenario:
            calls = make_calls(count, seed=len(schema), processing_at=processing_at)
            sim = stack.enter_context(VoicegainSimulator(calls, token=e2e.TOKEN))
            db = stack.enter_context(
                psycopg.connect(server.conninfo(dbname), autocommit=True),
            )
            pipeline = e2e.Pipeline(
                meltano,
                tmp_path / "pipeline",
                env={**e2e.tap_env(sim.url), **server.target_env(dbname, schema)},
            )
            return Scenario(sim, pipeline, db, schema)

        yield start


def _say_run(
    request: pytest.FixtureRequest, what: str, result: e2e.MeltanoResult
) -> None:
    e2e.say(
        request, f"{what}: {result.records_emitted} records ({result.seconds:.0f} s)"
    )


def _utc(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text.replace("Z", "+00:00")).astimezone(
        dt.timezone.utc
    )


def _present(value: dict[str, t.Any] | None) -> dict[str, t.Any] | None:
    """An object without its null members (the target keeps what the tap sent)."""
    return None if value is None else {k: v for k, v in value.items() if v is not None}


# ----------------------------------------------------------------- tests


def test_every_exported_call_lands_once_with_its_values(request, new_scenario):
    scenario = new_scenario(1_500, processing_at=(1_400,))
    source = exported(scenario.sim.calls)
    assert len(source) == 1_400  # the export stops at the call still processing

    result = scenario.run()
    _say_run(request, "PostgreSQL first load", result)
    assert result.records_emitted == len(source)
    rows = scenario.rows(
        '"callId", "startTime", "endTime", "externalEndpoint", "internalEndpoint", '
        'notes, agent, queue, tags, markers, score, sentiment, "isCallResolved", '
        "project",
    )
    assert [r[0] for r in rows] == [
        int(c["callId"]) for c in source
    ]  # once each, no more
    with_newlines = 0
    for row, src in zip(rows, source, strict=True):
        (
            call_id,
            start,
            end,
            ani,
            dnis,
            notes,
            agent,
            queue,
            tags,
            markers,
            score,
            sentiment,
            resolved,
            project,
        ) = row
        # startTime lands as timestamp without time zone, holding the UTC time.
        assert start.replace(tzinfo=dt.timezone.utc) == _utc(src["startTime"]), call_id
        assert end.replace(tzinfo=dt.timezone.utc) == _utc(src["endTime"]), call_id
        assert ani == src["externalEndpoint"]  # '+1469...' and '0044...' stay text
        assert dnis == src["internalEndpoint"]
        assert notes == src.get("notes")  # new lines and quotes intact
        with_newlines += "\n" in (notes or "")
        source_agent = src.get("agent")
        assert _present(agent) == (
            None
            if not source_agent
            else _present(
                {
                    "id": source_agent.get("agentId"),
                    "email": source_agent.get("email"),
                    "name": source_agent.get("name"),
                    "userId": source_agent.get("userId"),
                    "channel": source_agent.get("channel"),
                }
            )
        ), call_id
        source_queue = src.get("queue")
        assert _present(queue) == (
            None
            if not source_queue
            else _present(
                {
                    "id": source_queue.get("queueId"),
                    "name": source_queue.get("name"),
                }
            )
        ), call_id
        assert tags == (src.get("tags") or None), call_id
        assert [_present(m) for m in markers or []] == [
            _present(m) for m in src.get("markers") or []
        ], call_id
        expected_score = src.get("score")
        assert score == (
            None if expected_score is None else Decimal(str(expected_score))
        )
        assert sentiment == Decimal(str(src["sentiment"]))
        assert resolved == src.get("callResolved")
        assert project == "default"
    assert with_newlines > 100  # the data does exercise multi-line notes
    assert any(r[3].startswith("0044") for r in rows)
    assert any(a and a["id"].startswith("0") for a in (r[6] for r in rows))


def test_columns_have_the_types_the_target_lays_out(request, new_scenario):
    scenario = new_scenario(300)
    scenario.run()
    columns = dict(
        scenario.db.execute(
            "SELECT column_name, data_type || ':' || udt_name"
            " FROM information_schema.columns"
            " WHERE table_schema = %s AND table_name = 'calls'",
            (scenario.schema,),
        ).fetchall()
    )
    expected = {
        "callId": "bigint:int8",
        "originatingCallId": "bigint:int8",
        "duration": "bigint:int8",
        # target-postgres 0.8.1 maps every JSON date-time to timestamp WITHOUT
        # time zone; the tap sends UTC, so the values are UTC (see the test above).
        "startTime": "timestamp without time zone:timestamp",
        "endTime": "timestamp without time zone:timestamp",
        "externalEndpoint": "text:text",
        "internalEndpoint": "text:text",
        "notes": "text:text",
        "sentiment": "numeric:numeric",
        "score": "numeric:numeric",
        "isCallResolved": "boolean:bool",
        # Objects become jsonb; arrays of strings text[], arrays of objects jsonb[].
        "agent": "jsonb:jsonb",
        "queue": "jsonb:jsonb",
        "_extra": "jsonb:jsonb",
        "tags": "ARRAY:_text",
        "markers": "ARRAY:_jsonb",
        "wordCloud": "ARRAY:_jsonb",
        "project": "text:text",
        # The _sdc_* columns of add_record_metadata.
        "_sdc_extracted_at": "timestamp without time zone:timestamp",
        "_sdc_batched_at": "timestamp without time zone:timestamp",
        "_sdc_deleted_at": "timestamp without time zone:timestamp",
    }
    assert {name: columns.get(name) for name in expected} == expected
    key = scenario.db.execute(
        "SELECT k.column_name FROM information_schema.table_constraints c"
        " JOIN information_schema.key_column_usage k"
        " USING (constraint_schema, constraint_name)"
        " WHERE c.table_schema = %s AND c.table_name = 'calls'"
        " AND c.constraint_type = 'PRIMARY KEY'",
        (scenario.schema,),
    ).fetchall()
    assert key == [("callId",)]


def test_second_run_moves_only_new_calls_and_a_resent_call_updates_its_row(
    request,
    new_scenario,
):
    scenario = new_scenario(1_200)
    sim = scenario.sim
    first = scenario.run()
    _say_run(request, "PostgreSQL run 1", first)
    assert first.records_emitted == 1_200
    loaded_at = dict(scenario.rows('"callId", "_sdc_batched_at"'))
    old_bookmark = e2e.bookmark(scenario.pipeline.state(TAP, TARGET))
    assert old_bookmark == int(sim.calls[-1]["callId"])

    added = sim.add_generated(60)
    second = scenario.run()
    _say_run(request, "PostgreSQL run 2 (60 new calls)", second)
    assert second.records_emitted == len(added)
    rows = dict(scenario.rows('"callId", "_sdc_batched_at"'))
    assert sorted(rows) == sorted(int(c["callId"]) for c in sim.calls)
    # Rows of the first run were not written again.
    assert {k: rows[k] for k in loaded_at} == loaded_at
    assert e2e.bookmark(scenario.pipeline.state(TAP, TARGET)) == int(
        added[-1]["callId"]
    )

    # A reviewer grades a call days later; the tap sends it again (state removed,
    # i.e. a full refresh) and its row is updated, not duplicated.
    graded = int(sim.calls[10]["callId"])
    before = scenario.db.execute(
        f'SELECT score FROM "{scenario.schema}".calls WHERE "callId" = %s',  # noqa: S608
        (graded,),
    ).fetchone()
    new_score = 12.5 if before != (Decimal("12.5"),) else 87.5
    sim.update_call(graded, score=new_score, reviewStatus="complete")
    third = scenario.run("--full-refresh")
    _say_run(request, "PostgreSQL run 3 (--full-refresh)", third)
    assert third.records_emitted == len(sim.calls)
    counts = scenario.db.execute(
        f'SELECT count(*), count(DISTINCT "callId") FROM "{scenario.schema}".calls',  # noqa: S608
    ).fetchone()
    assert counts == (len(sim.calls), len(sim.calls))
    score, status = scenario.db.execute(
        f'SELECT score, "reviewStatus" FROM "{scenario.schema}".calls '  # noqa: S608
        'WHERE "callId" = %s',
        (graded,),
    ).fetchone()
    assert (score, status) == (Decimal(str(new_score)), "complete")


def test_refresh_window_resends_a_regraded_call_and_upserts_it(request, new_scenario):
    scenario = new_scenario(800)
    sim = scenario.sim
    scenario.run()
    graded = int(sim.calls[-3]["callId"])
    old_score = scenario.value("score", graded)
    new_score = Decimal("3.25")
    assert old_score != new_score
    sim.update_call(graded, score=float(new_score), reviewStatus="complete")
    sim.add_generated(5)

    plain = scenario.run()
    _say_run(request, "PostgreSQL run without a refresh window", plain)
    assert plain.records_emitted == 5
    assert scenario.value("score", graded) == old_score  # forward-only: not seen

    # A window of years covers every simulated call, whatever it is measured from.
    result = scenario.run(TAP_VOICEGAIN_REFRESH_WINDOW_DAYS="36500")
    _say_run(request, "PostgreSQL run with refresh_window_days", result)
    assert result.records_emitted == len(sim.calls)  # each call re-sent once
    counts = scenario.db.execute(
        f'SELECT count(*), count(DISTINCT "callId") FROM "{scenario.schema}".calls',  # noqa: S608
    ).fetchone()
    assert counts == (len(sim.calls), len(sim.calls))
    assert scenario.value("score", graded) == new_score
    assert scenario.value('"reviewStatus"', graded) == "complete"
    # The refresh pass re-sends older calls but never moves the bookmark back.
    state = scenario.pipeline.state(TAP, TARGET)
    assert e2e.bookmark(state) == int(sim.calls[-1]["callId"])


def test_times_converted_to_timestamptz_stay_so_and_keep_the_instant(
    request,
    new_scenario,
):
    scenario = new_scenario(400)
    # README: a one-time ALTER gives the times a time zone; the target keeps it.
    scenario.run()
    scenario.db.execute(
        f'ALTER TABLE "{scenario.schema}".calls'
        ' ALTER COLUMN "startTime" TYPE timestamptz'
        " USING \"startTime\" AT TIME ZONE 'UTC',"
        ' ALTER COLUMN "endTime" TYPE timestamptz'
        " USING \"endTime\" AT TIME ZONE 'UTC'",
    )
    added = scenario.sim.add_generated(25)
    # The target's session (libpq reads PGTZ) in a zone far from UTC must not
    # shift the instants it writes.
    scenario.run(PGTZ="America/Chicago")
    kinds = scenario.db.execute(
        "SELECT column_name, data_type FROM information_schema.columns"
        " WHERE table_schema = %s AND table_name = 'calls'"
        " AND column_name IN ('startTime', 'endTime') ORDER BY 1",
        (scenario.schema,),
    ).fetchall()
    assert kinds == [
        ("endTime", "timestamp with time zone"),
        ("startTime", "timestamp with time zone"),
    ]
    rows = {r[0]: r[1:] for r in scenario.rows('"callId", "startTime", "endTime"')}
    assert len(rows) == len(scenario.sim.calls)
    for call in [*scenario.sim.calls[:5], *added]:
        expected = (_utc(call["startTime"]), _utc(call["endTime"]))
        assert rows[int(call["callId"])] == expected, call["callId"]


# ----------------------------------------------------------- transcripts

BOTH_STREAMS = '["calls.*", "transcripts.*"]'  # meltano.yml's select, extended


def test_an_unchanged_project_reads_no_transcript(request, new_scenario):
    scenario = new_scenario(200)
    result = scenario.run()
    _say_run(request, "PostgreSQL run of the project as it is", result)
    assert result.records_emitted == 200
    assert scenario.sim.requests_to("transcript") == []
    tables = scenario.db.execute(
        "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
        (scenario.schema,),
    ).fetchall()
    assert ("transcripts",) not in tables
    state = scenario.pipeline.state(TAP, TARGET)
    assert "transcripts" not in state["singer_state"]["bookmarks"]


def test_selected_transcripts_land_beside_their_calls_and_join_on_callid(
    request, new_scenario
):
    scenario = new_scenario(300)
    source = exported(scenario.sim.calls)
    result = scenario.run(TAP_VOICEGAIN__SELECT=BOTH_STREAMS)
    _say_run(request, "PostgreSQL run of calls and transcripts", result)
    wanted = with_transcript(source)
    assert len(scenario.sim.requests_to("transcript")) == len(wanted)
    assert result.records_emitted == len(source) + len(wanted)
    joined = scenario.db.execute(
        f'SELECT c."callId", c."progressPhase", t."saSessionId", t.text,'  # noqa: S608
        f' t."sectionCount", t."wordCount"'
        f' FROM "{scenario.schema}".calls c JOIN "{scenario.schema}".transcripts t'
        ' USING ("callId") ORDER BY "callId"',
    ).fetchall()
    assert [row[0] for row in joined] == [int(c["callId"]) for c in wanted]
    by_id = {int(c["callId"]): c for c in wanted}
    for call_id, phase, session, text, sections, words in joined:
        call = by_id[call_id]
        assert phase == "DONE"
        assert session == call["saSessionId"]
        assert text == expected_text(call)  # new lines, Zoë and niño intact
        assert sections == text.count("\n") + 1
        assert words > 0
    # Every call without a transcript row is an ERROR call or has no session.
    alone = scenario.db.execute(
        f'SELECT c."progressPhase", c."saSessionId" FROM "{scenario.schema}".calls c'  # noqa: S608
        f' LEFT JOIN "{scenario.schema}".transcripts t USING ("callId")'
        ' WHERE t."callId" IS NULL',
    ).fetchall()
    assert len(alone) == len(source) - len(wanted)
    assert all(phase == "ERROR" or not session for phase, session in alone)
    key = scenario.db.execute(
        "SELECT k.column_name FROM information_schema.table_constraints c"
        " JOIN information_schema.key_column_usage k"
        " USING (constraint_schema, constraint_name)"
        " WHERE c.table_schema = %s AND c.table_name = 'transcripts'"
        " AND c.constraint_type = 'PRIMARY KEY'",
        (scenario.schema,),
    ).fetchall()
    assert key == [("callId",)]

    # The next run asks only for the new calls' transcripts.
    asked = len(scenario.sim.requests_to("transcript"))
    added = scenario.sim.add_generated(20)
    scenario.run(TAP_VOICEGAIN__SELECT=BOTH_STREAMS)
    assert len(scenario.sim.requests_to("transcript")) - asked == len(
        with_transcript(added)
    )


# ------------------------------------------------------------------- segments

WITH_SEGMENTS = '["calls.*", "call_segments.*"]'


def test_selected_segments_land_beside_their_calls_and_join_on_callid(
    request, new_scenario
):
    from voicegain_sim.segments import make_segments  # noqa: PLC0415

    scenario = new_scenario(200)
    scenario.sim.segments = True
    source = exported(scenario.sim.calls)
    result = scenario.run(TAP_VOICEGAIN__SELECT=WITH_SEGMENTS)
    _say_run(request, "PostgreSQL run of calls and their segments", result)
    wanted = {int(c["callId"]): len(make_segments(c)) for c in source}
    assert result.records_emitted == len(source) + sum(wanted.values())
    joined = scenario.db.execute(
        f'SELECT c."callId", c."numSegments", count(s."segmentSeq"),'  # noqa: S608
        ' count(DISTINCT s.type), max(s."segmentSeq")'
        f' FROM "{scenario.schema}".calls c'
        f' LEFT JOIN "{scenario.schema}".call_segments s USING ("callId")'
        ' GROUP BY c."callId", c."numSegments" ORDER BY c."callId"',
    ).fetchall()
    assert {row[0]: row[2] for row in joined} == wanted
    assert all(row[2] == (row[1] or 0) and (row[4] or 0) == row[2] for row in joined)
    assert any(kinds >= 2 for _, _, _, kinds, _ in joined)  # bot then agent...
    key = scenario.db.execute(
        "SELECT k.column_name FROM information_schema.table_constraints c"
        " JOIN information_schema.key_column_usage k"
        " USING (constraint_schema, constraint_name)"
        " WHERE c.table_schema = %s AND c.table_name = 'call_segments'"
        " AND c.constraint_type = 'PRIMARY KEY' ORDER BY k.ordinal_position",
        (scenario.schema,),
    ).fetchall()
    assert key == [("contextId",), ("callId",), ("segmentSeq",)]
    # Per-agent reporting: an agent's segments with their QA score.
    per_agent = scenario.db.execute(
        f"SELECT s.agent->>'name', count(*), avg(s.score)"  # noqa: S608
        f' FROM "{scenario.schema}".call_segments s'
        " WHERE s.type = 'agent' GROUP BY 1",
    ).fetchall()
    assert per_agent
    assert all(name for name, _, _ in per_agent)
