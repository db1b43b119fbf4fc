"""Bad settings are refused before any request, each naming the setting."""

from __future__ import annotations

import base64
import os
import subprocess
import time

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_voicegain.tap import TapVoicegain
from tests.conftest import TOKEN
from tests.singer_output import run_tap
from tests.tap_process import tap_command, tap_env, write_json
from voicegain_sim import make_jwt


@pytest.mark.parametrize(
    ("change", "names"),
    [
        ({"per_page": 0}, "per_page"),
        ({"per_page": 10001}, "per_page"),
        ({"format": "xml"}, "format"),
        ({"from_time": "yesterday"}, "from_time"),
        ({"to_time": "2024-13-45T00:00:00Z"}, "to_time"),
        (
            {"from_time": "2024-06-01T00:00:00Z", "to_time": "2024-05-01T00:00:00Z"},
            "from_time",
        ),
        ({"start_after_call_id": -1}, "start_after_call_id"),
        ({"csv_timezone": "Mars/Olympus_Mons"}, "csv_timezone"),
        ({"api_url": "http://api.voicegain.ai/v1"}, "api_url"),
        ({"api_url": "ftp://127.0.0.1/v1"}, "api_url"),
        ({"jwt_token": ""}, "jwt_token"),
        ({"jwt_token": None}, "jwt_token"),
        (
            {
                "jwt_token": None,
                "projects": [{"name": "a", "jwt_token": "t", "token": "x"}],
            },
            "'token' was unexpected",
        ),
    ],
)
def test_bad_settings_fail_before_any_request_naming_the_setting(
    sim, config, change, names
):
    bad = {**config, **change}
    if bad.get("jwt_token") is None:
        bad.pop("jwt_token")
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config=bad)
    text = str(caught.value) + " ".join(caught.value.errors)
    assert names in text
    assert sim.requests == []


def test_accepted_values_are_named(config):
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, "per_page": 0, "csv_timezone": "Nowhere"})
    text = " ".join(caught.value.errors)
    assert "minimum of 1 in config['per_page']" in text
    assert "IANA" in text


def test_loopback_http_is_allowed_and_https_anywhere(config):
    for url in (
        "http://127.0.0.1:9/v1",
        "http://localhost:9/v1",
        "http://[::1]:9/v1",
        "https://api.ascalon.ai/v1",
    ):
        TapVoicegain(config={**config, "api_url": url})


def test_an_expired_token_fails_before_the_first_request_with_its_expiry(sim, config):
    token = make_jwt(account_id="a", context_id="c", exp=1_700_000_000)
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, "jwt_token": token})
    text = " ".join(caught.value.errors)
    assert "expired at 2023-11-14T22:13:20Z" in text
    assert token not in text
    assert sim.requests == []


def test_a_token_expiring_within_the_hour_gets_a_warning(sim, config, caplog):
    token = make_jwt(account_id="a", context_id="c", exp=int(time.time()) + 600)
    with caplog.at_level("WARNING"):
        TapVoicegain(config={**config, "jwt_token": token})
    assert any("expires soon" in r.getMessage() for r in caplog.records)
    assert all(token not in r.getMessage() for r in caplog.records)


def test_a_token_that_is_not_a_jwt_is_sent_as_is(sim, config):
    # TOKEN is a plain string; the simulator only accepts it byte for byte.
    assert run_tap(config).records


def test_the_cli_exits_non_zero_with_the_message(tmp_path, sim, config):
    path = write_json(tmp_path / "config.json", {**config, "per_page": 0})
    done = subprocess.run(
        tap_command(path), capture_output=True, env=tap_env(), check=False
    )
    assert done.returncode != 0
    assert b"per_page" in done.stderr
    assert TOKEN.encode() not in done.stdout + done.stderr


def jwt_with(payload: str) -> str:
    """A JWT-shaped token whose payload is ``payload`` as written (any JSON)."""
    encoded = base64.urlsafe_b64encode(payload.encode()).decode().rstrip("=")
    return f"eyJhbGciOiJIUzI1NiJ9.{encoded}.c2lnbmF0dXJlLW9mLXRoZS10b2tlbg"


@pytest.mark.parametrize(
    ("change", "says"),
    [
        ({"request_timeout": 1e20}, "config['request_timeout']"),
        ({"refresh_window_days": 1_000_000}, "config['refresh_window_days']"),
        ({"projects": "sales"}, "config['projects']"),
        ({"projects": [5]}, "config['projects'][0]"),
        ({"jwt_token": 5}, "config['jwt_token']"),
        ({"api_url": 5}, "config['api_url']"),
        ({"csv_timezone": 5}, "config['csv_timezone']"),
        ({"from_time": 5}, "config['from_time']"),
        ({"allow_http": "yes"}, "config['allow_http']"),
        ({"ca_bundle": 5}, "config['ca_bundle']"),
        ({"max_requests_per_minute": 0}, "config['max_requests_per_minute']"),
        ({"max_requests_per_minute": "many"}, "config['max_requests_per_minute']"),
        ({"jwt_token": jwt_with('{"exp": NaN}')}, "exp claim (nan) is not a time"),
        ({"jwt_token": jwt_with('{"exp": Infinity}')}, "exp claim (inf) is not a time"),
        ({"jwt_token": jwt_with('{"exp": 1e300}')}, "exp claim (1e+300) is not a time"),
        ({"api_url": "https://api.voicegain.ai/v1?x=1"}, "must not have a query"),
        ({"api_url": "https://api.voicegain.ai/v1#top"}, "must not have a fragment"),
        ({"api_url": "https://api.voicegain.ai/v1/sa/call"}, "is the calls endpoint"),
        ({"api_url": "https://[::1/v1"}, "is not a URL"),
        (
            {"from_time": "2024-05-12T00:00:00"},
            "from_time: '2024-05-12T00:00:00' has no",
        ),
        (
            {"to_time": "2024-05-12T08:00:00.5"},
            "to_time: '2024-05-12T08:00:00.5' has no",
        ),
        ({"jwt_token": " \n"}, "jwt_token: missing or empty"),
    ],
)
def test_odd_values_get_a_named_error_never_a_crash(sim, config, change, says):
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, **change})
    assert says in " ".join(caught.value.errors)
    assert sim.requests == []


