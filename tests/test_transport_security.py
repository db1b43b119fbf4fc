"""Edge installs (http, a path prefix), TLS trust, redirects, slow answers, 408."""

from __future__ import annotations

import logging
import shutil
import subprocess

import pytest
from singer_sdk.exceptions import ConfigValidationError

from tap_voicegain import errors
from tap_voicegain.tap import TapVoicegain
from tests.api_front import ApiFront
from tests.conftest import TOKEN
from tests.helpers import FAST_RETRIES
from tests.oracle import exported
from tests.singer_output import run_tap

EDGE_HTTP = "http://10.137.16.7:31680/ascalon-web-api"  # never contacted
FAST = FAST_RETRIES


def all_ids(sim):
    return [int(c["callId"]) for c in exported(sim.calls)]


def test_plain_http_to_another_host_is_refused_naming_allow_http(sim, config):
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, "api_url": EDGE_HTTP})
    text = " ".join(caught.value.errors)
    assert "api_url" in text
    assert "allow_http: true" in text
    assert sim.requests == []


def test_allow_http_lets_an_edge_url_through_with_one_warning(config, caplog):
    with caplog.at_level(logging.WARNING):
        TapVoicegain(config={**config, "api_url": EDGE_HTTP, "allow_http": True})
    warned = [r.getMessage() for r in caplog.records if "unencrypted" in r.getMessage()]
    assert len(warned) == 1
    assert "10.137.16.7" in warned[0]
    assert "allow_http" in warned[0]


def test_loopback_http_needs_no_allow_http_and_gets_no_warning(config, caplog):
    with caplog.at_level(logging.WARNING):
        for url in (
            "http://127.1:9/v1",
            "http://2130706433:9/v1",
            "http://127.0.0.5/v1",
        ):
            TapVoicegain(config={**config, "api_url": url})
    assert not [r for r in caplog.records if "unencrypted" in r.getMessage()]


def test_an_api_url_with_a_path_prefix_reads_prefix_sa_call(sim, config):
    with ApiFront(sim.url, prefix="/ascalon-web-api") as api:
        run = run_tap({**config, "api_url": api.url})
    assert run.call_ids == all_ids(sim)
    assert set(api.paths) == {"/ascalon-web-api/sa/call"}


def test_a_redirect_to_plain_http_is_refused_before_it_is_followed(sim, config):
    with ApiFront(sim.url) as api:
        api.redirect_to = "http://10.137.16.7:31680/v1/sa/call?page=1"
        run = run_tap({**config, **FAST, "api_url": api.url}, expect_error=True)
    assert isinstance(run.error, errors.InsecureRedirectError)
    message = str(run.error)
    assert "http://10.137.16.7:31680/v1/sa/call" in message
    assert "not https" in message
    assert "allow_http" in message
    assert run.records == []


def test_a_trickling_answer_hits_the_deadline_and_is_retried(
    sim, config, monkeypatch, caplog
):
    # request_timeout 1 s, so the whole answer may take 1.5 s; a byte comes
    # every 0.2 s, which the per-read timeout alone would wait for forever.
    monkeypatch.setattr("tap_voicegain.settings.DEADLINE_PER_TIMEOUT", 1.5)
    sim.inject("trickle", after=1, seconds=0.2)
    with caplog.at_level(logging.WARNING):
        run = run_tap({**config, **FAST, "request_timeout": 1})
    assert run.call_ids == all_ids(sim)
    retried = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retried) == 1
    assert "RequestDeadlineError" in retried[0]
    assert "still arriving after 1.5 s" in retried[0]


@pytest.mark.parametrize("as_text", [False, True])
def test_an_error_body_cannot_forge_log_lines_or_reach_the_terminal(
    sim, config, as_text
):
    sim.inject("ansi_error", code=400, as_text=as_text)
    run = run_tap({**config, **FAST}, expect_error=True)
    message = str(run.error)
    assert "HTTP 400" in message
    assert not any(ch in message for ch in "\x1b\n\r\t")
    assert "\\x1b[" in message  # shown as an escape, not sent to the terminal
    assert "\\n" in message


def test_a_fractional_request_timeout_is_kept(config):
    stream = TapVoicegain(config={**config, "request_timeout": 1.9}).streams["calls"]
    assert stream.timeout == 1.9
    assert stream.requests_session.deadline == 19.0


def test_a_408_is_retried(sim, config, caplog):
    sim.inject("status", times=1, after=1, code=408)
    with caplog.at_level(logging.WARNING):
        run = run_tap({**config, **FAST})
    assert run.call_ids == all_ids(sim)
    retried = [r.getMessage() for r in caplog.records if "Retrying" in r.getMessage()]
    assert len(retried) == 1
    assert "HTTP 408" in retried[0]


@pytest.fixture(scope="module")
def certificate(tmp_path_factory):
    if shutil.which("openssl") is None:
        pytest.skip("openssl is needed to make a test certificate")
    folder = tmp_path_factory.mktemp("tls")
    cert, key = folder / "cert.pem", folder / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes",
            "-keyout", str(key), "-out", str(cert), "-days", "1",
            "-subj", "/CN=127.0.0.1", "-addext", "subjectAltName=IP:127.0.0.1",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return str(cert), str(key)


@pytest.fixture
def tls_api(sim, certificate):
    with ApiFront(sim.url, tls=certificate) as api:
        yield api


def test_an_untrusted_certificate_fails_at_once_naming_ca_bundle(
    config, tls_api, monkeypatch
):
    for name in ("REQUESTS_CA_BUNDLE", "CURL_CA_BUNDLE"):
        monkeypatch.delenv(name, raising=False)
    run = run_tap({**config, **FAST, "api_url": tls_api.url}, expect_error=True)
    assert isinstance(run.error, errors.CertificateError)
    assert "ca_bundle" in str(run.error)
    assert "REQUESTS_CA_BUNDLE" in str(run.error)
    assert tls_api.paths == []  # refused in the TLS handshake


def test_ca_bundle_trusts_a_tls_inspecting_proxys_certificate(
    sim, config, tls_api, certificate
):
    run = run_tap({**config, "api_url": tls_api.url, "ca_bundle": certificate[0]})
    assert run.call_ids == all_ids(sim)


def test_requests_ca_bundle_is_honoured(sim, config, tls_api, certificate, monkeypatch):
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", certificate[0])
    run = run_tap({**config, "api_url": tls_api.url})
    assert run.call_ids == all_ids(sim)


def test_a_missing_ca_bundle_is_refused_before_any_request(sim, config, tmp_path):
    missing = str(tmp_path / "nowhere.pem")
    with pytest.raises(ConfigValidationError) as caught:
        TapVoicegain(config={**config, "ca_bundle": missing})
    assert "ca_bundle" in " ".join(caught.value.errors)
    assert missing in " ".join(caught.value.errors)
    assert sim.requests == []
    assert TOKEN not in " ".join(caught.value.errors)
