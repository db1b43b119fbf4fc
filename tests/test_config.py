"""Bad settings are refused before any request, each naming the setting."""

from __future__ import annotations

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
