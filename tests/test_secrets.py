"""No token or URL password reaches any output, whatever path an error takes.

Each case runs the tap as a process at DEBUG level and scans stdout and stderr.
"""

from __future__ import annotations

import json
import logging
import subprocess
import time

import pytest
import requests

from tap_voicegain.http.answers import api_message
from tap_voicegain.http.redact import Redaction, redact
from tests.helpers import FAST_RETRIES
from tests.tap_process import tap_command, tap_env, write_json
from voicegain_sim import VoicegainSimulator, make_calls, make_jwt

FAST = {**FAST_RETRIES, "max_retries": 2}
TOKEN = make_jwt(account_id="acc-9", context_id="ctx-9", exp=int(time.time()) + 7200)
SIGNATURE = TOKEN.split(".")[2]
PASSWORD = "hunter2-correct-horse"


def run(tmp_path, config, **env: str) -> subprocess.CompletedProcess[bytes]:
    path = write_json(tmp_path / "config.json", config)
    return subprocess.run(
        tap_command(path),
        capture_output=True,
        check=False,
        timeout=120,
        env=tap_env(TAP_VOICEGAIN_LOGLEVEL="DEBUG", **env),
    )


def assert_no_secret(done: subprocess.CompletedProcess[bytes]) -> bytes:
    out = done.stdout + done.stderr
    assert b"DEBUG" in out  # the scan covers the most verbose output
    assert TOKEN.encode() not in out
    assert SIGNATURE.encode() not in out
    assert PASSWORD.encode() not in out
    return out


@pytest.fixture
def api():
    with VoicegainSimulator(make_calls(60, seed=31), token=TOKEN) as sim:
        yield sim


def requests_made(sim: VoicegainSimulator) -> int:
    return len(sim.requests)


@pytest.mark.parametrize("end", ["\n", "\r\n", " \n", "\t"])
def test_a_token_ending_in_a_new_line_is_trimmed_and_never_shown(tmp_path, api, end):
    done = run(tmp_path, {"jwt_token": TOKEN + end, "api_url": api.url, **FAST})
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.count(b'"type":"RECORD"') == 60
    assert_no_secret(done)


def test_a_project_token_ending_in_a_new_line_is_trimmed(tmp_path, api):
    projects = [{"name": "sales", "jwt_token": TOKEN + "\n"}]
    done = run(tmp_path, {"projects": projects, "api_url": api.url, **FAST})
    assert done.returncode == 0, done.stderr[-2000:]
    assert_no_secret(done)


