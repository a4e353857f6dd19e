"""Logging: JSON/console rendering, bound context, and redaction of personal data and secrets.

Why: invariant 5 says tokens and raw identifiers never appear in logs. Redaction is the last
line of defence when some code path logs an event, a response body or an exception message.
"""

from __future__ import annotations

import io
import json
import logging
from collections.abc import Iterator

import pytest
import structlog
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from consumer.observability.logging import configure_logging
from consumer.observability.redact import MASK, redact_value, scrub_text, sensitive_key
from consumer.sample import SampleGenerator


@pytest.fixture
def captured() -> Iterator[io.StringIO]:
    """JSON logging into a buffer; restores a plain configuration afterwards."""
    stream = io.StringIO()
    root_level = logging.getLogger().level
    configure_logging("json", "DEBUG", stream=stream)
    structlog.contextvars.clear_contextvars()
    yield stream
    structlog.contextvars.clear_contextvars()
    root = logging.getLogger()
    for handler in list(root.handlers):
        if handler.get_name() == "capi-relay":
            root.removeHandler(handler)
    structlog.reset_defaults()
    root.setLevel(root_level)


def lines(stream: io.StringIO) -> list[dict[str, object]]:
    """Every JSON line written so far."""
    return [json.loads(line) for line in stream.getvalue().splitlines() if line.strip()]


def test_json_lines_carry_level_logger_timestamp_and_context(captured: io.StringIO) -> None:
    """Bound contextvars (topic, partition, ...) appear on every line of the block."""
    log = structlog.get_logger("capi_relay.test")
    with structlog.contextvars.bound_contextvars(
        topic="events.purchase", partition=3, offset=42, platform="meta"
    ):
        log.info("delivered", event_id="ORD-1")
    log.info("outside")
    first, second = lines(captured)
    assert first["event"] == "delivered"
    assert first["level"] == "info"
    assert first["logger"] == "capi_relay.test"
    assert {
        "topic": "events.purchase",
        "partition": 3,
        "offset": 42,
        "platform": "meta",
    }.items() <= first.items()
    assert "timestamp" in first
    assert "topic" not in second


def test_level_filters(captured: io.StringIO) -> None:
    """Below the configured level nothing is written."""
    configure_logging("json", "WARNING", stream=captured)
    structlog.get_logger("x").info("quiet")
    logging.getLogger("lib").info("quiet too")
    structlog.get_logger("x").warning("loud")
    assert [line["event"] for line in lines(captured)] == ["loud"]


def test_unknown_level_is_refused() -> None:
    """A typo in log_level fails loudly at start."""
    with pytest.raises(ValueError, match="unknown log level"):
        configure_logging("json", "CHATTY", stream=io.StringIO())


def test_sensitive_keys_are_masked_at_any_depth(captured: io.StringIO) -> None:
    """Keys naming personal data or credentials lose their value, however deeply nested."""
    structlog.get_logger("x").info(
        "request",
        email="mary@example.com",
        user={"first_name": "Mary", "last_name": "Smith", "phone": "+1 650 555 0100", "city": "Austin"},
        headers={"Authorization": "Bearer abcdefghijkl", "developer-token": "devtok", "Content-Type": "json"},
        body=[{"access_token": "EAAsecret"}],
        token_env="CAPI_META_TOKEN",
    )
    (line,) = lines(captured)
    assert line["email"] == MASK
    assert line["user"] == {"first_name": MASK, "last_name": MASK, "phone": MASK, "city": "Austin"}
    assert line["headers"] == {"Authorization": MASK, "developer-token": MASK, "Content-Type": "json"}
    assert line["body"] == [{"access_token": MASK}]
    assert line["token_env"] == "CAPI_META_TOKEN"  # the name of a variable, not a secret


def test_values_that_look_like_personal_data_are_scrubbed(captured: io.StringIO) -> None:
    """Free text (messages, errors, exceptions, foreign loggers) is scanned too."""
    log = structlog.get_logger("x")
    log.warning("send failed for john.doe@gmail.com", error=ValueError("phone +44 20 7946 0123 invalid"))
    log.info(
        "retry", detail="Authorization: Bearer ya29.a0AfH6SMBx-secret", url="https://x/y?access_token=abc&x=1"
    )
    try:
        raise RuntimeError("cannot parse (512) 555-0199 for jane@example.org")
    except RuntimeError:
        log.exception("boom")
    logging.getLogger("aiohttp.client").error("foreign %s", "someone@example.net")
    text = captured.getvalue()
    for raw in (
        "john.doe@gmail.com",
        "+44 20 7946 0123",
        "ya29.a0AfH6SMBx",
        "access_token=abc",
        "(512) 555-0199",
        "jane@example.org",
        "someone@example.net",
    ):
        assert raw not in text
    assert "[email]" in text and "[phone]" in text
    assert "RuntimeError" in text  # the exception itself is still useful