@pytest.mark.parametrize(
    "value",
    ["2024-05-12T00:00:00Z", "2024-05-12T00:00:00.250-05:00"],
)
def test_times_with_an_offset_are_accepted(config, value):
    TapVoicegain(config={**config, "from_time": value})


def test_a_non_text_contextid_claim_gets_a_warning(config, caplog):
    token = jwt_with('{"accountId": "a", "contextId": 42}')
    with caplog.at_level("WARNING"):
        TapVoicegain(config={**config, "jwt_token": token})
    warned = [
        r.getMessage() for r in caplog.records if "contextId claim" in r.getMessage()
    ]
    assert len(warned) == 1
    assert "is int" in warned[0]


@pytest.fixture
def env(monkeypatch):
    for name in list(os.environ):
        if name.startswith("TAP_VOICEGAIN_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(os.path.dirname(__file__))  # no stray .env is read  # noqa: PTH120
    return monkeypatch


def test_booleans_and_lists_are_read_from_the_environment(config, env):
    env.setenv("TAP_VOICEGAIN_STRICT_VALUES", "Yes")
    env.setenv("TAP_VOICEGAIN_KEEP_UNKNOWN_FIELDS", "off")
    env.setenv("TAP_VOICEGAIN_AGENT_IDS", '["a,1", "b"]')
    env.setenv("TAP_VOICEGAIN_QUEUE_IDS", "q1, q2")
    tap = TapVoicegain(config=config, parse_env_config=True)
    assert tap.config["strict_values"] is True
    assert tap.config["keep_unknown_fields"] is False
    assert tap.config["agent_ids"] == ["a,1", "b"]
    assert tap.config["queue_ids"] == ["q1", "q2"]


def test_number_settings_are_read_from_the_environment(config, env):
    env.setenv("TAP_VOICEGAIN_REQUEST_TIMEOUT", "30")
    env.setenv("TAP_VOICEGAIN_RETRY_WAIT_BASE", "0.5")
    env.setenv("TAP_VOICEGAIN_PER_PAGE", "25")
    tap = TapVoicegain(config=config, parse_env_config=True)
    assert tap.config["request_timeout"] == 30
    assert tap.config["retry_wait_base"] == 0.5
    assert tap.config["per_page"] == 25


@pytest.mark.parametrize("value", [",", "a,,b", "a,", " , "])
def test_a_list_from_the_environment_with_an_empty_item_is_refused(config, env, value):
    # Dropping the empty items could leave no filter at all: every call.
    env.setenv("TAP_VOICEGAIN_AGENT_IDS", value)
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config=config, parse_env_config=True)
    assert "agent_ids" in " ".join(caught.value.errors)


BAD_PROJECTS = '[{"name": "a", "jwt_token": "' + TOKEN


@pytest.mark.parametrize(
    ("variable", "value", "says"),
    [
        (
            "TAP_VOICEGAIN_PER_PAGE",
            "abc",
            "(setting per_page): 'abc' is not an integer",
        ),
        ("TAP_VOICEGAIN_REQUEST_TIMEOUT", "soon", "'soon' is not a number"),
        ("TAP_VOICEGAIN_REQUEST_TIMEOUT", "nan", "'nan' is not a number"),
        ("TAP_VOICEGAIN_PROJECTS", BAD_PROJECTS, "(setting projects): not JSON text"),
        ("TAP_VOICEGAIN_STRICT_VALUES", "maybe", "'maybe' is not true or false"),
        ("TAP_VOICEGAIN_ALLOW_HTTP", "enabled", "'enabled' is not true or false"),
        ("TAP_VOICEGAIN_AGENT_IDS", '["a"', "(setting agent_ids): not a JSON array"),
        ("TAP_VOICEGAIN_AGENT_IDS", "[1, 2]", "is not a JSON array of strings"),
    ],
)
def test_a_bad_environment_value_names_its_variable_and_setting(
    config, env, variable, value, says
):
    env.setenv(variable, value)
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config=config, parse_env_config=True)
    text = " ".join(caught.value.errors)
    assert f"{variable} " in text
    assert says in text
    assert TOKEN not in text


def test_env_config_via_the_cli_accepts_numbers(tmp_path, sim, config):
    path = write_json(tmp_path / "config.json", {"api_url": sim.url})
    done = subprocess.run(
        [*tap_command(path), "--config", "ENV"],
        capture_output=True,
        env=tap_env(
            TAP_VOICEGAIN_JWT_TOKEN=TOKEN,
            TAP_VOICEGAIN_REQUEST_TIMEOUT="30",
            TAP_VOICEGAIN_PER_PAGE="100",
        ),
        check=False,
        cwd=tmp_path,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count(b'"type":"RECORD"') == 250