def test_a_token_from_the_environment_with_a_new_line_is_trimmed(tmp_path, api):
    path = write_json(tmp_path / "config.json", {"api_url": api.url, **FAST})
    done = subprocess.run(
        [*tap_command(path), "--config", "ENV"],
        capture_output=True,
        check=False,
        timeout=120,
        env=tap_env(
            TAP_VOICEGAIN_LOGLEVEL="DEBUG", TAP_VOICEGAIN_JWT_TOKEN=TOKEN + "\n"
        ),
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert_no_secret(done)


def test_a_token_with_a_new_line_inside_is_refused_without_showing_it(tmp_path, api):
    broken = TOKEN[:40] + "\n" + TOKEN[40:]
    done = run(tmp_path, {"jwt_token": broken, "api_url": api.url, **FAST})
    assert done.returncode != 0
    out = assert_no_secret(done)
    assert b"jwt_token: holds spaces or control characters" in out
    assert TOKEN[40:].encode() not in out
    assert requests_made(api) == 0


@pytest.mark.parametrize(
    "value",
    [
        {"jwt_token": [TOKEN]},
        {"jwt_token": {"value": TOKEN}},
        {"projects": [{"name": "a", "jwt_token": [TOKEN]}]},
        {"projects": [TOKEN]},
        {"projects": TOKEN},
    ],
)
def test_a_token_of_the_wrong_type_is_named_not_quoted(tmp_path, api, value):
    done = run(tmp_path, {**value, "api_url": api.url, **FAST})
    assert done.returncode != 0
    out = assert_no_secret(done)
    assert b"jwt_token" in out or b"projects" in out
    assert b"not shown" in out
    assert requests_made(api) == 0


@pytest.mark.parametrize(
    ("status", "as_text"),
    [(401, False), (403, True), (400, False), (400, True), (502, False), (503, True)],
)
def test_an_error_body_echoing_the_authorization_header_is_redacted(
    tmp_path, api, status, as_text
):
    api.inject("echo_auth", code=status, as_text=as_text)
    done = run(tmp_path, {"jwt_token": TOKEN, "api_url": api.url, **FAST})
    out = assert_no_secret(done)
    assert b"[Authorization: Bearer [redacted]]" in out
    if status < 500:
        assert done.returncode != 0
    else:
        assert done.returncode == 0


def test_a_password_in_the_api_url_is_refused_and_never_shown(tmp_path, api):
    url = api.url.replace("http://", f"http://etl:{PASSWORD}@")
    done = run(tmp_path, {"jwt_token": TOKEN, "api_url": url, **FAST})
    assert done.returncode != 0
    out = assert_no_secret(done)
    assert b"api_url" in out
    assert b"user name or password" in out
    assert b"***@127.0.0.1" in out
    assert requests_made(api) == 0


@pytest.mark.parametrize(
    "password",
    # Unencoded, each ends urlsplit's netloc early or makes it refuse the URL.
    ["p#" + PASSWORD, "p?" + PASSWORD, "p/" + PASSWORD, PASSWORD + "@[::1"],
)
def test_a_password_urlsplit_misreads_is_refused_and_never_shown(
    tmp_path, api, password
):
    url = api.url.replace("http://", f"http://etl:{password}@")
    done = run(tmp_path, {"jwt_token": TOKEN, "api_url": url, **FAST})
    assert done.returncode != 0
    out = assert_no_secret(done)
    assert password.encode() not in out
    assert b"must not hold a user name or password" in out
    assert requests_made(api) == 0


@pytest.mark.parametrize(
    "value",
    [
        {"jwt_token": 98765432109876543},
        {"jwt_token": ["abc\\def" + PASSWORD]},
        {"jwt_token": {"x": "abc\tdef" + PASSWORD}},
        {"projects": [{"name": "a", "jwt_token": 98765432109876543}]},
        {"projects": [{"name": "a", "jwt_token": ["abc\\" + PASSWORD]}]},
    ],
)
def test_a_token_redact_cannot_find_as_text_is_never_quoted(tmp_path, api, value):
    done = run(tmp_path, {**value, "api_url": api.url, **FAST})
    assert done.returncode != 0
    out = assert_no_secret(done)
    assert b"98765432109876543" not in out
    assert b"not shown" in out
    assert requests_made(api) == 0


def test_a_long_echoed_body_is_redacted_before_it_is_cut():
    # A cut at 300 characters must not leave the start of a token behind.
    errors_text = json.dumps({"trace": "x" * 280 + f" Bearer {TOKEN}"})
    response = requests.Response()
    response.status_code = 502
    response._content = errors_text.encode()
    owner = Owner()
    redaction = Redaction(owner)
    redaction.start({"jwt_token": TOKEN})
    try:
        message = api_message(response)
    finally:
        redaction.stop()
    assert TOKEN[:10] not in message.split("x" * 200)[-1]


class Owner:
    """Stands for the tap a redaction belongs to."""


def test_log_records_are_redacted_whatever_the_logger(caplog):
    factory = logging.getLogRecordFactory()
    redaction = Redaction(Owner())
    redaction.start({"jwt_token": TOKEN})
    with caplog.at_level(logging.DEBUG):
        logging.getLogger("urllib3.somewhere").debug("header %s", f"Bearer {TOKEN}")
        try:
            requests.Request("GET", "http://x", headers={"A": f"{TOKEN}\n"}).prepare()
        except ValueError:
            logging.getLogger("anything").exception("failed")
    assert caplog.records[0].getMessage() == "header Bearer [redacted]"
    text = caplog.text
    assert TOKEN not in text
    assert "header value: '[redacted]\\n'" in text  # requests quotes the value
    # Once the run ends, nothing of it stays in the process.
    redaction.stop()
    assert logging.getLogRecordFactory() is factory
    assert redact(f"Bearer {TOKEN}") == f"Bearer {TOKEN}"