def test_console_renderer(captured: io.StringIO) -> None:
    """Console output is plain text and redacted the same way."""
    configure_logging("console", "INFO", stream=captured)
    structlog.get_logger("x").info("hello", email="a@b.co", count=2)
    out = captured.getvalue()
    assert "hello" in out and "count=2" in out and "a@b.co" not in out
    with pytest.raises(json.JSONDecodeError):
        json.loads(out.splitlines()[-1])


def test_auto_picks_json_when_not_a_terminal(captured: io.StringIO) -> None:
    """In a container (no TTY) ``auto`` means JSON lines."""
    configure_logging("auto", "INFO", stream=captured)
    structlog.get_logger("x").info("hello")
    assert lines(captured)[-1]["event"] == "hello"


def test_hashes_and_ids_are_kept() -> None:
    """Already-hashed identifiers and ordinary ids stay readable for debugging."""
    digest = "a" * 64
    assert redact_value({"email_sha256": digest, "event_id": "ORD-7-1", "offset": 1234567890123}) == {
        "email_sha256": digest,
        "event_id": "ORD-7-1",
        "offset": 1234567890123,
    }
    assert not sensitive_key("token_env") and sensitive_key("X-Api-Key") and sensitive_key("sasl.password")


def test_sample_users_never_leak(captured: io.StringIO) -> None:
    """Whole realistic events (as a careless log call would pass them) leak nothing."""
    gen = SampleGenerator(seed=3)
    log = structlog.get_logger("x")
    raws: list[str] = []
    for event in gen.events(50, 1_800_000_000_000):
        user = event["user"]
        raws += [
            str(v).strip()
            for k, v in user.items()
            if k in ("email", "phone", "first_name", "last_name") and v
        ]
        log.info("mapped", payload=event)
        log.info(f"free text {user['email']} {user['phone']}")
    text = captured.getvalue()
    leaked = [raw for raw in raws if raw and len(raw) != 64 and raw in text]
    assert leaked == []


@settings(max_examples=60, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(email=st.emails(), key=st.sampled_from(["detail", "message", "error", "x"]))
def test_any_email_in_free_text_is_scrubbed(email: str, key: str) -> None:
    """Whatever RFC-valid address hypothesis invents, it does not survive scrubbing whole."""
    assert email not in scrub_text(f"{key}: <{email}> failed")


def test_scrub_does_not_eat_ordinary_values() -> None:
    """Offsets, timestamps, IP-free text and ISO dates are left alone."""
    text = "offset 1234567890123 at 2026-05-01T10:00:00Z partition 3 took 0.25s"
    assert scrub_text(text) == text


def test_sensitive_keys_inside_free_text() -> None:
    """A dict or query string formatted into a message still loses its sensitive values."""
    text = scrub_text(str({"user": {"first_name": "Chloé", "last_name": "O'Neil", "city": "Paris"}}))
    assert "Chloé" not in text and "O'Neil" not in text and "Paris" in text
    text = scrub_text("GET /e?access_token=abc123&name=Mary&ok=1 Authorization: Bearer abcdefgh")
    assert text == f"GET /e?access_token={MASK}&name={MASK}&ok=1 Authorization: {MASK} {MASK}"
    assert scrub_text("token_env=CAPI_META_TOKEN") == "token_env=CAPI_META_TOKEN"


def test_a_file_name_ending_in_a_sensitive_key_is_not_masked() -> None:
    """Meta's date-of-birth key is ``db``: ``store.db: cannot open`` once logged as
    ``store.db: [redacted] open``, hiding the reason of a start-up error."""
    assert scrub_text("click-ID store /var/lib/x/store.db: cannot open") == (
        "click-ID store /var/lib/x/store.db: cannot open"
    )
    assert scrub_text("db: 19900101") == "db: [redacted]"
